"""Lateness of the fired reminders of one user (fired_at - remind_at): count, p50,
p99, max, read from GET /api/v1/notifications. Usage: lateness.py BASE TOKEN"""
import json
import sys
import time
import urllib.request
from datetime import datetime


def get(url, token):
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def at(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


base, token = sys.argv[1], sys.argv[2]
time.sleep(3)  # the last reminders of the burst are due 2 s after it
late, cursor = [], None
while True:
    page = get(f"{base}/api/v1/notifications?limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
    late += [(at(n["fired_at"]) - at(n["remind_at"])).total_seconds() for n in page["items"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
late.sort()
if not late:
    print("none fired")
else:
    pct = lambda p: late[min(len(late) - 1, int(p * len(late)))]
    print(f"{len(late)} fired, lateness p50 {pct(0.5) * 1000:.0f} ms, p99 {pct(0.99) * 1000:.0f} ms, max {late[-1] * 1000:.0f} ms")

"""The consumer groups' lag in /ready's JSON, one line: group=seconds/records ...
Usage: lag.py BASE"""
import json
import sys
import urllib.request

with urllib.request.urlopen(f"{sys.argv[1]}/ready") as r:
    groups = json.load(r).get("consumers", {})
parts = []
for group, lag in sorted(groups.items()):
    name = group.split("-")[0]
    parts.append(f"{name}={lag['seconds']:.2f}s/{lag['records']}")
print(" ".join(parts) or "no consumers")

"""The calendar feed read by parsers nobody here wrote: it parses with
`icalendar`, and expanding its RRULEs with `recurring-ical-events` gives the same
dates as the recurrence engine (`todo_events.next_occurrence`) for every
recurrence of the public chat examples, in time zones with and without DST
(northern and southern), including last-weekday rules. The VTIMEZONE it carries
is checked on its own against the tz database; rotated and revoked addresses are
404; ETags give 304."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import todo_events

from conftest import Server

EXAMPLES = Path(__file__).resolve().parents[2] / "todo-core" / "tests" / "data" / "chat-examples.jsonl"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]
#: How far ahead occurrences are compared: more than a year, so every rule
#: crosses both DST changes of the year.
WINDOW = timedelta(days=400)


def recurrences() -> list[dict]:
    """The chat examples that add a recurring task (their arguments)."""
    out = []
    for line in EXAMPLES.read_text().splitlines():
        ex = json.loads(line)
        if ex.get("intent") == "add_task" and ex["args"].get("recurrence"):
            out.append(ex["args"])
    assert len(out) >= 8, f"{EXAMPLES}: {len(out)} recurring examples"
    return out


def local_task(args: dict, tz: str) -> dict:
    """The example's task for a user in `tz`: the same wall time there (an
    example without a date gets the all-day date 2026-11-26)."""
    body = {"title": args["title"], "recurrence": args["recurrence"]}
    if args.get("due_at"):
        wall = datetime.fromisoformat(args["due_at"].replace("Z", "+00:00")).replace(tzinfo=None)
        body["due_at"] = wall.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        body["all_day"] = bool(args.get("all_day"))
    else:
        body["due_at"] = datetime(2026, 11, 26, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        body["all_day"] = True
    return body


def engine_dates(task: dict, tz: str, until: datetime) -> list:
    """The occurrences the recurrence engine gives, from the task's due date on:
    each the one after the previous, completed on time."""
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    out = []
    while due is not None and due < until:
        out.append(due.astimezone(ZoneInfo(tz)).date() if task["all_day"] else due)
        due = todo_events.next_occurrence(
            task["recurrence"], due, completed_at=due, all_day=task["all_day"], tz=tz
        )
    return out


def feed_dates(cal: icalendar.Calendar, uid: str, start: datetime, until: datetime) -> list:
    """The occurrences of event `uid` that recurring-ical-events expands."""
    out = []
    for ev in recurring_ical_events.of(cal).between(start - timedelta(days=1), until):
        if str(ev["UID"]) != uid:
            continue
        d = ev["DTSTART"].dt
        out.append(d if not isinstance(d, datetime) else d.astimezone(timezone.utc))
    out.sort(key=lambda d: d if isinstance(d, datetime) else datetime(d.year, d.month, d.day, tzinfo=timezone.utc))
    return out


def fetch(server: Server, url: str, headers: dict | None = None):
    path = url[url.index("/api/"):]
    return server.call("GET", path, headers=headers)


def test_feed_rrules_expand_to_the_engines_dates(server: Server) -> None:
    compared = series = dst_series = 0
    for tz in ZONES:
        session = server.register(tz)
        tasks = {}
        for args in recurrences():
            a = server.call("POST", "/api/v1/tasks", session, local_task(args, tz))
            assert a.status == 201, a.body
            tasks[f"{a.body['id']}@todo-events"] = a.body
        made = server.call("POST", "/api/v1/calendar", session)
        assert made.status == 201, made.body
        feed = fetch(server, made.body["url"])
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
        text = feed.body
        variants = {"TZID as published": icalendar.Calendar.from_ical(text)}
        if tz != "UTC":
            # The same feed with the zone renamed, so that parsers cannot look the
            # name up and must use the VTIMEZONE it carries (as Outlook does).
            # (A name of its own per zone: icalendar keeps the zones it builds by name.)
            own = "Custom-" + tz.replace("/", "-")
            renamed = text.replace(f"TZID:{tz}", f"TZID:{own}").replace(f"TZID={tz}", f"TZID={own}")
            variants["its own VTIMEZONE"] = icalendar.Calendar.from_ical(renamed)
        for how, cal in variants.items():
            events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
            assert set(events) == set(tasks), (tz, how)
            for uid, task in tasks.items():
                start = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
                until = start + WINDOW
                want = engine_dates(task, tz, until)
                got = feed_dates(cal, uid, start, until)
                if got != want:
                    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
                    raise AssertionError(
                        f"{tz} ({how}) {task['title']} {task['recurrence']}: occurrence {i} differs: "
                        f"feed {got[i:i + 3]} engine {want[i:i + 3]} ({len(got)} vs {len(want)} dates)"
                    )
                compared += len(want)
                series += 1
                timed = [d for d in want if isinstance(d, datetime)]
                if len({d.astimezone(ZoneInfo(tz)).utcoffset() for d in timed}) > 1:
                    dst_series += 1
        assert "RRULE:FREQ=MONTHLY;BYDAY=-1FR" in text.replace("\r\n ", "")
    assert series == 8 * (len(ZONES) * 2 - 1)
    assert dst_series >= 6, f"series whose dates cross a DST change: {dst_series}"
    print(f"\ncalendar: {series} series, {compared} occurrences equal to next_occurrence, "
          f"{dst_series} series across DST changes")


def test_the_vtimezone_matches_the_tz_database(server: Server) -> None:
    """Each VTIMEZONE, turned into a tzinfo by icalendar itself (not looked up by
    name), gives the tz database's offset at every hour for 15 years: the listed
    transitions and the yearly rules that continue them."""
    checked = 0
    for tz in ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo"]:
        session = server.register(tz)
        server.call("POST", "/api/v1/tasks", session, {"title": "x", "due_at": "2026-12-01T09:00:00Z"})
        feed = fetch(server, server.call("POST", "/api/v1/calendar", session).body["url"]).body
        [vtz] = icalendar.Calendar.from_ical(feed).walk("VTIMEZONE")
        ours = vtz.to_tz(lookup_tzid=False)
        real = ZoneInfo(tz)
        t = datetime(2025, 6, 1, tzinfo=timezone.utc)
        while t < datetime(2040, 1, 1, tzinfo=timezone.utc):
            assert t.astimezone(ours).utcoffset() == t.astimezone(real).utcoffset(), (tz, t)
            t += timedelta(hours=1)
            checked += 1
    print(f"\nvtimezone: {checked} hourly offsets equal to the tz database")


def test_rotated_and_revoked_addresses_are_404_and_etags(server: Server) -> None:
    session = server.register("Europe/Berlin")
    server.call("POST", "/api/v1/tasks", session, {"title": "dentist", "due_at": "2026-12-03T14:00:00Z",
                                                   "remind_at": "2026-12-03T13:30:00Z"})
    first = server.call("POST", "/api/v1/calendar", session).body["url"]
    a = fetch(server, first)
    assert a.status == 200
    cal = icalendar.Calendar.from_ical(a.body)
    [ev] = cal.walk("VEVENT")
    assert str(ev["SUMMARY"]) == "dentist" and ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    [alarm] = ev.walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(minutes=-30)
    etag = a.headers["etag"]
    assert fetch(server, first, {"If-None-Match": etag}).status == 304
    rotated = server.call("POST", "/api/v1/calendar/rotate", session).body["url"]
    assert rotated != first
    assert fetch(server, first).status == 404
    assert fetch(server, rotated).status == 200
    assert server.call("DELETE", "/api/v1/calendar", session).status == 204
    assert fetch(server, rotated).status == 404
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1/calendar/[A-Za-z0-9_-]{43}\.ics", rotated), rotated

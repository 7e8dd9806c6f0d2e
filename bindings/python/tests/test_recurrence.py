"""The recurrence engine: validate_rrule, next_occurrence, first_occurrence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import todo_events as te

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def test_validate_rrule_canonicalises():
    assert te.validate_rrule("RRULE:freq=weekly;byday=MO") == "FREQ=WEEKLY;BYDAY=MO"
    assert te.validate_rrule(" FREQ=MONTHLY;BYDAY=-1FR; ") == "FREQ=MONTHLY;BYDAY=-1FR"
    assert te.validate_rrule("FREQ=MONTHLY;BYDAY=1MO") == "FREQ=MONTHLY;BYDAY=1MO"


@pytest.mark.parametrize(
    "bad",
    ["", "FREQ=SOMETIMES", "BYDAY=MO", "FREQ=DAILY;COUNT=3", "FREQ=MINUTELY", "FREQ=WEEKLY;BYDAY=XX"],
)
def test_validate_rrule_rejects(bad):
    with pytest.raises(te.ValidationError) as e:
        te.validate_rrule(bad)
    assert e.value.field == "recurrence"


def test_every_day_at_nine_in_berlin_across_the_spring_dst_change():
    # Europe/Berlin springs forward on 2026-03-29: 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z.
    due = datetime(2026, 3, 27, 9, 0, tzinfo=BERLIN)
    seen = []
    for _ in range(4):
        due = te.next_occurrence("FREQ=DAILY", due, completed_at=due, tz="Europe/Berlin")
        assert due is not None and due.tzinfo is not None and due.utcoffset() == timedelta(0)
        seen.append(due)
    assert seen == [
        utc("2026-03-28T08:00:00Z"),
        utc("2026-03-29T07:00:00Z"),
        utc("2026-03-30T07:00:00Z"),
        utc("2026-03-31T07:00:00Z"),
    ]
    assert all(d.astimezone(BERLIN).hour == 9 for d in seen)
    # The same through RFC 3339 text and a ZoneInfo.
    assert (
        te.next_occurrence("FREQ=DAILY", "2026-03-28T08:00:00Z", completed_at="2026-03-28T08:00:00Z", tz=BERLIN)
        == seen[1]
    )


def test_and_back_in_autumn():
    due = utc("2026-10-24T07:00:00Z")
    assert te.next_occurrence("FREQ=DAILY", due, completed_at=due, tz="Europe/Berlin") == utc("2026-10-25T08:00:00Z")


def test_last_friday_of_the_month():
    due = utc("2026-11-27T00:00:00Z")
    seen = []
    for _ in range(3):
        due = te.next_occurrence(
            "FREQ=MONTHLY;BYDAY=-1FR", due, all_day=True, completed_at="2026-11-26T10:00:00Z"
        )
        seen.append(due)
    assert seen == [utc("2026-12-25T00:00:00Z"), utc("2027-01-29T00:00:00Z"), utc("2027-02-26T00:00:00Z")]
    assert all(d.weekday() == 4 for d in seen)


def test_repeat_from_completion_keeps_the_time_of_day():
    got = te.next_occurrence(
        "FREQ=DAILY;INTERVAL=3",
        "2026-11-20T09:00:00Z",
        repeat_from="completion",
        completed_at="2026-11-26T15:00:00Z",
    )
    assert got == utc("2026-11-29T09:00:00Z")


def test_overdue_skips_missed_occurrences_and_without_due_date():
    got = te.next_occurrence("FREQ=DAILY", "2026-11-20T09:00:00Z", completed_at="2026-11-26T10:00:00Z")
    assert got == utc("2026-11-27T09:00:00Z")
    got = te.next_occurrence("FREQ=WEEKLY;INTERVAL=2", None, completed_at="2026-11-26T15:00:00Z")
    assert got == utc("2026-12-10T00:00:00Z")


def test_an_ended_rule_has_no_next_occurrence():
    due = "2026-11-26T09:00:00Z"
    assert te.next_occurrence("FREQ=DAILY;UNTIL=20261127T000000Z", due, completed_at=due) is None


def test_first_occurrence_is_inclusive():
    rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    start = "2026-11-26T09:30:00Z"
    assert te.first_occurrence(rule, start) == utc(start)
    assert te.first_occurrence(rule, start, "2026-11-26T09:31:00Z") == utc("2026-11-27T09:30:00Z")
    # Saturday 09:30 Berlin: the next weekday at 09:30 Berlin time.
    sat = datetime(2026, 11, 28, 9, 30, tzinfo=BERLIN)
    assert te.first_occurrence(rule, sat, tz=BERLIN) == datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)


def test_bad_arguments():
    due = "2026-11-26T09:00:00Z"
    with pytest.raises(te.ValidationError) as e:
        te.next_occurrence("FREQ=DAILY", due, completed_at=due, repeat_from="whenever")
    assert e.value.field == "repeat_from"
    with pytest.raises(te.ValidationError):
        te.next_occurrence("FREQ=DAILY", datetime(2026, 11, 26, 9), completed_at=due)
    with pytest.raises(te.ValidationError):
        te.next_occurrence("FREQ=DAILY", due, completed_at=due, tz="Nowhere/Special")
    with pytest.raises(TypeError):
        te.next_occurrence("FREQ=DAILY", due)  # completed_at is required

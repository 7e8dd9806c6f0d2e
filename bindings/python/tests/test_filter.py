"""The filter language from Python: parsing, errors with spans, and matching task
dicts at an instant in a time zone (the same evaluator as the server's)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

import todo_events as te
from conftest import task_json

NOW = "2026-11-26T09:00:00Z"  # a Thursday


def test_parse_and_canonical_text() -> None:
    f = te.Filter.parse("( today or overdue ) and #Work and not p3")
    assert str(f) == "(today | overdue) & #work & !p3"
    assert f.source == "( today or overdue ) and #Work and not p3"
    assert f.lists == ["( today or overdue ) and #Work and not p3"]
    assert te.Filter.parse(str(f)) == te.Filter.parse("(today | overdue) & #work & !p3")
    assert te.Filter.parse("today, no date").lists == ["today", "no date"]
    assert repr(f) == 'Filter.parse("(today | overdue) & #work & !p3")'


def test_errors_carry_a_span() -> None:
    with pytest.raises(te.FilterError) as e:
        te.Filter.parse("due before: ")
    assert str(e.value) == "expected a date after 'due before:' at 12"
    assert e.value.span == (12, 12)
    assert e.value.field == "filter"
    assert isinstance(e.value, te.ValidationError)
    with pytest.raises(te.FilterError) as e:
        te.Filter.parse("#wörk")
    assert e.value.span == (1, 5)


def test_matches_the_api_task_shape() -> None:
    f = te.Filter.parse("(today | overdue) & #home & !p3")
    due_today = task_json(due_at="2026-11-26T17:00:00Z")
    assert f.matches(due_today, now=NOW)
    assert not f.matches(task_json(due_at="2026-11-28T17:00:00Z"), now=NOW)
    assert not f.matches(task_json(due_at="2026-11-26T17:00:00Z", priority="low"), now=NOW)
    assert f.matches(task_json(due_at="2026-11-20T17:00:00Z"), now=NOW), "overdue"
    assert not f.matches(task_json(due_at="2026-11-20T17:00:00Z", status="completed"), now=NOW), "pending by default"


def test_partial_dicts_and_datetimes() -> None:
    assert te.Filter.parse("p1").matches({"title": "x", "priority": "high"}, now=NOW)
    assert te.Filter.parse("no date & no tags").matches({"title": "x"}, now=NOW)
    assert te.Filter.parse("!#work").matches({"title": "x"}, now=NOW), "untagged tasks are not #work"
    aware = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)
    assert te.Filter.parse("today").matches({"title": "x", "due_at": aware}, now=NOW)
    assert te.Filter.parse("search: BOSS").matches({"title": "x", "description": "for the boss"}, now=NOW)
    with pytest.raises(te.ValidationError):
        te.Filter.parse("p1").matches({"title": "x", "priority": "extreme"}, now=NOW)
    with pytest.raises(te.ValidationError):
        te.Filter.parse("p1").matches({"priority": "high"}, now=NOW)
    with pytest.raises(te.ValidationError):
        te.Filter.parse("p1").matches(["not", "a", "dict"], now=NOW)  # type: ignore[arg-type]


def test_today_is_the_users_day() -> None:
    # 23:30 UTC on Wednesday is already Thursday in Berlin.
    late = {"title": "x", "due_at": "2026-11-25T23:30:00Z"}
    f = te.Filter.parse("today")
    assert f.matches(late, now=NOW, tz="Europe/Berlin")
    assert f.matches(late, now=NOW, tz=ZoneInfo("Europe/Berlin"))
    assert not f.matches(late, now=NOW, tz="UTC")
    # Berlin's 23-hour day (2026-03-29): 00:30 local on the 30th is tomorrow.
    assert te.Filter.parse("tomorrow").matches(
        {"title": "x", "due_at": "2026-03-29T22:30:00Z"}, now="2026-03-29T10:00:00Z", tz="Europe/Berlin"
    )


def test_relative_dates_follow_now() -> None:
    f = te.Filter.parse("due before: +4 hours")
    t = {"title": "x", "due_at": "2026-11-26T12:00:00Z"}
    assert f.matches(t, now=NOW)
    assert not f.matches(t, now="2026-11-26T07:00:00Z")

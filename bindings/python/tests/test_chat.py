"""parse_command against the public examples, with the comparison the Rust
test (todo-core/tests/chat_examples.rs) and shared/tools/chat-eval use:
datetimes as instants, RRULEs as key/value sets (ignoring BYHOUR, BYMINUTE,
BYSECOND, WKST and INTERVAL=1), tags as sets, text case-insensitively without
surrounding punctuation, and only the keys present in the expected arguments."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import pytest

import todo_events as te
from conftest import ROOT

EXAMPLES = ROOT / "todo-core" / "tests" / "data" / "chat-examples.jsonl"


def load_examples() -> List[Dict[str, Any]]:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CASES = load_examples()


def norm_dt(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return v
    return v


def norm_rrule(v: str) -> Dict[str, str]:
    s = v.strip()
    if s.upper().startswith("RRULE:"):
        s = s[6:]
    d: Dict[str, str] = {}
    for part in s.split(";"):
        if "=" in part:
            k, val = part.split("=", 1)
            d[k.strip().upper()] = val.strip().upper()
    for k in ("BYHOUR", "BYMINUTE", "BYSECOND", "WKST"):
        d.pop(k, None)
    if d.get("INTERVAL") == "1":
        del d["INTERVAL"]
    if "BYDAY" in d:
        d["BYDAY"] = ",".join(sorted(set(d["BYDAY"].split(","))))
    return d


def norm_text(v: Any) -> Any:
    return v.strip().strip(".,!?;:").lower() if isinstance(v, str) else v


def tag_set(v: Any) -> Optional[set]:
    if not isinstance(v, list):
        return None
    return {t.lower().lstrip("#") if isinstance(t, str) else json.dumps(t).lower() for t in v}


def same(key: str, want: Any, got: Any) -> bool:
    if key in ("due_at", "remind_at", "due_after", "due_before"):
        return norm_dt(want) == norm_dt(got)
    if key == "recurrence":
        if isinstance(want, str) and isinstance(got, str):
            return norm_rrule(want) == norm_rrule(got)
        return want == got
    if key in ("tags", "tags_add"):
        return isinstance(got, list) and tag_set(want) == tag_set(got)
    if key == "ref":
        if not isinstance(want, dict) or not isinstance(got, dict):
            return False
        return {k: norm_text(v) for k, v in want.items()} == {k: norm_text(v) for k, v in got.items()}
    if isinstance(want, str):
        return norm_text(want) == norm_text(got)
    return want == got


def mismatches(case: Dict[str, Any]) -> List[str]:
    got = te.parse_command(case["message"], now=case["now"], tz=case["tz"])
    if got["intent"] != case["intent"]:
        return ["intent"]
    args = got["args"]
    return [k for k, want in case["args"].items() if not same(k, want, args.get(k))]


def test_all_54_public_examples_are_read():
    assert len(CASES) == 54


@pytest.mark.parametrize("case", CASES, ids=[f"line{i + 1}" for i in range(len(CASES))])
def test_public_example(case):
    bad = mismatches(case)
    got = te.parse_command(case["message"], now=case["now"], tz=case["tz"])
    assert not bad, f"{case['message']!r}: {bad}\n  want {case['intent']} {case['args']}\n  got  {got}"


def test_output_is_exactly_todo_parse():
    got = te.parse_command("buy milk tomorrow at 5pm #groceries", now="2026-11-26T09:00:00Z")
    assert json.dumps(got, separators=(",", ":")) == (
        '{"intent":"add_task","args":{"title":"buy milk","due_at":"2026-11-27T17:00:00Z",'
        '"all_day":false,"tags":["groceries"]}}'
    )


def test_now_as_datetime_and_zoneinfo():
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    by_text = te.parse_command("call mom tomorrow at 9am", now="2026-11-26T09:00:00Z", tz="Europe/Berlin")
    by_objects = te.parse_command("call mom tomorrow at 9am", now=now, tz=ZoneInfo("Europe/Berlin"))
    assert by_text == by_objects
    assert by_text["args"]["due_at"] == "2026-11-27T08:00:00Z"


def test_now_defaults_to_the_current_time():
    got = te.parse_command("add water the plants")
    assert got == {"intent": "add_task", "args": {"title": "water the plants"}}


def test_unknown_and_bad_arguments():
    assert te.parse_command("delete everything", now="2026-11-26T09:00:00Z") == {"intent": "unknown", "args": {}}
    with pytest.raises(te.ValidationError) as e:
        te.parse_command("add x", tz="Mars/Olympus")
    assert e.value.field == "tz"
    with pytest.raises(te.ValidationError):
        te.parse_command("add x", now="yesterday")
    with pytest.raises(te.ValidationError):
        te.parse_command("add x", now=datetime(2026, 11, 26, 9, 0))

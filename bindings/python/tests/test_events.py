"""CloudEvent, EventType, Topic and EventFactory."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone

import pytest

import todo_events as te
from conftest import TASK_ID, USER_ID, task_json


def created(task=None) -> te.CloudEvent:
    data = {
        "event_type": "created",
        "task_id": TASK_ID,
        "task_data": task or task_json(),
        "user_id": USER_ID,
        "timestamp": "2026-11-26T09:00:00Z",
    }
    return te.CloudEvent.new("/todo/chat-api", te.EventType.TASK_CREATED, TASK_ID, USER_ID, data)


def test_catalog_types_and_topics():
    assert [t.value for t in te.EventType.all()] == [
        "todo.task.created.v1",
        "todo.task.updated.v1",
        "todo.task.completed.v1",
        "todo.task.deleted.v1",
        "todo.reminder.scheduled.v1",
        "todo.reminder.cancelled.v1",
        "todo.task.changed.v1",
        "todo.reminder.due.v1",
    ]
    assert te.EventType.TASK_COMPLETED.topic == te.Topic.TASK_EVENTS
    assert te.EventType.REMINDER_SCHEDULED.topic == te.Topic.REMINDERS
    assert te.EventType.REMINDER_DUE.topic == te.Topic.TASK_UPDATES
    assert str(te.EventType.TASK_CHANGED) == "todo.task.changed.v1"
    assert te.EventType.parse("todo.task.deleted.v1") == te.EventType.TASK_DELETED
    assert [t.value for t in te.Topic.all()] == ["task-events", "reminders", "task-updates"]
    assert te.Topic.from_name("reminders") == te.Topic.REMINDERS
    assert te.Topic.TASK_UPDATES.dlq == "task-updates.dlq"
    assert len({te.Topic.REMINDERS, te.Topic.REMINDERS, te.Topic.TASK_EVENTS}) == 2
    with pytest.raises(te.ValidationError):
        te.Topic.from_name("tasks")


def test_new_event_round_trips_through_json():
    ev = created()
    assert ev.specversion == te.SPEC_VERSION == "1.0"
    assert ev.type == "todo.task.created.v1"
    assert ev.event_type == te.EventType.TASK_CREATED
    assert ev.topic == te.Topic.TASK_EVENTS
    assert ev.subject == TASK_ID
    assert ev.userid == USER_ID
    assert ev.source == "/todo/chat-api"
    assert ev.datacontenttype == "application/json"
    assert ev.time.tzinfo is not None and ev.time.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - ev.time) < timedelta(seconds=10)

    text = ev.to_json()
    doc = json.loads(text)
    assert doc["type"] == "todo.task.created.v1" and doc["userid"] == USER_ID
    assert te.CloudEvent.from_json(text) == ev
    assert te.CloudEvent.from_json(ev.to_bytes()) == ev
    assert te.CloudEvent.from_json(bytearray(ev.to_bytes())) == ev
    assert pickle.loads(pickle.dumps(ev)) == ev
    assert ev.to_dict() == doc
    assert ev.data["task_data"]["title"] == "pay rent"
    assert "todo.task.created.v1" in repr(ev)


def test_constructor_takes_every_attribute():
    when = datetime(2026, 11, 26, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    ev = te.CloudEvent(
        "/t",
        "todo.task.changed.v1",
        USER_ID,
        {"anything": [1, 2.5, None, True, "x"]},
        subject="s",
        id="018f3a2e-7c4b-7d2a-9a51-000000000001",
        time=when,
    )
    assert ev.specversion == te.SPEC_VERSION and ev.datacontenttype == "application/json"
    assert ev.id == "018f3a2e-7c4b-7d2a-9a51-000000000001"
    assert ev.time == datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    assert ev.data == {"anything": [1, 2.5, None, True, "x"]}
    assert te.CloudEvent.from_json(ev.to_json()) == ev
    # The envelope is fine, the payload is not a task update.
    with pytest.raises(te.EventError) as e:
        ev.validate()
    assert e.value.kind == "invalid_data"
    # Equal events compare equal; a different id does not.
    assert ev == te.CloudEvent.from_json(ev.to_json())
    assert ev != te.CloudEvent("/t", "todo.task.changed.v1", USER_ID, ev.data, subject="s", time=when)


def test_decode_gives_the_typed_payload():
    payload = created().decode()
    assert payload["event_type"] == "created"
    assert payload["task_id"] == TASK_ID
    assert payload["task_data"]["tags"] == ["home"]
    assert payload["timestamp"] == "2026-11-26T09:00:00Z"
    assert "changes" not in payload


def test_bad_specversion():
    doc = json.loads(created().to_json())
    doc["specversion"] = "0.3"
    with pytest.raises(te.EventError, match="specversion") as e:
        te.CloudEvent.from_json(json.dumps(doc))
    assert e.value.kind == "specversion"
    assert isinstance(e.value, te.TodoEventsError)
    # Built by hand, validate() finds it.
    ev = te.CloudEvent("/t", te.EventType.TASK_CHANGED, USER_ID, specversion="0.3")
    with pytest.raises(te.EventError) as e:
        ev.validate()
    assert e.value.kind == "specversion"


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"[1, 2]", b'{"specversion": "1.0"}', b"\xff\xfe", '{"type": 1}'],
)
def test_unparseable(payload):
    with pytest.raises(te.EventError) as e:
        te.CloudEvent.from_json(payload)
    assert e.value.kind == "malformed"


def test_envelope_rules():
    doc = json.loads(created().to_json())
    for key, value in [("source", ""), ("type", ""), ("datacontenttype", "text/plain")]:
        bad = dict(doc, **{key: value})
        with pytest.raises(te.EventError) as e:
            te.CloudEvent.from_json(json.dumps(bad))
        assert e.value.kind == "malformed", key
    for key in ["id", "userid", "time"]:
        bad = dict(doc, **{key: "nope"})
        with pytest.raises(te.EventError):
            te.CloudEvent.from_json(json.dumps(bad))


def test_unknown_major_version():
    doc = json.loads(created().to_json())
    doc["type"] = "todo.task.created.v2"
    ev = te.CloudEvent.from_json(json.dumps(doc))  # the envelope is fine
    for call in (ev.validate, ev.decode, lambda: ev.event_type, lambda: ev.topic):
        with pytest.raises(te.EventError, match="major version") as e:
            call()
        assert e.value.kind == "unsupported_version"
    with pytest.raises(te.EventError) as e:
        te.EventType.parse("todo.task.created.v2")
    assert e.value.kind == "unsupported_version"
    with pytest.raises(te.EventError) as e:
        te.EventType.parse("todo.task.exploded.v1")
    assert e.value.kind == "unknown_type"


def test_new_checks_type_and_data():
    with pytest.raises(te.EventError) as e:
        te.CloudEvent.new("/t", "todo.task.created.v9", None, USER_ID, {})
    assert e.value.kind == "unsupported_version"
    with pytest.raises(te.EventError) as e:
        te.CloudEvent.new("/t", te.EventType.TASK_CREATED, None, USER_ID, {"event_type": "created"})
    assert e.value.kind == "invalid_data"
    ev = te.CloudEvent.new("/t", "todo.task.created.v1", TASK_ID, USER_ID, created().data)
    assert ev.event_type == te.EventType.TASK_CREATED


def test_bad_arguments_are_validation_errors():
    with pytest.raises(te.ValidationError) as e:
        te.CloudEvent("/t", "x", "not-a-uuid")
    assert e.value.field == "userid"
    with pytest.raises(te.ValidationError) as e:
        te.CloudEvent("/t", "x", USER_ID, time=datetime(2026, 1, 1))
    assert "timezone-aware" in str(e.value)
    with pytest.raises(te.ValidationError):
        te.CloudEvent("/t", "x", USER_ID, data={"when": datetime.now(timezone.utc)})
    with pytest.raises(TypeError):
        te.CloudEvent("/t", 42, USER_ID)


def test_factory_builds_the_events_of_a_change():
    factory = te.EventFactory("/todo/chat-api")
    now = "2026-11-26T09:00:00Z"
    events = factory.for_change("created", task_json(), now=now)
    assert [e.type for e in events] == ["todo.task.created.v1", "todo.task.changed.v1"]
    for e in events:
        e.validate()
        assert e.userid == USER_ID and e.subject == TASK_ID
        assert e.time == datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)

    with_reminder = task_json(remind_at="2026-12-01T08:45:00Z")
    events = factory.for_change("created", with_reminder, now=now)
    assert [e.topic for e in events] == [te.Topic.TASK_EVENTS, te.Topic.REMINDERS, te.Topic.TASK_UPDATES]
    assert events[1].decode()["remind_at"] == "2026-12-01T08:45:00Z"

    done = task_json(status="completed", completed_at=now, version=2, remind_at="2026-12-01T08:45:00Z")
    events = factory.for_change("completed", done, before=with_reminder, now=now)
    assert [e.type for e in events] == [
        "todo.task.completed.v1",
        "todo.reminder.cancelled.v1",
        "todo.task.changed.v1",
    ]

    renamed = task_json(title="pay the rent", version=2)
    (updated, changed) = factory.for_change("updated", renamed, before=task_json(), fields=["title"])
    assert updated.decode()["changes"] == ["title"]
    assert changed.decode()["change_type"] == "updated"

    with pytest.raises(te.ValidationError):
        factory.for_change("exploded", task_json())
    with pytest.raises(te.ValidationError) as e:
        factory.for_change("created", task_json(title=""))
    assert e.value.field == "after"

"""Publisher and Consumer against a real Kafka broker (KAFKA_BOOTSTRAP_SERVERS).

Each test works under a fresh topic prefix and consumer group."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from typing import List, Optional

import pytest

import todo_events as te
from conftest import TASK_ID, USER_ID, task_json


def poll_until(consumer: te.Consumer, n: int, deadline_s: float = 30.0) -> List[te.Record]:
    records: List[te.Record] = []
    deadline = time.monotonic() + deadline_s
    while len(records) < n and time.monotonic() < deadline:
        r: Optional[te.Record] = consumer.poll(1.0)
        if r is not None:
            records.append(r)
    return records


def group() -> str:
    return f"pytest-{uuid.uuid4().hex[:12]}"


def test_publish_then_consume_round_trip(kafka, prefix):
    events = te.EventFactory("/pytest").for_change("created", task_json(remind_at="2026-12-01T08:45:00Z"))
    with te.Publisher(kafka, prefix) as pub:
        pub.ping()
        assert pub.topic_prefix == prefix
        placed = [pub.publish(e) for e in events]
        assert all(p >= 0 and o >= 0 for p, o in placed)
        pub.flush(10)

    topics = [te.Topic.TASK_EVENTS, "reminders", te.Topic.TASK_UPDATES]
    with te.Consumer(kafka, group(), topics, topic_prefix=prefix) as consumer:
        assert consumer.topics == [f"{prefix}task-events", f"{prefix}reminders", f"{prefix}task-updates"]
        records = poll_until(consumer, 3)
        assert len(records) == 3, records
        by_type = {r.event().type: r for r in records}
        assert set(by_type) == {e.type for e in events}
        for e in events:
            r = by_type[e.type]
            assert r.topic == prefix + e.topic.value
            assert r.key == USER_ID
            assert r.headers["ce_type"] == e.type
            assert r.header("ce_id") == e.id
            assert r.event() == e
            assert r.event().decode()["task_id"] == TASK_ID
            assert isinstance(r.payload, bytes) and r.offset >= 0 and r.partition >= 0
            consumer.commit(r)
        assert consumer.poll(0.5) is None


def test_committed_records_are_not_delivered_again(kafka, prefix):
    g = group()
    with te.Publisher(kafka, prefix) as pub:
        first = te.EventFactory("/pytest").for_change("created", task_json())[0]
        pub.publish(first)
    with te.Consumer(kafka, g, [te.Topic.TASK_EVENTS], topic_prefix=prefix) as c:
        (r,) = poll_until(c, 1)
        assert r.event() == first
        c.commit(r)
    with te.Publisher(kafka, prefix) as pub:
        second = te.EventFactory("/pytest").for_change("deleted", task_json())[0]
        pub.publish(second)
    # The same group resumes after the committed record.
    with te.Consumer(kafka, g, [te.Topic.TASK_EVENTS], topic_prefix=prefix) as c:
        (r,) = poll_until(c, 1)
        assert r.event() == second
        assert r.event().type == "todo.task.deleted.v1"


def test_uncommitted_records_come_again(kafka, prefix):
    g = group()
    ev = te.EventFactory("/pytest").for_change("created", task_json())[0]
    with te.Publisher(kafka, prefix) as pub:
        pub.publish(ev)
    with te.Consumer(kafka, g, [te.Topic.TASK_EVENTS], topic_prefix=prefix) as c:
        (r,) = poll_until(c, 1)  # read, not committed
    with te.Consumer(kafka, g, [te.Topic.TASK_EVENTS], topic_prefix=prefix) as c:
        (again,) = poll_until(c, 1)
        assert (again.partition, again.offset) == (r.partition, r.offset)
        assert again.event() == ev


def test_publish_raw_and_a_poison_record(kafka, prefix):
    with te.Publisher(kafka, prefix) as pub:
        pub.publish_raw("task-events", "k1", b"not json", {"x-test": "1"})
        ev = te.EventFactory("/pytest").for_change("created", task_json())[0]
        pub.publish_raw(te.Topic.TASK_EVENTS, None, ev.to_json())
    with te.Consumer(kafka, group(), ["task-events"], topic_prefix=prefix) as c:
        records = sorted(poll_until(c, 2), key=lambda r: r.key or "")
        assert [r.key for r in records] == [None, "k1"]
        raw_event, poison = records
        assert raw_event.event() == ev
        assert raw_event.headers["ce_type"] == "todo.task.created.v1"  # added by the producer
        assert poison.payload == b"not json"
        assert poison.headers == {"x-test": "1"}
        with pytest.raises(te.EventError) as e:
            poison.event()
        assert e.value.kind == "malformed"


def test_publish_refuses_an_invalid_event(kafka, prefix):
    with te.Publisher(kafka, prefix) as pub:
        bad = te.CloudEvent("/pytest", "todo.task.created.v2", USER_ID, {})
        with pytest.raises(te.EventError) as e:
            pub.publish(bad)
        assert e.value.kind == "unsupported_version"
        # An explicit topic does not skip the check either.
        with pytest.raises(te.EventError):
            pub.publish(bad, te.Topic.TASK_EVENTS)


def test_latest_skips_older_records_and_poll_times_out(kafka, prefix):
    with te.Publisher(kafka, prefix) as pub:
        pub.publish(te.EventFactory("/pytest").for_change("created", task_json())[0])
    c = te.Consumer(kafka, group(), [te.Topic.TASK_EVENTS], from_beginning=False, topic_prefix=prefix)
    try:
        started = time.monotonic()
        assert c.poll(1.5) is None
        assert 1.0 <= time.monotonic() - started < 10
    finally:
        c.close()
        c.close()  # idempotent
    with pytest.raises(te.TodoEventsError, match="closed"):
        c.poll(0.1)
    assert "closed" in repr(c)


def test_poll_releases_the_gil_and_ctrl_c_interrupts_it(kafka, prefix):
    with te.Consumer(kafka, group(), [te.Topic.TASK_EVENTS], topic_prefix=prefix) as c:
        ticks = 0
        stop = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1

        counter = threading.Thread(target=count)
        counter.start()
        time.sleep(0.05)
        before = ticks
        assert c.poll(1.0) is None
        during = ticks - before
        stop.set()
        counter.join()
        assert during > 10_000, f"another thread ran only {during} loops while poll waited"

        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            c.poll()  # no timeout: only Ctrl-C ends it
        assert time.monotonic() - started < 5
        timer.join()


def test_closed_publisher_and_unreachable_broker():
    pub = te.Publisher("127.0.0.1:1", "x.")
    with pytest.raises(te.KafkaError) as e:
        pub.ping()
    assert e.value.transient is True
    pub.close()
    with pytest.raises(te.TodoEventsError, match="closed"):
        pub.ping()


def test_bad_configuration_is_a_kafka_error():
    with pytest.raises(te.KafkaError) as e:
        te.Publisher("127.0.0.1:9092", properties={"no.such.property": "1"})
    assert e.value.transient is False

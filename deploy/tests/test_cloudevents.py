"""Our Kafka records, read by the official CloudEvents Python SDK (`cloudevents`
on PyPI) straight from the broker: each record value is a CloudEvent in
structured content mode (JSON event format), marked as such by its
`content-type: application/cloudevents+json` header, the record key is the user
id. The events come from a real `todo serve` (PostgreSQL + Kafka) driven over
HTTP: a recurring task with a reminder, completed, so all three topics and the
services' own events (successor, reminder due) are there.

Needs DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS and TODO_BIN (the `todo` binary);
scripts/deploy-test passes them, and fails rather than skips without them."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from confluent_kafka import Consumer

TOPICS = ("task-events", "reminders", "task-updates")


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through scripts/deploy-test (scripts/test sets it up)")
    return value


class Todo:
    """`todo serve` on a fresh database and a fresh topic prefix."""

    def __init__(self, tmp: Path) -> None:
        admin = need("DATABASE_URL")
        self.kafka = need("KAFKA_BOOTSTRAP_SERVERS")
        self.db = f"ce_{uuid.uuid4().hex[:12]}"
        self.admin = admin
        subprocess.run(["psql", "-X", "-q", admin, "-c", f"CREATE DATABASE {self.db}"], check=True)
        self.prefix = f"ce{uuid.uuid4().hex[:8]}."
        env = {
            **os.environ,
            "DATABASE_URL": urlunsplit(urlsplit(admin)._replace(path=f"/{self.db}")),
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "JWT_SECRET": secrets.token_hex(32),
            "TODO_BIND": "127.0.0.1:0",
            "TODO_DATA_DIR": str(tmp),
            "RUST_LOG": "warn",
        }
        self.proc = subprocess.Popen(
            [need("TODO_BIN"), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        found: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                m = re.search(r"listening on (http://\S+)", line)
                if m and not found:
                    found.append(m.group(1))
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(90):
            self.close()
            pytest.fail("todo serve did not start listening within 90 s")
        self.url = found[0]

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        req = urllib.request.Request(self.url + path, method=method, data=json.dumps(body).encode() if body else None)
        req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=20) as res:
            return json.loads(res.read() or b"null")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        subprocess.run(["psql", "-X", "-q", self.admin, "-c", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)"])


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, list]]:
    todo = Todo(tmp_path_factory.mktemp("todo"))
    try:
        auth = todo.call("POST", "/api/v1/auth/register", {"email": "ce@example.com", "password": "correct horse battery"})
        token = auth["token"]
        now = datetime.now(timezone.utc)
        task = todo.call(
            "POST",
            "/api/v1/tasks",
            {
                "title": "water the plants",
                "due_at": (now + timedelta(days=1)).isoformat(),
                "remind_at": (now + timedelta(seconds=2)).isoformat(),
                "recurrence": "FREQ=DAILY",
            },
            token,
        )
        time.sleep(3)  # the reminder fires
        todo.call("POST", f"/api/v1/tasks/{task['id']}/complete", None, token)
        consumer = Consumer(
            {
                "bootstrap.servers": todo.kafka,
                "group.id": f"cloudevents-sdk-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([todo.prefix + t for t in TOPICS])
        got: list = []
        types: set[str] = set()
        want = {
            "todo.task.created.v1",
            "todo.task.completed.v1",
            "todo.reminder.scheduled.v1",
            "todo.reminder.due.v1",
            "todo.task.changed.v1",
        }
        deadline = time.monotonic() + 60
        # The recurring service adds the next occurrence: a second created event.
        while time.monotonic() < deadline and not (want <= types and sum(1 for m in got if _type(m) == "todo.task.created.v1") >= 2):
            m = consumer.poll(1.0)
            if m is None or m.error():
                continue
            got.append(m)
            types.add(_type(m))
        consumer.close()
        yield auth["user"], got
    finally:
        todo.close()


def _type(m) -> str:  # noqa: ANN001 (confluent_kafka.Message)
    return json.loads(m.value())["type"]


def as_kafka_message(m) -> ce_kafka.KafkaMessage:  # noqa: ANN001
    return ce_kafka.KafkaMessage(headers={k: v for k, v in (m.headers() or [])}, key=m.key(), value=m.value())


def test_every_record_is_a_structured_mode_cloudevent(records: tuple[dict, list]) -> None:
    user, got = records
    assert {m.topic().split(".", 1)[1] for m in got} == set(TOPICS)
    for m in got:
        headers = dict(m.headers() or [])
        assert headers["content-type"] == b"application/cloudevents+json", "structured content mode"
        event = ce_kafka.from_structured(as_kafka_message(m), JSONFormat(), CloudEvent)
        assert isinstance(event, CloudEvent)
        assert event.get_specversion() == "1.0"
        assert event.get_source().startswith("/todo/")
        assert re.fullmatch(r"todo\.[a-z]+\.[a-z]+\.v1", event.get_type())
        assert event.get_datacontenttype() == "application/json"
        assert isinstance(event.get_time(), datetime)
        assert event.get_extension("userid") == user["id"]
        # The record key (the user id: per-user order) becomes `partitionkey`.
        assert event.get_extension("partitionkey") == user["id"] == m.key().decode()
        data = event.get_data()
        assert isinstance(data, dict) and data["user_id"] == user["id"]
        # The headers agree with the value.
        assert headers["ce_type"].decode() == event.get_type()
        assert headers["ce_id"].decode() == event.get_id()


def test_the_sdk_writes_back_what_it_read(records: tuple[dict, list]) -> None:
    """Round trip through the SDK's own structured encoder: the same event."""
    _, got = records
    for m in got:
        event = ce_kafka.from_structured(as_kafka_message(m), JSONFormat(), CloudEvent)
        again = ce_kafka.to_structured(event, JSONFormat())
        assert json.loads(again.value)["id"] == event.get_id()
        back = ce_kafka.from_structured(again, JSONFormat(), CloudEvent)
        assert back.get_attributes() == event.get_attributes()
        assert back.get_data() == event.get_data()

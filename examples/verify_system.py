#!/usr/bin/env python3
"""Verifies a running todo-events stack end to end and prints a checklist.

Run with: python examples/verify_system.py [--all-in-one URL | --chat-api URL ...] [--kafka BOOTSTRAP]

What it checks, as a throwaway user:

- ``/health`` and ``/ready`` of every service (distributed: chat-api 8000,
  sync 8001, audit 8002, notification 8003, recurring-task 8004; all-in-one:
  everything on one URL);
- registering, creating a task through the chat, listing it;
- the live WebSocket (``/ws``, token as ``Sec-WebSocket-Protocol: bearer, <jwt>``) pushing that task's change, when the
  ``websockets`` package is installed (otherwise the line says "not checked");
- completing a recurring task and its successor appearing at the time the
  recurrence engine (``todo_events.next_occurrence``) computes;
- a reminder two seconds ahead being delivered (``/api/v1/notifications``);
- the audit trail holding the events and its hash chain verifying;
- with ``--kafka BOOTSTRAP``: the task's created event on ``task-events``,
  keyed by the user id, read with ``todo_events.Consumer``.

Needs only the standard library and the ``todo_events`` module
(``scripts/python-test`` builds it into ``bindings/python/.venv``). Exits 0
when every checked line passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

try:
    import todo_events as te
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit(
        "verify_system: the todo_events module is missing; build it with scripts/python-test "
        "and run this with bindings/python/.venv/bin/python"
    )

T = TypeVar("T")

#: The distributed services, their default ports, and the environment variable
#: that overrides each URL.
SERVICES: List[Tuple[str, int, str]] = [
    ("chat-api", 8000, "TODO_API"),
    ("sync", 8001, "TODO_SYNC_URL"),
    ("audit", 8002, "TODO_AUDIT_URL"),
    ("notification", 8003, "TODO_NOTIFICATION_URL"),
    ("recurring-task", 8004, "TODO_RECURRING_URL"),
]

CHAT_MESSAGE = "add verify system tomorrow at 5pm #verify"


class CheckFailed(Exception):
    """A check did not hold; the message says what was seen."""


def need(value: Optional[T]) -> T:
    """The result of an earlier step this one builds on; fails when it failed."""
    if value is None:
        raise CheckFailed("not run: an earlier step it needs failed")
    return value


class Checklist:
    """Prints one line per check: ✓ passed, ✗ failed, – not checked."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.unchecked = 0

    def run(self, what: str, check: Callable[[], Tuple[T, str]]) -> Optional[T]:
        """Runs ``check``, which returns a value for later steps and a detail to
        print; the value is passed on (``None`` when the check failed)."""
        try:
            value, detail = check()
        except CheckFailed as e:
            self.fail(what, str(e))
            return None
        except Exception as e:  # a verifier reports what broke and goes on
            self.fail(what, f"{type(e).__name__}: {e}")
            return None
        print(f"✓ {what}" + (f" — {detail}" if detail else ""), flush=True)
        self.passed += 1
        return value

    def fail(self, what: str, why: str) -> None:
        print(f"✗ {what} — {why}", flush=True)
        self.failed += 1

    def not_checked(self, what: str, why: str) -> None:
        print(f"– {what}: not checked ({why})", flush=True)
        self.unchecked += 1


# ------------------------------------------------------------------ HTTP


def call(
    base: str,
    method: str,
    path: str,
    body: Optional[Dict[str, Any]] = None,
    token: Optional[str] = None,
    expect: Tuple[int, ...] = (200,),
    timeout: float = 10.0,
) -> Any:
    """One JSON request; the decoded body when the status is one of ``expect``."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    req.add_header("accept", "application/json")
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except urllib.error.URLError as e:
        raise CheckFailed(f"{method} {base}{path}: {e.reason}") from None
    if status not in expect:
        raise CheckFailed(f"{method} {path}: HTTP {status} {error_message(raw)}")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def error_message(raw: bytes) -> str:
    """The message of a ``{"error": {"code", "message"}}`` body, or the body."""
    try:
        err = json.loads(raw)["error"]
        return f"{err.get('code')}: {err.get('message')}"
    except (ValueError, KeyError, TypeError):
        return " ".join(raw[:300].decode("utf-8", "replace").split())


def wait_for(what: str, probe: Callable[[], Optional[T]], timeout: float, every: float = 0.25) -> T:
    """Calls ``probe`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got is not None:
            return got
        if time.monotonic() >= deadline:
            raise CheckFailed(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


def instant(s: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------ checks


class Verifier:
    def __init__(self, urls: Dict[str, str], args: argparse.Namespace) -> None:
        self.urls = urls
        self.args = args
        self.timeout: float = args.timeout
        self.list = Checklist()
        self.run_id = uuid.uuid4().hex[:8]
        self.token: Optional[str] = None
        self.user_id: Optional[str] = None
        self.closing = contextlib.ExitStack()

    def api(self, service: str, method: str, path: str, **kw: Any) -> Any:
        return call(self.urls[service], method, path, token=self.token, **kw)

    # -- health

    def health(self) -> None:
        seen: Dict[str, str] = {}
        for name, _, _ in SERVICES:
            url = self.urls[name]
            if url in seen:  # all-in-one: one process answers for several services
                continue
            seen[url] = name
            label = "all-in-one" if len(set(self.urls.values())) == 1 else name
            self.list.run(f"{label} /health ({url})", functools.partial(self.check_health, url))
            self.list.run(f"{label} /ready", functools.partial(self.check_ready, url))

    @staticmethod
    def check_health(url: str) -> Tuple[None, str]:
        body = call(url, "GET", "/health", timeout=5)
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise CheckFailed(f"unexpected body {body!r}")
        return None, "ok"

    @staticmethod
    def check_ready(url: str) -> Tuple[None, str]:
        body = call(url, "GET", "/ready", expect=(200, 503), timeout=10)
        checks = body.get("checks", {}) if isinstance(body, dict) else {}
        bad = {k: v for k, v in checks.items() if v != "ok"}
        if bad or not isinstance(body, dict) or body.get("status") != "ready":
            raise CheckFailed(f"not ready: {bad or body!r}")
        return None, ", ".join(f"{k} ok" for k in checks) or "ready"

    # -- account and chat

    def register(self) -> Tuple[str, str]:
        email = f"verify-{self.run_id}@example.com"
        body = self.api(
            "chat-api",
            "POST",
            "/api/v1/auth/register",
            body={"email": email, "password": secrets.token_urlsafe(18), "timezone": "UTC"},
            expect=(201,),
        )
        self.token, self.user_id = body["token"], body["user"]["id"]
        return self.user_id, email

    def chat_create(self) -> Tuple[Dict[str, Any], str]:
        need(self.token)
        before = datetime.now(timezone.utc)
        body = self.api("chat-api", "POST", "/api/v1/chat", body={"message": CHAT_MESSAGE})
        after = datetime.now(timezone.utc)
        actions = [a for a in body.get("actions", []) if a.get("tool") == "add_task"]
        if not actions or "id" not in actions[0].get("result", {}):
            raise CheckFailed(f"no add_task action in {body!r}")
        task = actions[0]["result"]
        # The interpreter here and in the service agree (the clock may tick between).
        expected = [te.parse_command(CHAT_MESSAGE, now=t)["args"] for t in (before, after)]
        if task["title"] != "verify system" or "verify" not in task["tags"]:
            raise CheckFailed(f"task is {task['title']!r} {task['tags']}")
        if not any(instant(task["due_at"]) == instant(e.get("due_at")) for e in expected):
            raise CheckFailed(f"due_at {task['due_at']}, the interpreter says {expected[0].get('due_at')}")
        return task, f"{task['id']} due {task['due_at']}; reply {body.get('reply')!r}"

    def list_tasks(self, created: Optional[Dict[str, Any]]) -> Tuple[None, str]:
        task = need(created)
        page = self.api("chat-api", "GET", "/api/v1/tasks?tag=verify&status=pending")
        ids = [t["id"] for t in page["items"]]
        if task["id"] not in ids:
            raise CheckFailed(f"{task['id']} not among {ids}")
        return None, f"{len(ids)} task(s) tagged verify"

    # -- live updates

    def open_websocket(self) -> Any:
        need(self.token)
        from websockets.sync.client import connect  # type: ignore[import-not-found]

        base = urllib.parse.urlsplit(self.urls["sync"])
        scheme = "wss" if base.scheme == "https" else "ws"
        # The token travels as the subprotocol `bearer, <jwt>`, never in the URL
        # (URLs end up in logs). Entered on the verifier's exit stack: closed when
        # the run ends.
        return self.closing.enter_context(
            connect(
                f"{scheme}://{base.netloc}/ws",
                subprotocols=["bearer", self.token],
                open_timeout=10,
                close_timeout=2,
            )
        )

    def websocket_event(self, ws: Any, created: Optional[Dict[str, Any]]) -> Tuple[None, str]:
        ws, task = need(ws), need(created)
        deadline = time.monotonic() + self.timeout
        seen = 0
        while time.monotonic() < deadline:
            try:
                message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            seen += 1
            event = te.CloudEvent.from_json(message)
            if event.type == te.EventType.TASK_CHANGED.value and event.subject == task["id"]:
                event.validate()
                if event.userid != self.user_id:
                    raise CheckFailed(f"event for user {event.userid}, not {self.user_id}")
                return None, f"{event.type} {event.decode()['change_type']} after {seen} message(s)"
        raise CheckFailed(f"no todo.task.changed.v1 for the task within {self.timeout:.0f} s ({seen} other messages)")

    # -- kafka

    def kafka_event(self, created: Optional[Dict[str, Any]]) -> Tuple[None, str]:
        task = need(created)
        group = f"verify-system-{self.run_id}"
        topics = [te.Topic.TASK_EVENTS]
        with te.Consumer(self.args.kafka, group, topics, topic_prefix=self.args.kafka_topic_prefix) as consumer:
            deadline = time.monotonic() + self.timeout
            scanned = 0
            while time.monotonic() < deadline:
                record = consumer.poll(1.0)
                if record is None:
                    continue
                scanned += 1
                try:
                    event = record.event()
                except te.EventError:
                    continue  # not ours to judge here
                if event.subject != task["id"] or event.type != te.EventType.TASK_CREATED.value:
                    continue
                event.validate()
                if record.key != self.user_id:
                    raise CheckFailed(f"record key {record.key!r}, expected the user id {self.user_id}")
                if record.headers.get("ce_type") != event.type or record.headers.get("ce_id") != event.id:
                    raise CheckFailed(f"ce_type/ce_id headers {record.headers!r} do not match the event")
                return None, f"{record.topic}[{record.partition}]@{record.offset}, key = user id"
        raise CheckFailed(f"no todo.task.created.v1 for the task within {self.timeout:.0f} s ({scanned} records read)")

    # -- recurrence

    def recurring(self) -> Tuple[Dict[str, Any], str]:
        need(self.token)
        title = f"verify recurring {self.run_id}"
        due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
        rrule = "FREQ=DAILY"
        task = self.api(
            "chat-api",
            "POST",
            "/api/v1/tasks",
            body={"title": title, "due_at": iso(due), "recurrence": rrule},
            expect=(201,),
        )
        done = self.api("chat-api", "POST", f"/api/v1/tasks/{task['id']}/complete")
        if done["status"] != "completed" or not done.get("series_id"):
            raise CheckFailed(f"completed task is {done['status']}, series {done.get('series_id')}")
        expected = te.next_occurrence(
            done["recurrence"],
            done["due_at"],
            completed_at=done["completed_at"],
            all_day=done["all_day"],
            repeat_from=done["repeat_from"],
            tz="UTC",
        )
        query = urllib.parse.urlencode({"status": "pending", "q": title})

        def successor() -> Optional[Dict[str, Any]]:
            items = self.api("chat-api", "GET", f"/api/v1/tasks?{query}")["items"]
            return next((t for t in items if t.get("series_id") == done["series_id"] and t["id"] != done["id"]), None)

        nxt = wait_for("the next occurrence", successor, self.timeout)
        if instant(nxt["due_at"]) != expected:
            raise CheckFailed(f"next occurrence due {nxt['due_at']}, the recurrence engine says {expected}")
        return done, f"next occurrence {nxt['id']} due {nxt['due_at']}"

    # -- reminders

    def reminder(self) -> Tuple[Dict[str, Any], str]:
        need(self.token)
        now = datetime.now(timezone.utc)
        remind_at = now + timedelta(seconds=2)
        task = self.api(
            "chat-api",
            "POST",
            "/api/v1/tasks",
            body={
                "title": f"verify reminder {self.run_id}",
                "due_at": iso(now + timedelta(minutes=10)),
                "remind_at": iso(remind_at),
            },
            expect=(201,),
        )

        def delivered() -> Optional[Dict[str, Any]]:
            items = self.api("notification", "GET", "/api/v1/notifications")["items"]
            return next((n for n in items if n.get("task_id") == task["id"]), None)

        note = wait_for("the reminder", delivered, self.timeout + 2)
        lateness = (instant(note["fired_at"]) - instant(note["remind_at"])).total_seconds()  # type: ignore[operator]
        if lateness > 1.0 or note.get("late"):
            raise CheckFailed(f"fired {lateness:.2f} s after remind_at (the guarantee is within 1 s)")
        return task, f"fired {lateness:.3f} s after remind_at"

    # -- audit

    def audit(self, task_ids: List[str]) -> Tuple[None, str]:
        need(self.token)
        need(task_ids or None)
        wanted = {te.EventType.TASK_CREATED.value}
        found: Dict[str, int] = {}
        for task_id in task_ids:

            def entries(tid: str = task_id) -> Optional[List[Dict[str, Any]]]:
                items = self.api("audit", "GET", f"/api/v1/audit?task_id={tid}")["items"]
                return items if wanted <= {e["event_type"] for e in items} else None

            items = wait_for(f"audit entries for {task_id}", entries, self.timeout)
            for entry in items:
                event = te.CloudEvent.from_json(json.dumps(entry["event"]))
                event.validate()
                if event.id != entry["event_id"] or event.userid != self.user_id:
                    raise CheckFailed(f"entry {entry['seq']} does not match its event")
                found[entry["event_type"]] = found.get(entry["event_type"], 0) + 1
        return None, ", ".join(f"{n}× {t}" for t, n in sorted(found.items()))

    def audit_verify(self) -> Tuple[None, str]:
        need(self.token)
        report = self.api("audit", "GET", "/api/v1/audit/verify")
        if not report.get("ok"):
            raise CheckFailed(f"chain broken: {report.get('first_bad')}")
        if not report.get("entries_checked"):
            raise CheckFailed("no entries checked")
        return None, f"{report['entries_checked']} entries checked"

    # -- all of it

    def run(self) -> int:
        with self.closing:
            return self.run_checks()

    def run_checks(self) -> int:
        c = self.list
        self.health()
        c.run("register a throwaway user", self.register)

        try:
            import websockets.sync.client  # type: ignore[import-not-found] # noqa: F401

            has_websockets = True
        except ImportError:
            has_websockets = False
        ws = None
        if has_websockets:
            ws = c.run("open the WebSocket /ws", lambda: (self.open_websocket(), "connected"))

        task = c.run(f"chat: {CHAT_MESSAGE!r}", self.chat_create)
        c.run("list it: GET /api/v1/tasks?tag=verify", lambda: self.list_tasks(task))

        if has_websockets:
            c.run("live update on the WebSocket", lambda: self.websocket_event(ws, task))
        else:
            c.not_checked("live update on the WebSocket", "pip install websockets to check it")

        if self.args.kafka:
            c.run(f"Kafka: created event on task-events ({self.args.kafka})", lambda: self.kafka_event(task))
        else:
            c.not_checked("Kafka task-events", "pass --kafka BOOTSTRAP to check it")

        recurring = c.run("complete a recurring task; its successor appears", self.recurring)
        reminder = c.run("a reminder 2 s ahead is delivered", self.reminder)

        ids = [t["id"] for t in (task, recurring, reminder) if t is not None]
        c.run("audit trail has the events", lambda: self.audit(ids))
        c.run("audit chain verifies: GET /api/v1/audit/verify", self.audit_verify)

        print(f"\n{c.passed} passed, {c.failed} failed, {c.unchecked} not checked")
        return 1 if c.failed else 0


def service_urls(args: argparse.Namespace) -> Dict[str, str]:
    urls: Dict[str, str] = {}
    for name, port, env in SERVICES:
        given = getattr(args, name.replace("-", "_"))
        urls[name] = (args.all_in_one or given or os.environ.get(env) or f"http://127.0.0.1:{port}").rstrip("/")
    return urls


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--all-in-one",
        metavar="URL",
        default=os.environ.get("TODO_URL"),
        help="one process serves everything (todo serve), e.g. http://127.0.0.1:8000 (env TODO_URL)",
    )
    for name, port, env in SERVICES:
        parser.add_argument(f"--{name}", metavar="URL", help=f"{name} URL (env {env}; default http://127.0.0.1:{port})")
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="also read task-events from these brokers")
    parser.add_argument(
        "--kafka-topic-prefix",
        metavar="PREFIX",
        default=os.environ.get("KAFKA_TOPIC_PREFIX", ""),
        help="topic prefix of the stack (env KAFKA_TOPIC_PREFIX; default none)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each asynchronous effect")
    args = parser.parse_args(argv)
    urls = service_urls(args)
    print("todo-events: verifying " + ", ".join(f"{k} {v}" for k, v in urls.items()), flush=True)
    return Verifier(urls, args).run()


if __name__ == "__main__":
    sys.exit(main())

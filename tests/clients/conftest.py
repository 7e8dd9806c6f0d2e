"""A real `todo serve` (embedded mode: SQLite + its event log in a temp dir) on a
free port, and helpers to speak its REST API. The MCP and calendar tests drive
it with clients nobody here wrote: the official MCP Python SDK, `icalendar`
and `recurring-ical-events`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

TODO_BIN = os.environ.get("TODO_BIN") or str(
    Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/todo-events-target")) / "debug" / "todo"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Server:
    url: str
    data_dir: str
    env: dict[str, str]

    def call(self, method: str, path: str, token: Optional[str] = None, body: Any = None,
             headers: Optional[dict[str, str]] = None) -> Answer:
        req = urllib.request.Request(self.url + path, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data, timeout=30) as res:
                raw, status, hdrs = res.read(), res.status, dict(res.headers)
        except urllib.error.HTTPError as e:
            raw, status, hdrs = e.read(), e.code, dict(e.headers)
        text = raw.decode()
        try:
            parsed = json.loads(text) if text and "json" in hdrs.get("content-type", "") else text
        except json.JSONDecodeError:
            parsed = text
        return Answer(status, {k.lower(): v for k, v in hdrs.items()}, parsed)

    def register(self, tz: str = "UTC") -> str:
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        a = self.call("POST", "/api/v1/auth/register", body={"email": email, "password": "correct horse battery", "timezone": tz})
        assert a.status == 201, a.body
        return a.body["token"]

    def mint(self, session: str, scopes: list[str], name: str = "assistant") -> str:
        a = self.call("POST", "/api/v1/auth/tokens", session, {"name": name, "scopes": scopes})
        assert a.status == 201, a.body
        return a.body["token"]

    def log_events(self, subject: str) -> list[str]:
        """The CloudEvents types on the event log (the SQLite event table) about `subject`."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.data_dir}/todo.db?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT payload FROM event_log ORDER BY seq").fetchall()
        finally:
            db.close()
        out = []
        for (payload,) in rows:
            try:
                ev = json.loads(payload)
            except ValueError:
                continue
            if ev.get("subject") == subject:
                out.append(ev["type"])
        return out


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if not os.access(TODO_BIN, os.X_OK):
        pytest.fail(f"{TODO_BIN} is not built: run `cargo build -p todo-services --bin todo` or set TODO_BIN")
    data_dir = tempfile.mkdtemp(prefix="todo-clients-")
    port = free_port()
    env = {**os.environ, "TODO_DATA_DIR": data_dir, "TODO_BIND": f"127.0.0.1:{port}", "RUST_LOG": "warn",
           "TODO_RATE_LIMIT": "0"}
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    log = open(Path(data_dir) / "server.log", "w")
    proc = subprocess.Popen([TODO_BIN, "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/ready", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"todo serve did not start: {(Path(data_dir) / 'server.log').read_text()}")
        time.sleep(0.1)
    try:
        yield Server(url, data_dir, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def eventually(check, what: str, secs: float = 20.0):
    deadline = time.time() + secs
    while True:
        v = check()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out after {secs} s waiting for {what}")
        time.sleep(0.05)

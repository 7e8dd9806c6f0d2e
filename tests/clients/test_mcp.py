"""The official MCP Python SDK (`mcp` from PyPI) drives both transports of the
server: Streamable HTTP at /mcp, and stdio (`todo mcp`, launched by the SDK as
desktop assistants launch it). Each run lists the tools, adds a recurring task
by sentence, finds it with filter queries (a bad one is an isError result with
the parser's message and position), completes it, sees the next occurrence,
fails cleanly on a read-only token's delete; each step's events are on the log
and in the audit trail; another user's token never sees the task, whatever its
filter."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, AsyncIterator

import httpx2
import pytest
import todo_events
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from conftest import TODO_BIN, Server, eventually

EXPECTED_TOOLS = {
    "add_task", "add_tasks", "find_tasks", "get_task", "update_task", "complete_task", "complete_tasks",
    "reopen_task", "delete_task", "add_reminder", "list_notifications", "audit_trail",
}
READ_ONLY = {"find_tasks", "get_task", "list_notifications", "audit_trail"}
DESTRUCTIVE = {"update_task", "delete_task", "add_reminder"}


@contextlib.asynccontextmanager
async def connect(server: Server, transport: str, token: str) -> AsyncIterator[Client]:
    """An SDK client for `token` over `transport` ("http" or "stdio")."""
    if transport == "http":
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        async with http, Client(streamable_http_client(server.url + "/mcp", http_client=http)) as client:
            yield client
    else:
        env = {"TODO_TOKEN": token, "TODO_DATA_DIR": server.data_dir, "RUST_LOG": "warn"}
        params = StdioServerParameters(command=TODO_BIN, args=["mcp"], env=env)
        async with Client(params) as client:
            yield client


async def call(client: Client, name: str, args: dict[str, Any]):
    return await client.call_tool(name, args)


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_an_assistant_manages_tasks(server: Server, transport: str) -> None:
    asyncio.run(_assistant_flow(server, transport))


async def _assistant_flow(server: Server, transport: str) -> None:
    tz = "Europe/Berlin"
    alice = server.register(tz)
    bob = server.register()
    write = server.mint(alice, ["read", "write"], "claude")
    read = server.mint(alice, ["read"], "reader")
    bobs = server.mint(bob, ["read", "write"], "bob's")

    async with connect(server, transport, write) as client:
        # 1. The tools, with truthful annotations.
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == EXPECTED_TOOLS
        for t in listed:
            assert t.annotations is not None, t.name
            assert t.annotations.read_only_hint == (t.name in READ_ONLY), t.name
            assert t.annotations.destructive_hint == (t.name in DESTRUCTIVE), t.name
            assert t.input_schema["type"] == "object" and t.output_schema is not None, t.name

        # 2. A recurring task, by sentence.
        added = await call(client, "add_task", {"text": f"water the plants {transport} every monday at 9am"})
        assert not added.is_error, added.content
        task = added.structured_content
        assert task["title"] == f"water the plants {transport}"
        assert task["recurrence"] == "FREQ=WEEKLY;BYDAY=MO"
        due = parse_time(task["due_at"])
        local = due.astimezone(todo_events_tz(tz))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0), local

        # 3. Found, with a filter query (evaluated in the user's time zone).
        found = await call(client, "find_tasks", {"filter": f"recurring & search: plants {transport}"})
        assert not found.is_error, found.content
        assert [t["id"] for t in found.structured_content["items"]] == [task["id"]]
        assert found.structured_content["lists"] == [f"recurring & search: plants {transport}"]
        days = (local.date() - datetime.now(todo_events_tz(tz)).date()).days
        window = await call(client, "find_tasks", {"filter": f"{days + 1} days"})
        assert task["id"] in [t["id"] for t in window.structured_content["items"]], window.content
        bad = await call(client, "find_tasks", {"filter": "recurring & due before:"})
        assert bad.is_error
        assert bad.content[0].text.startswith("invalid filter: expected a date after 'due before:' at 23"), bad.content
        assert "characters 23 to 23" in bad.content[0].text, bad.content

        # 4. Completed.
        done = await call(client, "complete_task", {"id": task["id"]})
        assert not done.is_error and done.structured_content["status"] == "completed", done.content

        # 5. The next occurrence, as the recurrence engine computes it.
        async def next_one():
            r = await call(client, "find_tasks", {"filter": f"search: plants {transport}"})
            items = [t for t in r.structured_content["items"] if t["series_id"] == task["id"]]
            return items[0] if items else None

        nxt = await async_eventually(next_one, "the next occurrence")
        assert nxt["id"] != task["id"] and nxt["status"] == "pending"
        expected = todo_events.next_occurrence(
            task["recurrence"], task["due_at"], completed_at=done.structured_content["completed_at"], tz=tz
        )
        assert parse_time(nxt["due_at"]) == expected, (nxt["due_at"], expected)

        # 6. The events of each step: on the log, and in the audit trail.
        on_log = [t for t in server.log_events(task["id"]) if t != "todo.task.changed.v1"]
        assert on_log == ["todo.task.created.v1", "todo.task.completed.v1"], on_log
        assert "todo.task.created.v1" in server.log_events(nxt["id"])

        async def audited():
            r = await call(client, "audit_trail", {"task_id": task["id"]})
            types = [e["event_type"] for e in r.structured_content["items"]]
            return types if "todo.task.completed.v1" in types else None

        types = await async_eventually(audited, "the completion in the audit trail")
        assert "todo.task.created.v1" in types
        rest = server.call("GET", f"/api/v1/audit?task_id={nxt['id']}", alice)
        assert rest.status == 200

        def next_audited():
            a = server.call("GET", f"/api/v1/audit?task_id={nxt['id']}&type=todo.task.created.v1", alice)
            return a.body["items"]

        eventually(next_audited, "the next occurrence in the audit trail")

    # 7. A read-only token: reads work, the delete fails cleanly (isError), nothing changes.
    async with connect(server, transport, read) as client:
        got = await call(client, "get_task", {"id": nxt["id"]})
        assert not got.is_error and got.structured_content == nxt
        refused = await call(client, "delete_task", {"id": nxt["id"]})
        assert refused.is_error
        assert "read-only" in refused.content[0].text, refused.content
    still = server.call("GET", f"/api/v1/tasks/{nxt['id']}", alice)
    assert still.status == 200 and still.body == nxt
    assert "todo.task.deleted.v1" not in server.log_events(nxt["id"])

    # 8. Another user's token never sees them.
    async with connect(server, transport, bobs) as client:
        for q in ("status:all", "recurring", f"search: plants {transport}", "7 days | overdue | no date"):
            everything = await call(client, "find_tasks", {"filter": q})
            assert not everything.is_error and everything.structured_content["items"] == [], (q, everything)
        for tid in (task["id"], nxt["id"]):
            r = await call(client, "get_task", {"id": tid})
            assert r.is_error and r.content[0].text == "task not found"
            trail = await call(client, "audit_trail", {"task_id": tid})
            assert trail.structured_content["items"] == []
            gone = await call(client, "delete_task", {"id": tid})
            assert gone.is_error and gone.content[0].text == "task not found"
    assert server.call("GET", f"/api/v1/tasks/{nxt['id']}", alice).status == 200


def test_a_revoked_token_stops_the_stdio_server(server: Server) -> None:
    """The stdio server checks its token at every call."""

    async def flow() -> None:
        alice = server.register()
        token = server.mint(alice, ["read", "write"])
        async with connect(server, "stdio", token) as client:
            assert not (await call(client, "find_tasks", {})).is_error
            tokens = server.call("GET", "/api/v1/auth/tokens", alice).body["items"]
            assert server.call("DELETE", f"/api/v1/auth/tokens/{tokens[0]['id']}", alice).status == 204
            r = await call(client, "find_tasks", {})
            assert r.is_error and "revoked" in r.content[0].text

    asyncio.run(flow())


def todo_events_tz(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


async def async_eventually(check, what: str, secs: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + secs
    while True:
        v = await check()
        if v:
            return v
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {secs} s waiting for {what}")
        await asyncio.sleep(0.1)

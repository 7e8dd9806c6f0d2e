"""Shared fixtures: a task in its JSON shape, and a real Kafka broker."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

import todo_events as te

#: The repository root (bindings/python/tests/ -> ../../..).
ROOT = Path(__file__).resolve().parents[3]

USER_ID = "018f3a2e-7c4b-7d2a-9a51-3b6a1c0d2e4f"
TASK_ID = "018f3a2e-7c4b-7d2a-9a51-3b6a1c0d9999"


def task_json(**overrides: Any) -> Dict[str, Any]:
    """A pending task as the API and the events carry it."""
    task: Dict[str, Any] = {
        "id": TASK_ID,
        "user_id": USER_ID,
        "title": "pay rent",
        "description": "",
        "status": "pending",
        "priority": "medium",
        "tags": ["home"],
        "due_at": "2026-12-01T09:00:00Z",
        "all_day": False,
        "remind_at": None,
        "recurrence": None,
        "repeat_from": "due",
        "series_id": None,
        "created_at": "2026-11-26T09:00:00Z",
        "updated_at": "2026-11-26T09:00:00Z",
        "completed_at": None,
        "version": 1,
    }
    task.update(overrides)
    return task


@pytest.fixture
def task() -> Dict[str, Any]:
    return task_json()


@pytest.fixture(scope="session")
def kafka() -> str:
    """The bootstrap servers of a real broker. Fails (never skips) without one."""
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if not servers:
        pytest.fail(
            "KAFKA_BOOTSTRAP_SERVERS is not set: these tests need a real Kafka broker; "
            "start one with: export $(scripts/kafka-local start)",
            pytrace=False,
        )
    return servers


@pytest.fixture
def prefix(kafka: str) -> str:
    """A fresh topic prefix with the catalog topics created under it."""
    p = f"pytest-{uuid.uuid4().hex[:12]}."
    te.ensure_topics(kafka, p, partitions=3)
    return p

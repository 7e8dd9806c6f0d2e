"""Shared fixtures of the deployment checks (scripts/deploy-test runs them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "todo-events"


def tool(env: str, name: str) -> str:
    """The path of a tool scripts/deploy-test installed (or one on PATH)."""
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found: run the checks through scripts/deploy-test, which installs it ({env})")
    return path


@pytest.fixture(scope="session")
def helm() -> str:
    return tool("HELM", "helm")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    return tool("DOCKER_COMPOSE", "docker-compose")

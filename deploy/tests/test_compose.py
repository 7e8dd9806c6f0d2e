"""docker-compose.yml, validated by Debian's `docker-compose config` (Compose's
own schema and interpolation; no Docker engine is needed or contacted): every
long-running service has a healthcheck and starts only after what it depends on
is healthy, the one-shot migration completes before any service starts, and no
secret has a default."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
TODO_SERVICES = {"chat-api", "sync-service", "audit-service", "notification-service", "recurring-task-service"}
SECRETS = {"JWT_SECRET": "0" * 64, "POSTGRES_PASSWORD": "f" * 32}


def config(docker_compose: str, file: Path, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # An empty env file, so that a developer's .env cannot supply what is missing.
    empty = tmp_path / "empty.env"
    empty.write_text("")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [docker_compose, "--env-file", str(empty), "-f", str(file), "config"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        check=False,
    )


@pytest.fixture
def resolved(docker_compose: str, tmp_path: Path) -> dict:
    r = config(docker_compose, COMPOSE, SECRETS, tmp_path)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


def test_the_file_is_valid_compose(resolved: dict) -> None:
    assert TODO_SERVICES | {"postgres", "kafka", "migrate"} == set(resolved["services"])


def test_every_service_is_health_checked_and_waits_for_healthy_dependencies(resolved: dict) -> None:
    services = resolved["services"]
    one_shots = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"migrate"}
    for name, s in services.items():
        if name not in one_shots:
            test = s.get("healthcheck", {}).get("test")
            assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
        for dep, cond in s.get("depends_on", {}).items():
            want = "service_completed_successfully" if dep in one_shots else "service_healthy"
            assert cond == {"condition": want}, f"{name} -> {dep}: {cond}"
    for name in TODO_SERVICES:
        deps = services[name]["depends_on"]
        assert set(deps) == {"postgres", "kafka", "migrate"}, name
        assert services[name]["healthcheck"]["test"][-1] == "http://localhost:8000/ready"
        assert services[name]["environment"]["TODO_MIGRATE"] == "skip", "only the migrate job migrates"
        assert services[name]["read_only"] is True


def test_secrets_come_from_the_environment_only(resolved: dict) -> None:
    for name in TODO_SERVICES:
        env = resolved["services"][name]["environment"]
        assert env["JWT_SECRET"] == SECRETS["JWT_SECRET"]
        assert f":{SECRETS['POSTGRES_PASSWORD']}@" in env["DATABASE_URL"]
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_no_secret_has_a_default(docker_compose: str, tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    r = config(docker_compose, COMPOSE, env, tmp_path)
    assert r.returncode != 0, f"compose started without {missing}"
    assert missing in r.stderr


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ("condition: service_healthy }\n    kafka", "condition: service_healty }\n    kafka"),
        ("  healthcheck:\n    test: [\"CMD\", \"curl\"", "  healtcheck:\n    test: [\"CMD\", \"curl\""),
        ("      interval: 2s\n", "      interval: [2s]\n"),
    ],
    ids=["misspelt-condition", "misspelt-key", "interval-not-a-duration"],
)
def test_a_broken_file_fails(docker_compose: str, tmp_path: Path, broken: str, why: str) -> None:
    text = COMPOSE.read_text()
    assert broken in text, "the test's anchor moved; update it"
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(text.replace(broken, why, 1))
    r = config(docker_compose, bad, SECRETS, tmp_path)
    assert r.returncode != 0, f"docker-compose config accepted {why!r}"

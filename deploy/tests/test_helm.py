"""The Helm chart: `helm lint`, `helm template` with the default values and with
every option switched on, each rendered manifest checked against the Kubernetes
API schemas (strict: unknown fields are errors) of the oldest and newest
Kubernetes versions the chart supports, the Dapr resources against their CRDs'
shape, and broken values files that must fail at the layer they name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import CHART

SCHEMAS = CHART.parent / "schemas"
BROKEN = CHART.parent / "tests" / "broken"
# Chart.yaml: kubeVersion >= 1.25; the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ["1.25.0", "1.34.0"]
VALUES = {
    "default": [],
    "full": [CHART / "ci" / "full-values.yaml"],
    "existing-secret": [CHART / "ci" / "existing-secret-values.yaml"],
}
DAPR_SCHEMAS = {
    ("dapr.io/v1alpha1", "Component"): SCHEMAS / "component-dapr-v1alpha1.json",
    ("dapr.io/v2alpha1", "Subscription"): SCHEMAS / "subscription-dapr-v2alpha1.json",
}


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def lint(helm: str, values: list[Path], kube: str = KUBE_VERSIONS[-1]) -> subprocess.CompletedProcess[str]:
    args = [a for v in values for a in ("-f", str(v))]
    return run([helm, "lint", "--strict", str(CHART), "--kube-version", kube, *args])


def template(helm: str, values: list[Path], kube: str = KUBE_VERSIONS[-1]) -> subprocess.CompletedProcess[str]:
    args = [a for v in values for a in ("-f", str(v))]
    return run([helm, "template", "demo", str(CHART), "--namespace", "todo", "--kube-version", kube, *args])


def documents(rendered: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(rendered) if d]


def schema_errors(doc: dict, kube: str) -> list[str]:
    """Why `doc` does not validate (empty: it does). Kinds without a schema fail."""
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    dapr = DAPR_SCHEMAS.get((doc.get("apiVersion"), doc.get("kind")))
    if dapr:
        validator = jsonschema.Draft7Validator(json.loads(dapr.read_text()))
        return [f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, kube, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{name}: {'.'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no schema for {doc.get('apiVersion')} {doc.get('kind')}"]
    return []


@pytest.mark.parametrize("values", VALUES, ids=list(VALUES))
def test_lint(helm: str, values: str) -> None:
    r = lint(helm, VALUES[values])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
@pytest.mark.parametrize("values", VALUES, ids=list(VALUES))
def test_rendered_manifests_match_the_kubernetes_schemas(helm: str, values: str, kube: str) -> None:
    r = template(helm, VALUES[values], kube)
    assert r.returncode == 0, r.stderr
    docs = documents(r.stdout)
    assert docs, "nothing rendered"
    errors = [e for d in docs for e in schema_errors(d, kube)]
    assert not errors, "\n".join(errors)


def rendered(helm: str, values: str) -> list[dict]:
    r = template(helm, VALUES[values])
    assert r.returncode == 0, r.stderr
    return documents(r.stdout)


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def test_defaults_run_two_of_every_service_safely(helm: str) -> None:
    docs = rendered(helm, "default")
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in by_kind(docs, "Deployment")}
    assert sorted(deployments) == ["audit", "chat-api", "notification", "recurring-task", "sync"]
    for name, d in deployments.items():
        assert d["spec"]["replicas"] == 2, name
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (c,) = pod["containers"]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["livenessProbe"]["httpGet"]["path"] == "/health"
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert c["resources"]["requests"] and c["resources"]["limits"]
        # Services never migrate: the hook Job does, before any of them starts.
        assert "initContainers" not in pod
    config = by_kind(docs, "ConfigMap")[0]["data"]
    assert config["TODO_MIGRATE"] == "skip"
    job = by_kind(docs, "Job")[0]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "todo migrate" in " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])
    assert len(by_kind(docs, "PodDisruptionBudget")) == 5
    assert not by_kind(docs, "Ingress") and not by_kind(docs, "HorizontalPodAutoscaler")


def test_no_secret_is_hard_coded(helm: str) -> None:
    """The JWT secret is random per render (kept across upgrades through `lookup`),
    and nothing else secret has a default."""
    first, second = (by_kind(rendered(helm, "default"), "Secret") for _ in range(2))
    main = [s for s in first if s["metadata"]["name"] == "demo-todo-events"][0]
    again = [s for s in second if s["metadata"]["name"] == "demo-todo-events"][0]
    assert main["data"]["JWT_SECRET"] != again["data"]["JWT_SECRET"]
    assert set(main["data"]) == {"JWT_SECRET"}, "no database URL or other secret by default"


def test_existing_secret_replaces_the_charts_secret(helm: str) -> None:
    docs = rendered(helm, "existing-secret")
    assert not by_kind(docs, "Secret") and not by_kind(docs, "Job")
    for d in by_kind(docs, "Deployment"):
        pod = d["spec"]["template"]["spec"]
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in pod["containers"][0]["env"] if "valueFrom" in e}
        assert refs == {"todo-events-secrets"}
        assert [c["name"] for c in pod["initContainers"]] == ["migrate"]
    assert not by_kind(docs, "PodDisruptionBudget")


def test_full_values_switch_everything_on(helm: str) -> None:
    docs = rendered(helm, "full")
    hpa = by_kind(docs, "HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-todo-events-chat-api"
    chat = [d for d in by_kind(docs, "Deployment") if d["metadata"]["name"].endswith("chat-api")][0]
    assert "replicas" not in chat["spec"], "the HPA owns chat-api's replica count"
    annotations = chat["spec"]["template"]["metadata"]["annotations"]
    assert annotations["dapr.io/enabled"] == "true" and annotations["dapr.io/app-id"] == "demo-todo-events-chat-api"
    sync = [d for d in by_kind(docs, "Deployment") if d["metadata"]["name"].endswith("-sync")][0]
    assert "dapr.io/enabled" not in sync["spec"]["template"]["metadata"]["annotations"]
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for p in by_kind(docs, "Ingress")[0]["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths == {
        "/ws": "demo-todo-events-sync",
        "/api/v1/audit": "demo-todo-events-audit",
        "/api/v1/notifications": "demo-todo-events-notification",
        "/": "demo-todo-events-chat-api",
    }
    component = by_kind(docs, "Component")[0]
    assert component["spec"]["type"] == "pubsub.kafka"
    meta = {m["name"]: m.get("value") for m in component["spec"]["metadata"]}
    assert meta["brokers"].startswith("kafka-0.kafka.svc:9093")
    subscription = by_kind(docs, "Subscription")[0]
    assert subscription["spec"]["topic"] == "prod.task-events"
    assert subscription["spec"]["pubsubname"] == component["metadata"]["name"]
    config = by_kind(docs, "ConfigMap")[0]["data"]
    assert config["KAFKA_PARTITIONS"] == "12" and config["KAFKA_TOPIC_PREFIX"] == "prod."
    assert "sasl.password" not in json.dumps(config), "Kafka credentials live in the Secret"


def broken_cases() -> list[tuple[str, str]]:
    cases = []
    for f in sorted(BROKEN.glob("*.yaml")):
        first = f.read_text().splitlines()[0]
        assert first.startswith("# expect: "), f"{f.name} must say which check rejects it"
        cases.append((f.name, first.removeprefix("# expect: ").strip()))
    return cases


@pytest.mark.parametrize(("name", "layer"), broken_cases(), ids=[c[0] for c in broken_cases()])
def test_broken_values_fail(helm: str, name: str, layer: str) -> None:
    """Each broken file gets through the checks before its layer and fails at it."""
    values = [BROKEN / name]
    r = lint(helm, values)
    if layer == "values-schema":
        assert r.returncode != 0, f"helm lint accepted {name}"
        assert template(helm, values).returncode != 0, f"helm template accepted {name}"
        return
    if layer == "render":
        # `helm lint` reports a template's `fail` as information only.
        assert "Fail:" in r.stdout + r.stderr, r.stdout + r.stderr
        assert template(helm, values).returncode != 0, f"helm template accepted {name}"
        return
    assert r.returncode == 0, r.stdout + r.stderr
    t = template(helm, values)
    assert t.returncode == 0, t.stderr
    errors = [e for d in documents(t.stdout) for e in schema_errors(d, KUBE_VERSIONS[-1])]
    assert errors, f"the schema checks accepted {name}"
    kinds = {e.split("/")[0] for e in errors}
    expected = {"dapr-schema": {"Component", "Subscription"}, "kubernetes-schema": {"Deployment", "Job"}}[layer]
    assert kinds <= expected, errors

"""deploy/ is checked without a container engine or a cluster: the compose file against the
Compose Specification's JSON schema (shipped in check-jsonschema), the Kubernetes manifests
against Kubernetes' own schemas (shipped in kubernetes-validate), strict, so a misspelt
field fails. And what the issue asks of them: healthchecks, resource limits, every service,
an autoscaler per Deployment, migrations as a Job."""

from __future__ import annotations

import importlib
import json
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.runtime import PORTS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.34"
SERVICES = set(PORTS)


def upstream_urls(service: str) -> dict[str, str]:
    """`<SERVICE>_<OTHER>_URL` -> its address in deploy/, for each service its Settings calls."""
    settings = importlib.import_module(f"services.{service}.settings").Settings
    return {
        f"{service.upper()}_{field.upper()}": f"http://{other}:8000"
        for field, other in settings.upstream_fields().items()
    }


def service_urls(service: str, env: dict[str, str]) -> dict[str, str]:
    """The variables of `env` that give `service` the address of another service."""
    prefix = service.upper() + "_"
    return {
        name: str(value)
        for name, value in env.items()
        if name.startswith(prefix)
        and name.endswith("_URL")
        and name.removeprefix(prefix).removesuffix("_URL").lower() in SERVICES
    }


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def manifests() -> list[tuple[str, dict]]:
    out = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        out += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def test_compose_file_follows_the_compose_specification():
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_compose_runs_kafka_in_kraft_mode_postgres_and_every_service_with_healthchecks_and_limits():
    services = compose()["services"]
    assert set(services) >= SERVICES
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert services["postgres"]["image"].startswith("postgres:")
    for name in SERVICES | {"postgres", "kafka"}:
        assert services[name].get("healthcheck", {}).get("test"), name
    for name in SERVICES | {"postgres", "kafka", "migrate"}:
        limits = services[name]["deploy"]["resources"]["limits"]
        assert limits["memory"] and limits["cpus"], name
    for name in SERVICES - {"gateway"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert service_urls(name, services[name]["environment"]) == upstream_urls(name), name


@pytest.mark.parametrize(
    "name,manifest", manifests(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_kubernetes_manifest_is_valid(name, manifest):
    try:
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{name} {manifest['kind']}: {exc.message} at {list(exc.path)}")


def test_every_service_has_a_probed_limited_deployment_a_service_and_an_autoscaler():
    by_kind: dict[str, dict[str, dict]] = {}
    for _, manifest in manifests():
        by_kind.setdefault(manifest["kind"], {})[manifest["metadata"]["name"]] = manifest
    assert set(by_kind["Deployment"]) == SERVICES
    assert set(by_kind["Service"]) == SERVICES
    for name, deployment in by_kind["Deployment"].items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"].startswith("/health/")
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        assert container["resources"]["requests"]["cpu"], name  # the autoscaler's baseline
    autoscalers = by_kind["HorizontalPodAutoscaler"]
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers.values()} == SERVICES
    [job] = by_kind["Job"].values()
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["b2b", "migrate"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_is_given_the_address_of_exactly_the_services_it_calls(service):
    """Not every service's address to every service: what its Settings declares, no more."""
    found = {(m["kind"], m["metadata"]["name"]): m for _, m in manifests()}
    [container] = found["Deployment", service]["spec"]["template"]["spec"]["containers"]
    k8s_env = {item["name"]: item.get("value", "") for item in container["env"]}
    assert service_urls(service, k8s_env) == upstream_urls(service)
    assert service_urls(service, compose()["services"][service]["environment"]) == (
        upstream_urls(service)
    )

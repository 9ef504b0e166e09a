"""Every service starts in production with exactly the environment deploy/ gives it: its
Settings are built from the compose file's and the Kubernetes manifests' variables (secrets
and placeholders filled with values that are not the development defaults) and its app is
created. A secret production requires and a manifest forgets fails here, not at 3 a.m."""

from __future__ import annotations

import importlib
import os
import re

import pytest

from tests.deploy.test_manifests import DEPLOY, SERVICES, compose, manifests

PLACEHOLDER = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def _secret(name: str) -> str:
    """A value an operator would set: not a development default, and a URL where one is due."""
    if name.endswith("_URL"):
        return f"postgresql+asyncpg://deploy:secret@postgres/{name.lower()}"
    return f"deploy-{name.lower()}-0123456789abcdef0123456789abcdef"


def compose_environment(service: str) -> dict[str, str]:
    env = compose()["services"][service]["environment"]
    return {
        name: PLACEHOLDER.sub(lambda m: _secret(m.group(1)), str(value))
        for name, value in env.items()
    }


def kubernetes_environment(service: str) -> dict[str, str]:
    found = {(m["kind"], m["metadata"]["name"]): m for _, m in manifests()}
    config = found["ConfigMap", "b2b-config"]["data"]
    [container] = found["Deployment", service]["spec"]["template"]["spec"]["containers"]
    env = {}
    for item in container["env"]:
        source = item.get("valueFrom", {})
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "secretKeyRef" in source:
            env[item["name"]] = _secret(source["secretKeyRef"]["key"])
        else:
            env[item["name"]] = config[source["configMapKeyRef"]["key"]]
    return env


def _start(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = service.upper() + "_"
    for name in list(os.environ):  # only what the manifest says, nothing from this machine
        if name.startswith(prefix):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = importlib.import_module(f"services.{service}.settings").Settings()
    assert settings.environment == "production"
    app = importlib.import_module(f"services.{service}.app").create_app(settings)
    assert app.state.settings is settings


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_starts_in_production_with_the_compose_environment(service, monkeypatch):
    _start(service, compose_environment(service), monkeypatch)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_starts_in_production_with_the_kubernetes_environment(service, monkeypatch):
    _start(service, kubernetes_environment(service), monkeypatch)


def test_production_refuses_what_a_manifest_leaves_at_its_development_default(monkeypatch):
    """The check above can fail: without the link secret, notifications does not start."""
    env = kubernetes_environment("notifications")
    del env["NOTIFICATIONS_LINK_SECRET"]
    with pytest.raises(ValueError, match="link_secret"):
        _start("notifications", env, monkeypatch)


def test_the_image_leaves_forwarded_for_to_the_gateway():
    """Uvicorn would believe X-Forwarded-For from 127.0.0.1 (a sidecar); the gateway alone
    decides whose it believes (GATEWAY_TRUSTED_PROXIES)."""
    command = (DEPLOY / "Dockerfile").read_text().split("CMD", 1)[1]
    assert "--no-proxy-headers" in command

"""Every OpenAPI document passes the linters generated clients and API portals rely on:
Redocly's `recommended` rules and Spectral's `spectral:oas`, with no error, and none of the
warnings that leave a reader or a generator guessing (an operation or a tag with no
description, a component nothing uses). `make test` installs both, pinned in tools/apilint."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from b2b.apidocs import OPENAPI_DIR
from shared.runtime import ROOT

TOOLS = ROOT / "tools" / "apilint"
BIN = TOOLS / "node_modules" / ".bin"
DOCUMENTS = sorted(str(p) for p in OPENAPI_DIR.glob("*.openapi.json"))
QUIET = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
SPECTRAL_REFUSED = {"operation-description", "tag-description", "oas3-unused-component"}

pytestmark = pytest.mark.skipif(
    not BIN.exists(), reason="the linters are not installed: `make apilint` (make test does it)"
)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=TOOLS, env=QUIET, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_redocly_recommended_finds_no_error(document):
    linted = run(str(BIN / "redocly"), "lint", "--format", "json", document)
    found = json.loads(linted.stdout)
    errors = [
        f"{p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for p in found["problems"]
        if p["severity"] == "error"
    ]
    assert errors == [], "\n".join(errors[:30])
    assert found["totals"]["errors"] == 0 and linted.returncode == 0, linted.stderr[-2000:]


def test_spectral_oas_finds_no_error_and_no_undescribed_or_unused_part():
    linted = run(str(BIN / "spectral"), "lint", "-r", ".spectral.yaml", "-f", "json", *DOCUMENTS)
    found = json.loads(linted.stdout or "[]")
    refused = [
        f"{p['code']}: {p['message']} in {p['source']} at {'/'.join(map(str, p['path']))}"
        for p in found
        if p["severity"] == 0 or p["code"] in SPECTRAL_REFUSED
    ]
    assert refused == [], "\n".join(refused[:30])

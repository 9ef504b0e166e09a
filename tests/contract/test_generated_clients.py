"""Clients generated from the gateway documents (versions 1 and 2) lose nothing: openapi-python-client (pinned in
tools/pyclient, installed by `make test`) generates a model for every schema and a parsed
answer for every response, and the package it writes imports."""

from __future__ import annotations

import subprocess

import pytest

from b2b.apidocs import OPENAPI_DIR
from shared.runtime import ROOT

GENERATOR = ROOT / ".tools" / "pyclient" / "bin" / "openapi-python-client"
CONFIG = ROOT / "tools" / "pyclient" / "config.yaml"

pytestmark = pytest.mark.skipif(
    not GENERATOR.exists(),
    reason="the generator is not installed: `make pyclient` (make test does)",
)


@pytest.mark.parametrize("document", ["gateway.openapi.json", "gateway.v2.openapi.json"])
def test_openapi_python_client_generates_every_schema_and_response(tmp_path, document):
    out = tmp_path / "client"
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(OPENAPI_DIR / document),
            "--output-path",
            str(out),
            "--config",
            str(CONFIG),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = generated.stdout + generated.stderr
    assert generated.returncode == 0, said[-3000:]
    assert "Warning" not in said and "WARNING" not in said, said[-3000:]
    imported = subprocess.run(
        [
            str(GENERATOR.parent / "python"),
            "-c",
            "import b2b_commerce_api_client.api, "
            "b2b_commerce_api_client.models as m; print(len(dir(m)))",
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert int(imported.stdout) > 300  # a model per schema, not a handful

"""Routers hold no SQL: a query or a statement lives in the service's store, a flow in its use
cases. Checked for every service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every service: a new one is checked from its first router.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/api"))
STATEMENTS = {"select", "insert", "update", "delete", "text"}
SESSION_CALLS = {"execute", "scalar", "scalars", "stream", "stream_scalars"}


def sql_in(source: str) -> list[str]:
    """Where a module builds or runs SQL: a call of select/insert/update/delete/text (however
    imported), or a session's execute/scalar(s)/stream. `router.delete(...)` is a route."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [
                f"{node.lineno}: imports {a.name}" for a in node.names if a.name in STATEMENTS
            ]
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in STATEMENTS:
            found.append(f"{node.lineno}: {func.id}(")
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            runs = func.attr in SESSION_CALLS and "session" in owner
            builds = func.attr in STATEMENTS and owner in ("sa", "sqlalchemy")
            if runs or builds:
                found.append(f"{node.lineno}: {owner}.{func.attr}(")
    return sorted(found)


def sql_in_api(service_dir: Path) -> dict[str, list[str]]:
    return {
        str(path.relative_to(service_dir)): hits
        for path in sorted((service_dir / "api").rglob("*.py"))
        if (hits := sql_in(path.read_text()))
    }


@pytest.mark.parametrize("service", SERVICES)
def test_no_sql_in_the_routers(service):
    assert sql_in_api(ROOT / "services" / service) == {}


def test_the_check_sees_sql_however_it_is_written():
    source = (
        "from sqlalchemy import select, update\n"
        "import sqlalchemy as sa\n"
        "async def handler(session, router):\n"
        "    await session.execute(update(T).values(x=1))\n"
        "    rows = await session.scalars(select(T))\n"
        "    sa.text('SELECT 1')\n"
        "    router.delete('/x')\n"
        "    multiline(100)\n"
    )
    assert sql_in(source) == [
        "1: imports select",
        "1: imports update",
        "4: session.execute(",
        "4: update(",
        "5: select(",
        "5: session.scalars(",
        "6: sa.text(",
    ]

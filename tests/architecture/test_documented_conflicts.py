"""An operation whose code can refuse with 409 says so in its OpenAPI document: a generated
client types only the answers a document lists. The code is read, not run: a function raises
409 if it raises Conflict (or a named error built on it) or calls, by name, a function of its
service or of the kernel that does. Calling by name over-approximates a little (two functions
of one name count as one), never the other way; the test harness is left out."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("accounts", "analytics", "catalog", "notifications", "orders", "pricing")
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _trees(service: str) -> Iterator[ast.Module]:
    for folder in (ROOT / "services" / service, ROOT / "shared"):
        for path in folder.rglob("*.py"):
            if "migrations" not in path.parts and "testing" not in path.parts:
                yield ast.parse(path.read_text())


def _name(node: ast.expr) -> str | None:
    node = node.func if isinstance(node, ast.Call) else node
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def _imported(tree: ast.Module) -> set[str]:
    """The names a module imports (modules and functions alike)."""
    return {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }


def _called(function: Function, imported: set[str]) -> set[str]:
    """What a function calls: plain names, and functions of modules it imported (a method of
    a local object, `admin.start()`, is not one of ours)."""
    called = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if owner is None or (isinstance(owner, ast.Name) and owner.id in imported):
            called.add(_name(node) or "")
    return called


def conflict_raisers(trees: list[ast.Module]) -> set[str]:
    """The names of the functions in these modules that can raise a 409."""
    classes = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    errors = {"Conflict"}
    while grown := {c.name for c in classes if {_name(b) for b in c.bases} & errors} - errors:
        errors |= grown
    raising: set[str] = set()
    calls: dict[str, set[str]] = {}
    for tree in trees:
        imported = _imported(tree)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls.setdefault(function.name, set()).update(_called(function, imported))
            if any(
                isinstance(n, ast.Raise) and n.exc is not None and _name(n.exc) in errors
                for n in ast.walk(function)
            ):
                raising.add(function.name)
    while grown := {n for n, called in calls.items() if called & raising} - raising:
        raising |= grown
    return raising


def undocumented_conflicts(service: str) -> list[str]:
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(module.Settings())
    document = app.openapi()
    raising = conflict_raisers(list(_trees(service)))
    missing = []
    for route in iter_route_contexts(app.routes):
        endpoint = getattr(route.original_route, "endpoint", None)
        if not isinstance(route.original_route, APIRoute) or endpoint is None:
            continue
        if not route.include_in_schema or endpoint.__name__ not in raising:
            continue
        for method in sorted(route.methods):
            operation = document["paths"][route.path_format][method.lower()]
            if "409" not in operation["responses"]:
                missing.append(f"{method} {route.path_format}")
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_an_operation_that_can_answer_409_documents_it(service):
    assert undocumented_conflicts(service) == []


def test_the_reading_follows_calls_into_named_errors():
    source = (
        "class Stale(Conflict): ...\n"
        "def check(v):\n"
        "    if v: raise Stale('changed meanwhile')\n"
        "async def flow(session):\n"
        "    await session.get(1)\n"
        "    check(2)\n"
        "async def route(session):\n"
        "    return await usecase.flow(session)\n"
        "async def other(session, admin):\n"
        "    await admin.check(3)\n"
        "    return await session.check(3)\n"
    )
    tree = ast.parse("from services.orders.usecases import checkout as usecase\n" + source)
    assert conflict_raisers([tree]) == {"check", "flow", "route"}

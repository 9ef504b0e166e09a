"""Is the current contract compatible with the released one?

A client built on a released document must keep working: no path or operation removed, no
field removed from a response (or an event), no enum value removed, no request field or
parameter newly required. Such a change is allowed only with a new major `info.version`.

Released copies live in openapi/released/<version>/ (`b2b release` cuts one).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from b2b.apidocs import OPENAPI_DIR

RELEASED_DIR = OPENAPI_DIR / "released"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_DEPTH = 12


def _resolve(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        node = target
        seen += 1
    return node


def flatten(document: dict[str, Any], schema: Any, at: str = "", depth: int = 0) -> dict[str, Any]:
    """Every field of a schema by its path (`lines[].sku`), with its own (resolved) schema."""
    out: dict[str, Any] = {}
    schema = _resolve(document, schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return out
    out[at] = schema
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            for path, node in flatten(document, part, at, depth + 1).items():
                out.setdefault(path, node)
    for name, prop in schema.get("properties", {}).items():
        out.update(flatten(document, prop, f"{at}.{name}" if at else name, depth + 1))
    if "items" in schema:
        out.update(flatten(document, schema["items"], f"{at}[]", depth + 1))
    if isinstance(schema.get("additionalProperties"), dict):
        out.update(flatten(document, schema["additionalProperties"], f"{at}{{}}", depth + 1))
    return out


def _enums(node: dict[str, Any]) -> set[Any]:
    values = set(map(json.dumps, node.get("enum", [])))
    if "const" in node:
        values.add(json.dumps(node["const"]))
    return values


def _required(fields: dict[str, Any]) -> set[str]:
    """Paths of required fields: required by their object, under required parents only."""
    out: set[str] = set()
    for path, node in fields.items():
        for name in node.get("required", []):
            child = f"{path}.{name}" if path else name
            parent_required = path == "" or path in out or path.endswith("[]")
            if parent_required:
                out.add(child)
    return out


def _compare_schemas(
    old_doc: dict[str, Any],
    old: Any,
    new_doc: dict[str, Any],
    new: Any,
    where: str,
    *,
    request: bool,
) -> list[str]:
    old_fields, new_fields = flatten(old_doc, old), flatten(new_doc, new)
    problems = []
    if not request:
        problems += [f"{where}: field `{p}` removed" for p in old_fields if p not in new_fields]
    for path, node in old_fields.items():
        if path in new_fields:
            gone = _enums(node) - _enums(new_fields[path]) if _enums(new_fields[path]) else set()
            problems += [f"{where}: `{path or '(body)'}` lost the value {v}" for v in sorted(gone)]
    if request:
        newly = _required(new_fields) - _required(old_fields)
        problems += [f"{where}: field `{p}` is newly required" for p in sorted(newly)]
    return problems


def _json_schema(container: dict[str, Any]) -> Any:
    content = container.get("content", {})
    for media, body in content.items():
        if "json" in media:
            return body.get("schema")
    return None


def openapi_breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            problems.append(f"path {path} removed")
            continue
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                problems.append(f"{where} removed")
                continue
            old_op, new_op = old_item[method], new_item[method]
            # A parameter the server already refused to go without (428 names it) was required
            # in fact, even where the old document did not say so.
            refused_without = old_op.get("responses", {}).get("428", {}).get("description", "")
            old_required = {
                (p.get("in"), p.get("name", "").lower())
                for p in _params(old, old_op)
                if p.get("required") or p.get("name", "").lower() in refused_without.lower()
            }
            for param in _params(new, new_op):
                key = (param.get("in"), param.get("name", "").lower())
                if param.get("required") and key not in old_required:
                    problems.append(f"{where}: parameter {key[1]} ({key[0]}) newly required")
            old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
            if old_body and new_body:
                problems += _compare_schemas(
                    old,
                    _json_schema(_resolve(old, old_body)),
                    new,
                    _json_schema(_resolve(new, new_body)),
                    f"{where} request",
                    request=True,
                )
            elif new_body and _resolve(new, new_body).get("required"):
                problems.append(f"{where}: a request body is newly required")
            for status, old_response in old_op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                new_response = new_op.get("responses", {}).get(status)
                if new_response is None:
                    problems.append(f"{where}: response {status} removed")
                    continue
                problems += _compare_schemas(
                    old,
                    _json_schema(_resolve(old, old_response)),
                    new,
                    _json_schema(_resolve(new, new_response)),
                    f"{where} {status}",
                    request=False,
                )
    return problems


def _params(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolve(document, p) for p in operation.get("parameters", [])]


def asyncapi_breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Consumers must keep reading every event: no channel or message gone, no field removed."""
    problems = [
        f"channel {name} removed" for name in old.get("channels", {}) if name not in new["channels"]
    ]
    new_messages = new.get("components", {}).get("messages", {})
    for name, message in old.get("components", {}).get("messages", {}).items():
        if name not in new_messages:
            problems.append(f"message {message.get('name', name)} removed")
            continue
        problems += _compare_schemas(
            old,
            message.get("payload"),
            new,
            new_messages[name].get("payload"),
            f"message {message.get('name', name)}",
            request=False,
        )
    return problems


def major(version: str) -> str:
    return str(version).split(".", 1)[0]


def breaking_changes(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What breaks clients of `old`, unless `new` bumped the major version."""
    if major(new.get("info", {}).get("version", "")) != major(
        old.get("info", {}).get("version", "")
    ):
        return []
    if name == "asyncapi.json":
        return asyncapi_breaking_changes(old, new)
    return openapi_breaking_changes(old, new)


def latest_release(directory: Path = RELEASED_DIR) -> Path | None:
    versions = [p for p in directory.iterdir() if p.is_dir()] if directory.exists() else []
    return (
        max(versions, key=lambda p: tuple(int(x) for x in p.name.split("."))) if versions else None
    )


def cut_release(version: str, directory: Path = OPENAPI_DIR) -> Path:
    """Copy the current documents to released/<version>/ (refused if that version exists)."""
    target = directory / "released" / version
    if target.exists():
        raise FileExistsError(f"{target} exists: a released contract never changes")
    target.mkdir(parents=True)
    for document in sorted(directory.glob("*.json")):
        shutil.copy2(document, target / document.name)
    return target

"""Every status an operation answers in the tests is one its OpenAPI document lists.

The apps the tests start record (operation, status) of each answer; at the end of the run the
statuses no document lists are printed and the run fails. A generated client types only the
documented answers, so an undocumented 409 or 428 is an answer a portal cannot read. Under
xdist each worker writes what it saw to a file and the controller checks the union."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.asgi import HttpMiddleware

# Answers the kernel may give to any request (a body over the limit, the gateway's rate limit):
# documented once, in the README, not on each operation.
EVERY_OPERATION = {413, 429}
Seen = tuple[str, str, str, int]  # service, method, path, status


class StatusRecorder(HttpMiddleware):
    """ASGI middleware: remembers the route and status of every answer the app gives."""

    def __init__(self, app: ASGIApp, service: str, seen: set[Seen]) -> None:
        super().__init__(app)
        self.service, self.seen = service, seen

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording(message: Message) -> None:
            route = scope.get("route")
            if message["type"] == "http.response.start" and route is not None:
                path = getattr(route, "path_format", None)
                if path is not None and getattr(route, "include_in_schema", False):
                    self.seen.add((self.service, scope["method"], path, message["status"]))
            await send(message)

        await self.app(scope, receive, recording)


SEEN: set[Seen] = set()
DOCUMENTS: dict[str, dict[str, Any]] = {}


def record(app: FastAPI, service: str) -> None:
    """Make `app` (not yet started) record its answers."""
    if service not in DOCUMENTS:  # one document a service: building one takes a while
        DOCUMENTS[service] = app.openapi()
    app.add_middleware(StatusRecorder, service=service, seen=SEEN)


def undocumented(seen: Iterable[Seen], documents: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for service, method, path, status in sorted(set(seen)):
        operation = documents[service]["paths"].get(path, {}).get(method.lower())
        if operation is None or status in EVERY_OPERATION:
            continue  # an operation kept out of the document (health probes, docs pages)
        responses = operation.get("responses", {})
        # A service or database away (502-504) is what the `default` problem answer is for.
        if str(status) not in responses and not (status >= 500 and "default" in responses):
            found.append(f"{service} {method} {path} answered {status}")
    return found


def save(directory: Path) -> None:
    """A worker's share: what it saw and the documents of the services it saw."""
    directory.mkdir(parents=True, exist_ok=True)
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (directory / f"statuses-{name}.json").write_text(
        json.dumps({"seen": sorted(SEEN), "documents": DOCUMENTS})
    )


def load(directory: Path) -> tuple[list[Seen], dict[str, dict[str, Any]]]:
    seen: list[Seen] = []
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("statuses-*.json")):
        share = json.loads(path.read_text())
        seen += [tuple(s) for s in share["seen"]]  # type: ignore[misc]
        documents.update(share["documents"])
    return seen, documents

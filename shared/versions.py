"""Version 2 of the API: every list answers one `Page` (`items` and `next_cursor`).

Version 1's small lists answered bare arrays, and clients built on version 1 must keep working,
so version 2 is served beside it rather than instead of it. A service declares only what changed:
its version-2 routes (the paginated lists) in `ServiceSpec.pages`, served under `/v2`. Every
other `/v2/<path>` is answered by the version-1 operation of `<path>`, which is the same in both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, get_args

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.utils import get_typed_signature
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.pagination import EVERY, PageParams

V2 = "/v2"
VERSIONS = {1: "0.1.0", 2: "2.0.0"}


def include_pages(app: FastAPI, router: APIRouter) -> None:
    """Version 2's lists under /v2; at each one's own path, its version-1 form: every item as
    a bare array, as version 1 answered, without `cursor` and `limit` (a list is written once)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        options: dict[str, Any] = {
            "methods": route.methods,
            "name": route.name,
            "summary": route.summary,
            "tags": route.tags,
            "responses": route.responses,
            "dependencies": route.dependencies,
            "response_model_exclude_unset": route.response_model_exclude_unset,
            "response_model_exclude_defaults": route.response_model_exclude_defaults,
            "response_model_exclude_none": route.response_model_exclude_none,
            "response_model_by_alias": route.response_model_by_alias,
        }
        app.add_api_route(
            route.path,
            _every_item(route.endpoint),
            response_model=route.response_model.model_fields["items"].annotation,
            description=(route.description + "\n\n" if route.description else "")
            + "Version 2 answers this list a page at a time (`/api/v2/...`).",
            deprecated=True,
            **options,
        )
        app.add_api_route(
            V2 + route.path,
            route.endpoint,
            response_model=route.response_model,
            description=route.description,
            **options,
        )


def _every_item(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    signature = get_typed_signature(endpoint)
    page = next(n for n, p in signature.parameters.items() if PageParams in get_args(p.annotation))

    async def every_item(**arguments: Any) -> Any:
        return (await endpoint(**arguments, **{page: EVERY})).items

    every_item.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for n, p in signature.parameters.items() if n != page]
    )
    every_item.__name__ = endpoint.__name__
    every_item.__doc__ = endpoint.__doc__
    return every_item


def is_v2(path: str) -> bool:
    return path.startswith(V2 + "/")


def unversioned(path: str) -> str:
    return path[len(V2) :] if is_v2(path) else path


class VersionTwoMiddleware:
    """Serves `/v2/<path>` with the version-1 route of `<path>` unless version 2 has its own.

    Outermost, so idempotency keys, ETags and metrics see the one operation both versions share.
    """

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the application's, complete by the first request
        self._own: list[APIRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_v2(scope["path"]) and not self._has_own(scope):
            scope = {
                **scope,
                "path": unversioned(scope["path"]),
                "raw_path": scope.get("raw_path", b"")[len(V2) :],
            }
        await self.app(scope, receive, send)

    def _has_own(self, scope: Scope) -> bool:
        if self._own is None:
            self._own = [r for r in self.routes if isinstance(r, APIRoute) and is_v2(r.path)]
        return any(route.matches(scope)[0] is Match.FULL for route in self._own)


def _routes_of(app: FastAPI, version: int) -> list[BaseRoute]:
    """The routes a version's document describes: version 2's own, then version 1's others."""
    own = [r for r in app.routes if isinstance(r, APIRoute) and is_v2(r.path)]
    if version == 1:
        return [r for r in app.routes if r not in own]
    replaced = {(unversioned(r.path_format), m) for r in own for m in r.methods}
    kept = [
        r
        for r in app.routes
        if r not in own
        and not (isinstance(r, APIRoute) and any((r.path_format, m) in replaced for m in r.methods))
    ]
    return [*own, *kept]


def openapi_of(app: FastAPI, version: int) -> dict[str, Any]:
    """The document of one version, paths as that version's callers write them after `/v2`."""
    document = get_openapi(
        title=app.title,
        version=VERSIONS[version],
        openapi_version=app.openapi_version,
        description=app.description,
        routes=_routes_of(app, version),
        tags=app.openapi_tags,
        servers=_servers(app.servers, version),
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    if version == 2:
        paths: dict[str, Any] = {}
        for path, item in document.get("paths", {}).items():
            paths.setdefault(unversioned(path), {}).update(item)
        v1 = get_openapi(title=app.title, version="", routes=_routes_of(app, 1))
        document["paths"] = _keep_operation_ids(paths, v1.get("paths", {}))
    return document


def _servers(servers: Iterable[dict[str, Any]] | None, version: int) -> list[dict[str, Any]] | None:
    if servers is None or version == 1:
        return list(servers) if servers is not None else None
    return [{**server, "url": server["url"] + V2} for server in servers]


def _keep_operation_ids(paths: dict[str, Any], v1_paths: dict[str, Any]) -> dict[str, Any]:
    """A paginated list keeps its version-1 operation id, so a generated client's method names
    do not change between the versions."""
    for path, item in paths.items():
        for method, operation in item.items():
            before = v1_paths.get(path, {}).get(method, {}).get("operationId")
            if isinstance(operation, dict) and before:
                operation["operationId"] = before
    return paths


def roles_of(roles: dict[tuple[str, str], Any], version: int) -> dict[tuple[str, str], Any]:
    """`callers`' roles keyed by the paths of one version's document."""
    if version == 1:
        return {key: who for key, who in roles.items() if not is_v2(key[0])}
    ordered = sorted(roles.items(), key=lambda kv: is_v2(kv[0][0]))  # version 2's own win
    return {(unversioned(path), method): who for (path, method), who in ordered}

"""Small real upstream apps for the gateway to talk to: they show what arrived."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from shared.auth import Principal, Role, verify_principal_headers
from shared.problems import Forbidden, Unauthorized, install_problem_handlers
from shared.settings import DEV_INTERNAL_SECRET

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def upstream_app(title: str = "Echo API") -> FastAPI:
    """Answers every path with what it received; a few paths behave specially."""
    app = FastAPI(title=title, description=f"{title} for gateway tests")
    app.state.hits = 0
    install_problem_handlers(app)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/widgets/{widget_id}", summary="One widget")
    async def widget(widget_id: int) -> dict[str, int]:
        return {"id": widget_id}

    @app.post("/things", status_code=201)
    async def create_thing(response: Response) -> dict[str, str]:
        response.headers["Location"] = "/things/1"
        response.headers["ETag"] = '"v1"'
        return {"id": "1"}

    @app.get("/download")
    async def download(size: int) -> StreamingResponse:
        async def chunks():
            for _ in range(size // 1024):
                yield b"x" * 1024

        return StreamingResponse(chunks(), media_type="text/csv")

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "late"}

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def echo(request: Request, path: str) -> JSONResponse:
        app.state.hits += 1
        body = b"".join([chunk async for chunk in request.stream()])
        if "delay" in request.query_params:  # a service that takes its time to answer
            await asyncio.sleep(float(request.query_params["delay"]))
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode(),
                "query": request.url.query,
                "headers": dict(request.headers),
                "size": len(body),
                "body": body[:1000].decode("latin-1"),
            }
        )

    return app


def accounts_stand_in(keys: dict[str, Principal]) -> FastAPI:
    """Accounts' API-key check as the gateway expects it, plus the echo routes."""
    app = upstream_app("Accounts stand-in")
    app.state.verify_calls = 0

    @app.post("/internal/api-keys/verify")
    async def verify(request: Request) -> Any:
        app.state.verify_calls += 1
        caller = verify_principal_headers(request.headers, DEV_INTERNAL_SECRET)
        if caller is None:
            raise Unauthorized("Authentication required.")
        if Role.SYSTEM not in caller.roles:
            raise Forbidden("Only services may check keys.")
        principal = keys.get((await request.json())["key"])
        if principal is None:
            raise Unauthorized("Unknown API key.")
        return principal.model_dump(mode="json")

    # The echo catch-all was registered first; the check must win over it.
    app.router.routes.insert(0, app.router.routes.pop())
    return app

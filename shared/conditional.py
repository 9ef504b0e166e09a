"""ETag and If-Match for every service, without each endpoint doing it by hand.

A JSON resource read with GET gets a strong `ETag`: the hash of the bytes sent, so it changes
exactly when what the caller saw changes (and `If-None-Match` gets a 304). A PUT, PATCH or
DELETE with `If-Match` is checked against the ETag the same path's GET would give now, or,
for a part that cannot be read alone (`PUT /carts/{id}/lines`), its parent's GET (the cart):
a stale one gets 412 and changes nothing. Conditional writes of one path run one at a time (a
transaction-scoped advisory lock), so two callers holding the same ETag cannot both win.

An endpoint that sets its own ETag (a row version, as accounts' companies do) checks
If-Match itself; the kernel leaves those alone.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from shared.asgi import HttpMiddleware
from shared.problems import problem_response

READS = frozenset({"GET", "HEAD"})
CONDITIONAL_WRITES = frozenset({"PUT", "PATCH", "DELETE"})
# Bodies larger than this are streamed on as they are, without an ETag.
MAX_HASHED_BODY = 4 * 1024 * 1024
LOCK = text("SELECT pg_advisory_xact_lock(hashtext('if-match:' || :path))")


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_listed(header: str, etag: str) -> bool:
    """If-Match / If-None-Match: `*` or a comma-separated list of entity tags (RFC 9110)."""
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


class _Representation:
    """What the same path's GET answers now, as this middleware would tag it."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: Headers | None = None
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = Headers(raw=message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    @property
    def own_etag(self) -> bool:
        return self.headers is not None and "etag" in self.headers

    @property
    def taggable(self) -> bool:
        return (
            self.status == 200
            and self.headers is not None
            and self.headers.get("content-type", "").startswith("application/json")
        )


class ConditionalRequestMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in READS:
            await self._read(scope, receive, send)
        elif scope["method"] in CONDITIONAL_WRITES and Headers(scope=scope).get("if-match"):
            await self._conditional_write(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None

        async def tagging_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held until the body shows whether it can be tagged
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            body = message.get("body", b"")
            headers = Headers(raw=held.get("headers", []))
            taggable = (
                held["status"] == 200
                and not message.get("more_body", False)
                and len(body) <= MAX_HASHED_BODY
                and "etag" not in headers
                and headers.get("content-type", "").startswith("application/json")
            )
            if taggable:
                etag = strong_etag(body)
                if if_none_match and etag_listed(if_none_match, etag):
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 304,
                            "headers": [(b"etag", etag.encode())],
                        }
                    )
                    await send({"type": "http.response.body", "body": b""})
                    return
                held = {**held, "headers": [*held.get("headers", []), (b"etag", etag.encode())]}
            await send(held)
            await send(message)

        await self.app(scope, receive, tagging_send)

    async def _conditional_write(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if_match = request.headers["if-match"]
        sessionmaker: async_sessionmaker[AsyncSession] | None = getattr(
            scope["app"].state, "sessionmaker", None
        )
        if sessionmaker is None:
            await self.app(scope, receive, send)
            return
        async with sessionmaker() as session, session.begin():
            await session.execute(LOCK, {"path": scope["path"]})
            current = await self._current(scope)
            if current.own_etag or not current.taggable:
                # The endpoint guards its own versions, or there is nothing to compare with
                # (no such resource: the write itself answers 404).
                await self.app(scope, receive, send)
                return
            etag = strong_etag(current.body)
            if not etag_listed(if_match, etag):
                await problem_response(
                    request,
                    412,
                    slug="precondition-failed",
                    detail="The resource changed since you read it; read it again.",
                    headers={"ETag": etag},
                )(scope, receive, send)
                return
            await self.app(scope, receive, send)

    async def _current(self, scope: Scope) -> _Representation:
        current = await self._read_path(scope, scope["path"])
        parent = scope["path"].rstrip("/").rsplit("/", 1)[0]
        if current.status == 405 and parent:  # the path is a part of its parent
            current = await self._read_path(scope, parent)
        return current

    async def _read_path(self, scope: Scope, path: str) -> _Representation:
        headers = [
            (k, v)
            for k, v in scope["headers"]
            if k
            not in (
                b"if-match",
                b"if-none-match",
                b"content-type",
                b"content-length",
                b"idempotency-key",
            )
        ]
        read_scope = {
            **scope,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "headers": headers,
            "query_string": b"",
        }
        representation = _Representation()

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await self.app(read_scope, no_body, representation.send)
        return representation

"""Idempotency-Key for POSTs that create things.

Only a success pins a key: same key and same body after a 2xx replay that answer; same key,
other body is 422. An answer that changed nothing (a 4xx refusal, a 5xx) frees the key, so the
caller may fix the request (or the cart behind it) and send it again under the same key.
A request still running under the key: 409. Keys are scoped to the caller, so two callers never
see each other's answers.

A replay does not check again whose data the answer holds or what the caller's roles allow:
it is, byte for byte, the answer this same caller was given when it was allowed, kept for a
day, and it does nothing again. So a caller whose client was since reassigned (or whose role
was since taken) learns nothing through its key that it had not been told.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Index, LargeBinary, String, delete, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from shared.asgi import HttpMiddleware
from shared.auth import verify_principal_headers
from shared.clock import utcnow
from shared.db import KernelBase
from shared.problems import problem_response

HEADER = "idempotency-key"
MAX_BODY = 10 * 1024 * 1024
STALE_AFTER = timedelta(minutes=2)
KEEP_FOR = timedelta(hours=24)
# Feed uploads carry their own idempotency (key -> job), computed while the file streams in.
SKIP_PREFIXES = ("/feeds/", "/v1/feeds/")


class IdempotencyRecord(KernelBase):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_progress | done
    status: Mapped[int | None]
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)


class IdempotencyMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get(HEADER)
        if not key or scope["path"].startswith(SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await problem_response(request, 400, detail="Idempotency-Key is too long.")(
                scope, receive, send
            )
            return

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await problem_response(request, 413, detail="Body too large.")(scope, receive, send)
                return

        app_state = scope["app"].state
        try:
            principal = verify_principal_headers(
                request.headers, app_state.settings.internal_secret.get_secret_value()
            )
        except Exception:
            principal = None
        owner = f"{principal.kind}:{principal.subject}" if principal else "anonymous"
        digest = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        sessionmaker: async_sessionmaker[AsyncSession] = app_state.sessionmaker

        verdict = await _claim(sessionmaker, owner, key, scope, digest)
        if isinstance(verdict, IdempotencyRecord):
            if verdict.state == "done":
                headers = {k: v for k, v in verdict.response_headers or []}
                headers["idempotent-replayed"] = "true"
                await _send_stored(send, verdict.status or 200, headers, verdict.response_body)
            else:
                await problem_response(
                    request,
                    409,
                    slug="idempotency-in-progress",
                    detail="A request with this Idempotency-Key is still being processed.",
                    headers={"Retry-After": "1"},
                )(scope, receive, send)
            return
        if verdict == "mismatch":
            await problem_response(
                request,
                422,
                slug="idempotency-key-reused",
                detail="This Idempotency-Key was used with a different request body.",
            )(scope, receive, send)
            return

        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if sent_body:
                return await receive()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-length", b"x-request-id")
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            await _finish(sessionmaker, owner, key, status, headers, b"".join(chunks))


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str, key: str, scope: Scope, digest: str
) -> IdempotencyRecord | str:
    async with sessionmaker() as session, session.begin():
        inserted = await session.scalar(
            insert(IdempotencyRecord)
            .values(
                scope=owner,
                key=key,
                method=scope["method"],
                path=scope["path"],
                request_hash=digest,
                state="in_progress",
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        if inserted is not None:
            return "claimed"
        existing = await session.get(IdempotencyRecord, (owner, key), with_for_update=True)
        if existing is None:  # pruned between the two statements
            return "claimed"
        if existing.request_hash != digest:
            return "mismatch"
        if existing.state == "in_progress" and utcnow() - existing.created_at > STALE_AFTER:
            existing.created_at = utcnow()  # the first attempt died: take the key over
            return "claimed"
        session.expunge(existing)
        return existing


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    key: str,
    status: int,
    headers: list[list[str]],
    body: bytes,
) -> None:
    # One statement: the key's outcome and the pruning of keys past KEEP_FOR.
    where = (IdempotencyRecord.scope == owner) & (IdempotencyRecord.key == key)
    expired = IdempotencyRecord.created_at < utcnow() - KEEP_FOR
    async with sessionmaker() as session, session.begin():
        if not 200 <= status < 300:
            await session.execute(delete(IdempotencyRecord).where(where | expired))
        else:
            pruned = delete(IdempotencyRecord).where(expired, ~where).cte("pruned")
            await session.execute(
                update(IdempotencyRecord)
                .where(where)
                .values(state="done", status=status, response_headers=headers, response_body=body)
                .add_cte(pruned)
            )


async def _send_stored(
    send: Send, status: int, headers: dict[str, str], body: bytes | None
) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body or b"")).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body or b""})

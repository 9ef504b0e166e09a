"""What the notifications tests run against: the service itself, a real SMTP server
(aiosmtpd), a real HTTP webhook receiver (uvicorn on a socket), and events published to the
real broker as the other services' relays publish them."""

from __future__ import annotations

import asyncio
import email
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.message import Message as EmailMessage
from typing import Any

import orjson
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import text

from services.notifications.usecases.fan_out import fan_out
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.accounts import PersonChangedV1, PersonMembership
from shared.contracts.orders import OrderDeliveredV1
from shared.events.envelope import CloudEvent, EventContract
from shared.events.kafka import Publisher
from shared.runtime import free_port
from shared.testing.fixtures import as_role
from tests import events as contract_events

ADMIN = as_role(Role.ADMIN)


async def eventually(check: Callable[[], Any], within: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {check.__name__}")
        await asyncio.sleep(every)


# SMTP -----------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


class SmtpServer:
    """A real SMTP server on a port chosen now, started when the test says so."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# Webhook receiver -----------------------------------------------------------------------------


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass
class Receiver:
    """An HTTP server on a real socket; answers `statuses` in turn, then `then`, with `body`."""

    statuses: list[int] = field(default_factory=list)
    then: int = 200
    body: bytes = b"ok"
    calls: list[Call] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    server: uvicorn.Server | None = None
    task: asyncio.Task | None = None
    on_call: Callable[[Call], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        call = Call(
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            received_at=time.time(),
        )
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)
        status = self.statuses.pop(0) if self.statuses else self.then
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": self.body})

    async def start(self) -> None:
        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            await self.task


# Events ---------------------------------------------------------------------------------------


def envelope(
    event: EventContract | None = None,
    *,
    event_type: str | None = None,
    topic: str | None = None,
    data: dict[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
) -> tuple[str, str, CloudEvent]:
    """(topic, key, envelope) of a contract event, or of a raw one (analytics' events)."""
    if event is not None:
        return (
            event.topic,
            event.aggregate_id(),
            CloudEvent(
                id=event_id or uuid.uuid4(),
                source="/b2b/test",
                type=event.full_type(),
                subject=event.aggregate_id(),
                data=event.model_dump(mode="json"),
            ),
        )
    assert event_type and topic and data is not None
    key = str(data.get("client_id") or data.get("company_id") or "x")
    return (
        topic,
        key,
        CloudEvent(
            id=event_id or uuid.uuid4(),
            source="/b2b/test",
            type="com.b2b." + event_type,
            subject=key,
            data=data,
        ),
    )


async def publish(bootstrap: str, *events: tuple[str, str, CloudEvent]) -> None:
    """Send envelopes to the broker the way the outbox relay does."""
    publisher = Publisher(bootstrap, "notifications-test")
    try:
        producer = await publisher.producer()
        await publisher.ensure_topics({topic for topic, _, _ in events})
        for topic, key, env in events:
            await producer.send_and_wait(
                topic,
                value=env.model_dump_json().encode(),
                key=key.encode(),
                headers=[("ce_id", str(env.id).encode()), ("ce_type", env.type.encode())],
            )
    finally:
        await publisher.close()


async def apply(app: FastAPI, *events: tuple[str, str, CloudEvent]) -> int:
    """Hand envelopes straight to the fan-out (tests of what it decides, not of the broker)."""
    made = 0
    for _, _, env in events:
        async with app.state.sessionmaker() as session, session.begin():
            made += await fan_out(session, app.state.settings, env.id, env.type, env.data)
    return made


async def applied(
    app: FastAPI, events: list[tuple[str, str, CloudEvent]], within: float = 30
) -> None:
    """Wait until the consumer applied every one of `events` (their ids are in its inbox)."""
    ids = [str(env.id) for _, _, env in events]

    async def all_in_inbox() -> bool:
        found = await rows(
            app,
            "SELECT count(*) AS n FROM inbox WHERE event_id = ANY(CAST(:ids AS uuid[]))",
            ids=ids,
        )
        return found[0]["n"] == len(ids)

    await eventually(all_in_inbox, within=within)


# People ---------------------------------------------------------------------------------------


@dataclass
class Company:
    id: uuid.UUID
    admin_id: uuid.UUID
    buyer_id: uuid.UUID
    manager_id: uuid.UUID
    name: str

    @property
    def admin_email(self) -> str:
        return f"admin-{self.admin_id}@example.com"

    @property
    def buyer_email(self) -> str:
        return f"buyer-{self.buyer_id}@example.com"

    def buyer(self) -> dict[str, str]:
        return as_role(Role.BUYER, company_id=self.id, subject=self.buyer_id)

    def admin(self) -> dict[str, str]:
        return as_role(Role.BUYER, Role.COMPANY_ADMIN, company_id=self.id, subject=self.admin_id)

    def manager(self) -> dict[str, str]:
        return as_role(Role.SALES_MANAGER, subject=self.manager_id)


def company_events(name: str) -> tuple[Company, list[tuple[str, str, CloudEvent]]]:
    """A company with an admin, a buyer and a sales manager, as accounts publishes them."""
    c = Company(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), name)
    now = utcnow()
    events = [
        envelope(
            contract_events.company_upserted(
                c.id, legal_name=name, sales_manager_id=c.manager_id, updated_at=now
            )
        ),
        envelope(
            person(c.manager_id, f"manager-{c.manager_id}@example.com", staff="sales_manager")
        ),
        envelope(person(c.admin_id, c.admin_email, member=(c.id, "company_admin"))),
        envelope(person(c.buyer_id, c.buyer_email, member=(c.id, "buyer"))),
    ]
    return c, events


async def companies_published(app: FastAPI, bootstrap: str, *names: str) -> list[Company]:
    """Companies and their people sent through the broker; returns once the consumer has them."""
    companies, events = _companies(names)
    await publish(bootstrap, *events)
    await applied(app, events)
    return companies


async def companies_applied(app: FastAPI, *names: str) -> list[Company]:
    """Companies and their people handed straight to the fan-out."""
    companies, events = _companies(names)
    await apply(app, *events)
    return companies


def _companies(names: tuple[str, ...]) -> tuple[list[Company], list[tuple[str, str, CloudEvent]]]:
    companies, events = [], []
    for name in names:
        company, people = company_events(name)
        companies.append(company)
        events += people
    return companies, events


def order_placed(
    company_id: uuid.UUID, number: str = "ORD-1", total_minor: int = 10000
) -> tuple[str, str, CloudEvent]:
    return envelope(contract_events.order_placed(company_id, total_minor, number=number))


def order_delivered(
    company_id: uuid.UUID, number: str, order_id: uuid.UUID | None = None
) -> tuple[str, str, CloudEvent]:
    """Delivered on time and in full, now (the survey rule asks a day later)."""
    return envelope(
        OrderDeliveredV1(
            order_id=order_id or uuid.uuid4(),
            company_id=company_id,
            number=number,
            delivered_at=utcnow(),
            promised_to=None,
            on_time=True,
            in_full=True,
            lines=[],
        )
    )


def person(
    user_id: uuid.UUID,
    address: str,
    *,
    staff: str | None = None,
    member: tuple[uuid.UUID, str] | None = None,
) -> PersonChangedV1:
    return PersonChangedV1(
        user_id=user_id,
        email=address,
        name=address.split("@")[0],
        staff_role=staff,
        active=True,
        memberships=[PersonMembership(company_id=member[0], role=member[1])] if member else [],
        changed_at=utcnow(),
    )


async def rows(app: FastAPI, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with app.state.sessionmaker() as session:
        result = await session.execute(text(sql), params)
        return [dict(r._mapping) for r in result]


def iso(d: date | datetime) -> str:
    return d.isoformat()


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)

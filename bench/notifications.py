"""Notifications benchmark: signed webhook deliveries per second to a local receiver, and the
end-to-end latency from an event published to the broker to the webhook received.

The notifications service runs as its own uvicorn process(es) (consumer, workers, API) on the
embedded PostgreSQL and broker; the receiver is a uvicorn server on a real socket in a process
of its own, verifying nothing but answering 204 fast; events are published to the broker the
way an outbox relay publishes them, at a steady rate.

    .venv/bin/python -m bench.notifications --events 20000 --rate 500 --processes 1
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
import uuid
from multiprocessing.connection import Connection

import asyncpg
import httpx
import orjson
import typer
import uvicorn

from bench.stack import ServiceProcess
from shared.app import asyncpg_dsn
from shared.auth import Role
from shared.clock import utcnow
from shared.contracts.orders import OrderPlacedV1
from shared.events.envelope import CloudEvent
from shared.events.kafka import Publisher
from shared.runtime import DATA_DIR, free_port, infrastructure, prepare_databases
from shared.testing.fixtures import as_role


def _receive(port: int, pipe: Connection) -> None:
    """The receiver process: records when each (event, delivery) first arrived (wall clock);
    sends the record when the parent asks."""
    received: dict[str, float] = {}
    calls = 0

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = dict(scope["headers"])
        if b"x-b2b-event-id" in headers:  # not the readiness probe
            event, delivery = headers[b"x-b2b-event-id"], headers[b"x-b2b-delivery-id"]
            received.setdefault(event.decode() + "/" + delivery.decode(), time.time())
            calls += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def report() -> None:
        while True:
            await asyncio.sleep(0.1)
            if pipe.poll():
                pipe.recv()
                pipe.send((len(received), calls, received))

    async def main() -> None:
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                access_log=False,
                backlog=4096,
            )
        )
        reporter = asyncio.create_task(report())
        await server.serve()
        reporter.cancel()

    asyncio.run(main())


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.pipe, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_receive, args=(self.port, child), daemon=True
        )
        self.process.start()

    async def ask(self) -> tuple[int, int, dict[str, float]]:
        self.pipe.send("report")
        return await asyncio.to_thread(self.pipe.recv)

    async def count(self) -> int:
        return (await self.ask())[0]

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await http.get(f"http://127.0.0.1:{self.port}/")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _ms(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.0f} ms  "
        f"p95 {_percentile(values, 95) * 1000:.0f} ms  "
        f"p99 {_percentile(values, 99) * 1000:.0f} ms  "
        f"max {max(values) * 1000:.0f} ms"
    )


async def run(
    database_url: str, kafka: str, events: int, rate: int, subscribers: int, processes: int
) -> None:
    stack = [
        ServiceProcess(
            "notifications",
            database_url,
            kafka,
            str(DATA_DIR / "bench" / "files"),
            env={
                "NOTIFICATIONS_LOG_LEVEL": "WARNING",
                "NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.05",
                # the receivers listen on 127.0.0.1
                "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            },
        )
        for _ in range(processes)
    ]
    receiver = Receiver()
    publisher = Publisher(kafka, "bench-notifications")
    try:
        for process in stack:
            await process.ready()
        await receiver.ready()
        company = uuid.uuid4()
        async with httpx.AsyncClient(base_url=stack[0].url, headers=as_role(Role.ADMIN)) as http:
            for _ in range(subscribers):
                created = await http.post(
                    "/webhooks",
                    json={
                        "url": f"http://127.0.0.1:{receiver.port}/hook",
                        "event_types": ["order.placed.v1"],
                        "company_id": str(company),
                    },
                )
                assert created.status_code == 201, created.text
        producer = await publisher.producer()
        await publisher.ensure_topics({OrderPlacedV1.topic})
        # warm-up: the consumers join their group and the first calls open connections
        for _ in range(20):
            _, value = _event(company)
            await producer.send_and_wait(OrderPlacedV1.topic, value=value, key=value[:40])
        while await receiver.count() < 20 * subscribers:
            await asyncio.sleep(0.2)
        cpu_before = sum(p.cpu_seconds() for p in stack)

        sent_at: dict[str, float] = {}
        started = time.perf_counter()
        slice_size = max(1, rate // 50)  # publish in small slices, 50 slices a second
        for i in range(0, events, slice_size):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            futures = []
            for _ in range(min(slice_size, events - i)):
                event_id, value = _event(company)
                sent_at[event_id] = time.time()
                # a key per event spreads them over partitions, as many companies' events would
                futures.append(
                    await producer.send(OrderPlacedV1.topic, value=value, key=event_id.encode())
                )
            await asyncio.gather(*futures)
        published = time.perf_counter() - started
        expected = (events + 20) * subscribers
        deadline = time.perf_counter() + max(120, events / 50)
        while await receiver.count() < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = sum(p.cpu_seconds() for p in stack) - cpu_before
        count, calls, received = await receiver.ask()
        latencies = [at - sent_at[key[:36]] for key, at in received.items() if key[:36] in sent_at]
        deliveries = len(latencies)
        await asyncio.sleep(0.5)  # the last attempts are logged after their batch
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            tried = await conn.fetchrow(
                "SELECT count(*) AS calls, count(*) FILTER (WHERE status_code IS DISTINCT FROM 204)"
                " AS failed, max(attempt) AS most FROM webhook_attempts"
            )
            stages = await conn.fetch(
                "SELECT event_id::text AS id, extract(epoch FROM created_at) AS queued "
                "FROM webhook_deliveries"
            )
        finally:
            await conn.close()
        queued = [float(r["queued"]) - sent_at[r["id"]] for r in stages if r["id"] in sent_at]

        print(
            f"events published     {events} in {published:.1f} s ({events / published:.0f}/s, asked {rate}/s)"
        )
        print(f"subscribers          {subscribers}; notifications processes {processes}")
        print(
            f"webhook deliveries   {deliveries} in {elapsed:.1f} s = {deliveries / elapsed:.0f}/s"
        )
        print(f"duplicate calls      {calls - count}")
        print(
            f"attempts logged      {tried['calls']} ({tried['failed']} failed, "
            f"at most {tried['most']} for one delivery)"
        )
        if queued:
            print(f"published->queued    {_ms(queued)}  (the consumer's share)")
        print(f"published->received  {_ms(latencies)}")
        print(
            f"service CPU          {cpu:.1f} s ({cpu / max(1, deliveries) * 1000:.2f} ms per delivery)"
        )
        print(f"service peak RSS     {max(p.peak_kib for p in stack) / 1024:.0f} MiB a process")
    finally:
        await publisher.close()
        receiver.stop()
        for process in stack:
            process.stop()


def _event(company: uuid.UUID) -> tuple[str, bytes]:
    event = OrderPlacedV1(
        order_id=uuid.uuid4(),
        company_id=company,
        currency="EUR",
        total_minor=12345,
        placed_at=utcnow(),
        number="B-1",
    )
    envelope = CloudEvent(
        source="/b2b/orders",
        type=event.full_type(),
        subject=event.aggregate_id(),
        data=event.model_dump(mode="json"),
    )
    return str(envelope.id), orjson.dumps(orjson.loads(envelope.model_dump_json()))


def main(
    events: int = typer.Option(20_000, help="Events to publish"),
    rate: int = typer.Option(500, help="Events published per second"),
    subscribers: int = typer.Option(1, help="Webhook subscribers of each event"),
    processes: int = typer.Option(1, help="Notifications processes (consumers and workers)"),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        urls = prepare_databases(server_url, ("notifications",), suffix="_bench", fresh=True)
        asyncio.run(run(urls["notifications"], kafka, events, rate, subscribers, processes))


if __name__ == "__main__":
    typer.run(main)

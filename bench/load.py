"""Load through the gateway: a realistic mix at a fixed rate over real sockets, every service
its own uvicorn process (gateway, accounts, catalog, pricing, orders) on the embedded
PostgreSQL and broker.

    .venv/bin/python -m bench.load --rate 300 --seconds 60

The mix, per buyer request (each buyer a client company with its own JWT):
  55% a catalog page of 50 products with the client's prices (`include=prices`)
  20% a cart's lines replaced (10 SKUs), 10% the priced cart read back
   5% a checkout of a fresh 10-line cart (create, fill, check out: three calls)
  10% the buyer's order history
and in the background ERP posts a 1,000-row stock feed every 5 s with an API key.
`--floor` sends only requests that do nothing behind the gateway (catalog's /health/live).

Requests are sent open-loop at the target rate (a slow answer does not slow the sender), so
latency includes queueing. Printed: throughput, p50/p99 per endpoint, errors by status, and
the CPU each process (and PostgreSQL) spent per request while the load ran.
Target on this 2-core machine: zero errors and p99 under 200 ms at 300 requests/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter, defaultdict

import httpx
import numpy as np
import orjson
import typer
from rich.console import Console
from rich.table import Table

from bench.orders import SERVICES, cart_lines, seed, sku_code
from bench.stack import ServiceProcess, database_cpu_seconds
from shared.auth import Role
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.settings import DEV_JWT_SECRET
from shared.testing.fixtures import as_role, truncate_all
from shared.tokens import issue_access_token
from shared.upstream import internal_client

console = Console()
API = "/api/v1"
MAX_IN_FLIGHT = 400
FLOOR = -1  # the action kind of --floor


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.done = 0

    def record(self, endpoint: str, started: float, response: httpx.Response | None) -> None:
        self.latency[endpoint].append((time.perf_counter() - started) * 1000)
        self.done += 1
        if response is None:
            self.errors[f"{endpoint} transport error"] += 1
        elif response.status_code >= 400:
            self.errors[f"{endpoint} {response.status_code}"] += 1


class Buyer:
    def __init__(self, company: uuid.UUID) -> None:
        token = issue_access_token(
            DEV_JWT_SECRET,
            user_id=uuid.uuid4(),
            roles=[Role.BUYER],
            company_id=company,
            companies=[company],
            ttl_seconds=3 * 3600,
        )
        self.company = company
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cart: str | None = None


async def call(
    http: httpx.AsyncClient, recorder: Recorder, endpoint: str, method: str, url: str, **kwargs
) -> httpx.Response | None:
    started = time.perf_counter()
    response = None
    try:
        response = await http.request(method, url, **kwargs)
        return response
    except httpx.TransportError:
        return None
    finally:
        recorder.record(endpoint, started, response)


async def catalog_page(http, recorder, buyer: Buyer, rng) -> None:
    category = f"cat-{int(rng.integers(0, 200))}"
    await call(
        http,
        recorder,
        "GET catalog/products?include=prices",
        "GET",
        f"{API}/catalog/products",
        params={"include": "prices", "limit": 50, "category": category},
        headers=buyer.headers,
    )


async def new_cart(http, recorder, buyer: Buyer) -> str | None:
    created = await call(
        http,
        recorder,
        "POST orders/carts",
        "POST",
        f"{API}/orders/carts",
        json={"name": uuid.uuid4().hex[:12]},
        headers=buyer.headers,
    )
    if created is None or created.status_code != 201:
        return None
    return created.json()["id"]


async def fill_cart(http, recorder, buyer: Buyer, cart: str, rng, skus: int) -> bool:
    """Replace the cart's lines with 10 random SKUs."""
    filled = await call(
        http,
        recorder,
        "PUT orders/carts/{id}/lines",
        "PUT",
        f"{API}/orders/carts/{cart}/lines",
        json={"lines": cart_lines(rng, skus, 10)},
        headers=buyer.headers,
    )
    return filled is not None and filled.status_code == 200


async def own_cart(http, recorder, buyer: Buyer) -> str | None:
    """The buyer's working cart, created on first use."""
    if buyer.cart is None:
        buyer.cart = await new_cart(http, recorder, buyer)
    return buyer.cart


async def cart_update(http, recorder, buyer: Buyer, rng, skus: int) -> None:
    cart = await own_cart(http, recorder, buyer)
    if cart:
        await fill_cart(http, recorder, buyer, cart, rng, skus)


async def cart_read(http, recorder, buyer: Buyer) -> None:
    cart = await own_cart(http, recorder, buyer)
    if cart:
        await call(
            http,
            recorder,
            "GET orders/carts/{id}",
            "GET",
            f"{API}/orders/carts/{cart}",
            headers=buyer.headers,
        )


async def checkout(http, recorder, buyer: Buyer, rng, skus: int) -> None:
    cart = await new_cart(http, recorder, buyer)
    if not cart or not await fill_cart(http, recorder, buyer, cart, rng, skus):
        return
    await call(
        http,
        recorder,
        "POST orders/carts/{id}/checkout",
        "POST",
        f"{API}/orders/carts/{cart}/checkout",
        headers={**buyer.headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def read(http, recorder, buyer: Buyer, path: str, **params) -> None:
    """A GET of `path` (below /api/v1/) as the buyer, recorded as `GET path`."""
    await call(
        http, recorder, f"GET {path}", "GET", f"{API}/{path}", params=params, headers=buyer.headers
    )


async def order_history(http, recorder, buyer: Buyer) -> None:
    await read(http, recorder, buyer, "orders/orders", limit=20)


async def stock_feeds(http, recorder, key: str, skus: int, stop: asyncio.Event, rng) -> int:
    """ERP's stock feed every 5 s in the background; returns how many were applied."""
    applied = 0
    headers = {"X-API-Key": key, "Content-Type": "text/csv"}
    while not stop.is_set():
        rows = "".join(
            f"{sku_code(int(i))},MAIN,{int(q)}\n"
            for i, q in zip(
                rng.choice(skus, 1000, replace=False), rng.integers(1000, 10**8, 1000), strict=True
            )
        )
        posted = await call(
            http,
            recorder,
            "POST catalog/feeds/stock",
            "POST",
            f"{API}/catalog/feeds/stock",
            content="sku,warehouse,on_hand\n" + rows,
            headers=headers,
        )
        if posted is not None and posted.status_code == 202:
            applied += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)
    return applied


async def floor(http, recorder, buyer: Buyer) -> None:
    """A request that does nothing behind the gateway: what a hop costs at the least."""
    await read(http, recorder, buyer, "catalog/health/live")


def action(kind: int, http, recorder, buyer: Buyer, rng, skus: int):
    """The coroutine of one buyer action of the mix (see MIX)."""
    if kind == FLOOR:
        return floor(http, recorder, buyer)
    if kind == 0:
        return catalog_page(http, recorder, buyer, rng)
    if kind == 1:
        return cart_update(http, recorder, buyer, rng, skus)
    if kind == 2:
        return cart_read(http, recorder, buyer)
    if kind == 3:
        return checkout(http, recorder, buyer, rng, skus)
    return order_history(http, recorder, buyer)


async def drive(
    gateway_url: str, key: str, companies, skus: int, rate: int, seconds: int, only_floor: bool
):
    rng = np.random.default_rng(11)
    buyers = [Buyer(c) for c in companies]
    # The sender on aiohttp's pool too: on httpx's own it cost more CPU than the gateway.
    async with internal_client(httpx.Timeout(30), MAX_IN_FLIGHT, base_url=gateway_url) as http:
        # Warm-up: every buyer's first page (pricing's book, the pools), not measured.
        warm = Recorder()
        await asyncio.gather(*(catalog_page(http, warm, b, rng) for b in buyers))
        recorder = Recorder()
        stop = asyncio.Event()
        feeds = (
            None
            if only_floor
            else asyncio.create_task(stock_feeds(http, recorder, key, skus, stop, rng))
        )
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: list[asyncio.Task] = []
        mix = np.array([0.55, 0.20, 0.10, 0.05, 0.10])
        started = time.perf_counter()
        total = rate * seconds
        for n in range(total):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            buyer = buyers[int(rng.integers(0, len(buyers)))]
            kind = FLOOR if only_floor else int(rng.choice(len(mix), p=mix))
            work = action(kind, http, recorder, buyer, rng, skus)

            async def run(work=work) -> None:
                async with in_flight:
                    await work

            tasks.append(asyncio.create_task(run()))
        sent_for = time.perf_counter() - started
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        stop.set()
        feeds_applied = await feeds if feeds else 0
    return recorder, sent_for, elapsed, feeds_applied


def report(recorder: Recorder, sent_for: float, elapsed: float, feeds: int, rate: int) -> dict:
    table = Table("endpoint", "requests", "p50 ms", "p99 ms", "max ms")
    figures: dict[str, object] = {}
    for endpoint, samples in sorted(recorder.latency.items()):
        p50, p99 = np.percentile(samples, 50), np.percentile(samples, 99)
        table.add_row(
            endpoint, str(len(samples)), f"{p50:.1f}", f"{p99:.1f}", f"{max(samples):.1f}"
        )
        figures[endpoint] = {"n": len(samples), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}
    every = [s for samples in recorder.latency.values() for s in samples]
    table.add_row(
        "all",
        str(len(every)),
        f"{np.percentile(every, 50):.1f}",
        f"{np.percentile(every, 99):.1f}",
        f"{max(every):.1f}",
    )
    console.print(table)
    throughput = recorder.done / elapsed
    console.print(
        f"target {rate} req/s (buyer actions; a checkout is 3 requests) | sent over "
        f"{sent_for:.1f} s | {recorder.done} requests in {elapsed:.1f} s = "
        f"{throughput:.0f} req/s | stock feeds posted in the background: {feeds}"
    )
    errors = sum(recorder.errors.values())
    console.print(f"errors: {errors}" + (f" {dict(recorder.errors)}" if errors else ""))
    figures.update(
        throughput_rps=round(throughput),
        errors=errors,
        p99_all_ms=round(np.percentile(every, 99), 1),
    )
    return figures


async def run_stack(urls: dict[str, str], kafka: str, args: dict) -> dict:
    for url in urls.values():
        await truncate_all(url)
    data = DATA_DIR / "bench" / "load-stack"
    stack: dict[str, ServiceProcess] = {}
    for name in ("accounts", "pricing"):
        stack[name] = ServiceProcess(name, urls[name], kafka, str(data / name))
    # Catalog prices its pages by asking pricing where it listens.
    stack["catalog"] = ServiceProcess(
        "catalog",
        urls["catalog"],
        kafka,
        str(data / "catalog"),
        env={"CATALOG_PRICING_URL": stack["pricing"].url},
    )
    others = {f"{n}": stack[n].url for n in ("accounts", "catalog", "pricing")}
    stack["orders"] = ServiceProcess(
        "orders",
        urls["orders"],
        kafka,
        str(data / "orders"),
        env={f"ORDERS_{n.upper()}_URL": u for n, u in others.items()},
    )
    stack["gateway"] = ServiceProcess(
        "gateway",
        "",
        kafka,
        str(data / "gateway"),
        env={
            **{f"GATEWAY_{n.upper()}_URL": s.url for n, s in stack.items()},
            "GATEWAY_ANALYTICS_URL": "http://127.0.0.1:1",
            "GATEWAY_NOTIFICATIONS_URL": "http://127.0.0.1:1",
        },
    )
    try:
        for name, service in stack.items():
            if name != "gateway":  # its readiness would wait on analytics, not run here
                await service.ready()
        await _gateway_up(stack["gateway"].url)
        dsns = {n: u.replace("+asyncpg", "") for n, u in urls.items()}
        started = time.perf_counter()
        companies = await seed(stack, dsns, args["clients"], args["skus"])
        console.print(f"seeded in {time.perf_counter() - started:.1f} s")
        async with httpx.AsyncClient(base_url=stack["accounts"].url) as http:
            key = (
                await http.post(
                    "/api-keys",
                    json={"name": "load ERP", "role": "integrator"},
                    headers=as_role(Role.ADMIN),
                )
            ).json()["key"]
        pg_dir = DATA_DIR / "bench" / "pg"
        cpu_before = {n: s.cpu_seconds() for n, s in stack.items()}
        cpu_before["postgres"] = database_cpu_seconds(pg_dir)
        sender_before = time.process_time()
        recorder, sent_for, elapsed, feeds = await drive(
            stack["gateway"].url,
            key,
            companies,
            args["skus"],
            args["rate"],
            args["seconds"],
            args["floor"],
        )
        figures = report(recorder, sent_for, elapsed, feeds, args["rate"])
        # CPU per request while the load ran: where the two cores go, whatever the rate.
        cpu = {n: s.cpu_seconds() - cpu_before[n] for n, s in stack.items()}
        cpu["postgres"] = database_cpu_seconds(pg_dir) - cpu_before["postgres"]
        cpu["load sender"] = time.process_time() - sender_before
        figures["cpu_ms_per_request"] = {
            n: round(1000 * seconds / max(recorder.done, 1), 2) for n, seconds in cpu.items()
        }
        console.print(
            "CPU ms per request: "
            + ", ".join(f"{n} {v}" for n, v in figures["cpu_ms_per_request"].items())
        )
        return figures
    finally:
        for service in stack.values():
            service.stop()


async def _gateway_up(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/health/live")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError("the gateway did not start")


def main(
    rate: int = typer.Option(300, help="Buyer actions per second"),
    seconds: int = typer.Option(60, help="How long the load runs"),
    clients: int = typer.Option(200, help="Client companies, one buyer each"),
    skus: int = typer.Option(5_000),
    only_floor: bool = typer.Option(
        False,
        "--floor",
        help="Only requests that do nothing behind the gateway (a service's /health/live): "
        "the least a request through the stack costs",
    ),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        urls = prepare_databases(server_url, SERVICES, suffix="_load", fresh=True)
        args = {
            "rate": rate,
            "seconds": seconds,
            "clients": clients,
            "skus": skus,
            "floor": only_floor,
        }
        figures = asyncio.run(run_stack(urls, kafka, args))
    console.print(orjson.dumps(figures, option=orjson.OPT_SERIALIZE_NUMPY).decode())


if __name__ == "__main__":
    typer.run(main)

"""Orders benchmark: checkout of 200-line carts through the real saga, every service its own
process on real sockets (accounts, catalog, pricing, orders), the embedded PostgreSQL and broker.

    .venv/bin/python -m bench.orders

ERP feeds seed clients, products, stock and a base price list; the events reach pricing and
orders over the broker. Then it prints: filling a 200-line and a 5,000-line cart, checkout
latency p50/p99 one at a time, and orders per second sustained with concurrent buyers (each
checkout prices the cart in pricing, checks credit in accounts, reserves stock in catalog and
writes the order with its outbox event), with the CPU each service spent per order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import numpy as np
import orjson
import typer
from rich.console import Console
from rich.table import Table

from bench.stack import ServiceProcess
from shared.auth import Role
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.testing.fixtures import as_role, truncate_all

console = Console()
SERVICES = ("accounts", "catalog", "pricing", "orders")
ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="bench-erp")


def sku_code(i: int) -> str:
    return f"SKU-{i:05d}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


async def feed(http: httpx.AsyncClient, path: str, body: str) -> dict:
    headers = {
        **as_role(Role.INTEGRATOR, kind="api_key", subject="bench-erp"),
        "Content-Type": "text/csv",
    }
    posted = await http.post(path, content=body, headers=headers)
    posted.raise_for_status()
    for _ in range(3000):
        job = (
            await http.get(f"{path.rsplit('/', 1)[0]}/{posted.json()['id']}", headers=headers)
        ).json()
        if job["state"] in ("succeeded", "rejected", "failed"):
            if job["state"] != "succeeded":
                raise RuntimeError(f"{path}: {job}")
            return job
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{path} did not finish")


async def wait_for(dsn: str, query: str, expected: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(1200):
            if await conn.fetchval(query) >= expected:
                return
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise RuntimeError(f"{query} never reached {expected}")


async def seed(
    stack: dict[str, ServiceProcess], dsns: dict[str, str], clients: int, skus: int
) -> list[uuid.UUID]:
    async with httpx.AsyncClient(timeout=300) as http:
        await feed(
            http,
            f"{stack['accounts'].url}/feeds/clients",
            "external_id,legal_name,currency\n"
            + "".join(f"C-{i},Client {i},EUR\n" for i in range(clients)),
        )
        await feed(
            http,
            f"{stack['catalog'].url}/feeds/catalog",
            "sku,name,brand,category,unit\n"
            + "".join(
                f"{sku_code(i)},Item {i},Brand{i % 50},cat-{i % 200},pcs\n" for i in range(skus)
            ),
        )
        await feed(
            http,
            f"{stack['catalog'].url}/feeds/stock",
            "sku,warehouse,on_hand\n"
            + "".join(f"{sku_code(i)},MAIN,100000000\n" for i in range(skus)),
        )
        created = await http.post(
            f"{stack['pricing'].url}/price-lists",
            headers=as_role(Role.ADMIN),
            json={"code": "BASE", "name": "Base", "currency": "EUR", "is_base": True},
        )
        created.raise_for_status()
        for service in ("pricing", "orders"):
            table = "skus" if service == "pricing" else "products"
            await wait_for(dsns[service], f"SELECT count(*) FROM {table}", skus)
        await wait_for(dsns["pricing"], "SELECT count(*) FROM clients", clients)
        await wait_for(dsns["orders"], "SELECT count(*) FROM companies", clients)
        # Orders projects the stock feed too: its events must not be counted as checkout CPU.
        await wait_for(dsns["orders"], "SELECT count(*) FROM stock_levels", skus)
        rng = np.random.default_rng(1)
        await feed(
            http,
            f"{stack['pricing'].url}/feeds/prices",
            "list,client,sku,min_qty,price_minor,currency\n"
            + "".join(
                f"BASE,,{sku_code(i)},1,{p},EUR\nBASE,,{sku_code(i)},10,{p * 9 // 10},EUR\n"
                for i, p in enumerate(rng.integers(100, 100_000, skus))
            ),
        )
    conn = await asyncpg.connect(dsns["orders"])
    try:
        return [r["id"] for r in await conn.fetch("SELECT id FROM companies ORDER BY external_id")]
    finally:
        await conn.close()


class Buyers:
    """One buyer per client company; headers signed afresh (they expire after five minutes)."""

    def __init__(self, companies: list[uuid.UUID]) -> None:
        self.companies = companies
        self.subjects = [uuid.uuid4() for _ in companies]

    def headers(self, i: int) -> dict[str, str]:
        n = i % len(self.companies)
        return as_role(Role.BUYER, company_id=self.companies[n], subject=self.subjects[n])


async def filled_cart(
    http: httpx.AsyncClient, headers: dict, lines: list[dict]
) -> tuple[str, float]:
    cart = await http.post("/carts", json={"name": uuid.uuid4().hex[:12]}, headers=headers)
    cart.raise_for_status()
    cart_id = cart.json()["id"]
    started = time.perf_counter()
    put = await http.put(f"/carts/{cart_id}/lines", json={"lines": lines}, headers=headers)
    put.raise_for_status()
    return cart_id, (time.perf_counter() - started) * 1000


def cart_lines(rng: np.random.Generator, skus: int, n: int) -> list[dict]:
    return [
        {"sku": sku_code(int(i)), "quantity": str(int(q))}
        for i, q in zip(rng.choice(skus, n, replace=False), rng.integers(1, 20, n), strict=True)
    ]


async def checkout(http: httpx.AsyncClient, headers: dict, cart_id: str) -> float:
    started = time.perf_counter()
    answer = await http.post(
        f"/carts/{cart_id}/checkout",
        json={},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 201:
        raise RuntimeError(f"checkout {answer.status_code}: {answer.text[:500]}")
    return elapsed


async def run(
    urls: dict[str, str],
    kafka: str,
    clients: int,
    skus: int,
    sequential: int,
    sustained: int,
    workers: list[int],
) -> None:
    for url in urls.values():
        await truncate_all(url)
    data = DATA_DIR / "bench" / "orders-stack"
    stack: dict[str, ServiceProcess] = {}
    for name in ("accounts", "catalog", "pricing"):
        stack[name] = ServiceProcess(name, urls[name], kafka, str(data / name))
    # Orders calls the other three where they listen.
    stack["orders"] = ServiceProcess(
        "orders",
        urls["orders"],
        kafka,
        str(data / "orders"),
        env={f"ORDERS_{n.upper()}_URL": stack[n].url for n in ("accounts", "catalog", "pricing")},
    )
    figures: dict[str, object] = {"clients": clients, "skus": skus}
    try:
        for service in stack.values():
            await service.ready()
        dsns = {n: u.replace("+asyncpg", "") for n, u in urls.items()}
        started = time.perf_counter()
        companies = await seed(stack, dsns, clients, skus)
        figures["seed_s"] = round(time.perf_counter() - started, 1)
        buyers = Buyers(companies)
        rng = np.random.default_rng(7)
        async with httpx.AsyncClient(base_url=stack["orders"].url, timeout=120) as http:
            # Warm every path once (pricing loads its book, pools fill).
            for i in range(5):
                cart_id, _ = await filled_cart(http, buyers.headers(i), cart_lines(rng, skus, 200))
                await checkout(http, buyers.headers(i), cart_id)
            big_put, big_get = [], []
            for i in range(5):
                cart_id, ms = await filled_cart(
                    http, buyers.headers(i), cart_lines(rng, skus, 5_000)
                )
                big_put.append(ms)
                started = time.perf_counter()
                (await http.get(f"/carts/{cart_id}", headers=buyers.headers(i))).raise_for_status()
                big_get.append((time.perf_counter() - started) * 1000)
            figures["5000-line cart: set lines ms (median of 5)"] = round(
                float(np.median(big_put)), 1
            )
            figures["5000-line cart: priced read ms (median of 5)"] = round(
                float(np.median(big_get)), 1
            )
            fills, single = [], []
            for i in range(sequential):
                headers = buyers.headers(i)
                cart_id, ms = await filled_cart(http, headers, cart_lines(rng, skus, 200))
                fills.append(ms)
                single.append(await checkout(http, headers, cart_id))
            figures["200-line cart: set lines p50/p99 ms"] = tuple(
                round(x, 1) for x in percentiles(fills)
            )
            figures["200-line checkout, one at a time, p50/p99 ms"] = tuple(
                round(x, 1) for x in percentiles(single)
            )
            for concurrency in workers:
                ready = []
                for i in range(sustained):
                    headers = buyers.headers(i)
                    cart_id, _ = await filled_cart(http, headers, cart_lines(rng, skus, 200))
                    ready.append((headers, cart_id))
                queue = iter(ready)
                samples: list[float] = []

                async def buyer(queue: Iterator[tuple[Any, str]], samples: list[float]) -> None:
                    for headers, cart_id in queue:
                        samples.append(await checkout(http, headers, cart_id))

                cpu = {n: s.cpu_seconds() for n, s in stack.items()}
                started = time.perf_counter()
                await asyncio.gather(*(buyer(queue, samples) for _ in range(concurrency)))
                seconds = time.perf_counter() - started
                p50, p99 = percentiles(samples)
                figures[f"orders/s at {concurrency} concurrent"] = round(len(samples) / seconds, 1)
                figures[f"checkout p50/p99 ms at {concurrency} concurrent"] = (
                    round(p50, 1),
                    round(p99, 1),
                )
                figures[f"CPU ms per order at {concurrency} concurrent"] = {
                    n: round((s.cpu_seconds() - cpu[n]) * 1000 / len(samples), 1)
                    for n, s in stack.items()
                }
        figures["peak RSS MiB"] = {n: round(s.peak_kib / 1024) for n, s in stack.items()}
    finally:
        for service in stack.values():
            service.stop()
    table = Table("figure", "value")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)
    console.print(orjson.dumps(figures).decode())


def main(
    clients: int = typer.Option(200),
    skus: int = typer.Option(5_000),
    sequential: int = typer.Option(200, help="Checkouts timed one at a time"),
    sustained: int = typer.Option(1_000, help="Checkouts per concurrency level"),
    workers: str = typer.Option("4,16", help="Concurrent buyers, comma separated"),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        urls = prepare_databases(server_url, SERVICES, suffix="_bench", fresh=True)
        asyncio.run(
            run(
                urls,
                kafka,
                clients,
                skus,
                sequential,
                sustained,
                [int(w) for w in workers.split(",")],
            )
        )


if __name__ == "__main__":
    typer.run(main)

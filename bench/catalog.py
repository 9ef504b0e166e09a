"""Catalog benchmark: N products through the ERP catalog feed, then product search pages.

    .venv/bin/python -m bench.catalog --products 1000000
    .venv/bin/python -m bench.catalog --mode marketplace --products 100000

Loads the products through the real feed job, then times `GET /products` pages (text search,
filtered by category and brand, and plain category listing) through the ASGI app, and prints
p50/p99 and the mean rows of a page per query shape, the sizes of the table and its search
indexes, and the bench process's peak RSS. Runs against the embedded PostgreSQL and broker in
.data/bench.

`--mode marketplace` runs catalog and pricing as their own uvicorn processes, prices 90 % of
the products (two tiers) in a partner's list and times the partner's feed over HTTP: a full
pull as JSON lines and as CSV (time, size, catalog's peak memory above its resting size) and
the 304 of an unchanged feed.
"""

from __future__ import annotations

import asyncio
import resource
import time

import asyncpg
import httpx
import numpy as np
import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from services.catalog.api.feeds import SPECS
from services.catalog.app import create_app
from services.catalog.settings import Settings
from shared.auth import Role
from shared.feeds import process_next
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.testing.fixtures import as_role, client, running, truncate_all

console = Console()
WORDS = ["board", "glue", "tile", "primer", "screw", "profile", "panel", "plaster", "foam", "tape"]
BRANDS = [f"Brand{i:03d}" for i in range(200)]
CATEGORIES = [f"cat-{i:04d}" for i in range(2_000)]


def products(n: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    words = np.array(WORDS)
    frame = pl.DataFrame(
        {
            "sku": [f"SKU-{i:07d}" for i in ids],
            "name": [
                f"{a} {b} {i % 997} mm"
                for i, a, b in zip(
                    ids, words[rng.integers(0, 10, n)], words[rng.integers(0, 10, n)], strict=True
                )
            ],
            "brand": np.array(BRANDS)[rng.integers(0, len(BRANDS), n)],
            "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
            "unit": "pcs",
        }
    )
    return frame.write_csv().encode()


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


async def bench(url: str, kafka: str, n: int, requests: int) -> None:
    await truncate_all(url)
    settings = Settings(
        environment="test",
        database_url=url,
        kafka_bootstrap_servers=kafka,
        run_workers=False,
        data_dir=str(DATA_DIR / "bench" / "catalog-files"),
        log_json=False,
        feed_max_bytes=10_000_000_000,
    )
    app = create_app(settings)
    body = products(n)
    erp = {**as_role(Role.INTEGRATOR, kind="api_key", subject="bench"), "Content-Type": "text/csv"}
    async with running(app):
        started = time.perf_counter()
        async with client(app, erp) as http:
            posted = await http.post("/feeds/catalog", content=body)
            while await process_next(app, SPECS):
                pass
            job = (await http.get(f"/feeds/{posted.json()['id']}")).json()
        load_s = time.perf_counter() - started
        console.print(f"loaded {n:,} products in {load_s:.1f}s ({job['state']}, {job['result']})")
        async with app.state.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE products")
        rng = np.random.default_rng(2)
        shapes = {
            "text search": lambda: {"q": f"{WORDS[rng.integers(0, 10)]} {rng.integers(0, 997)}"},
            "text + category + brand": lambda: {
                "q": WORDS[rng.integers(0, 10)],
                "category": CATEGORIES[rng.integers(0, len(CATEGORIES))],
                "brand": BRANDS[rng.integers(0, len(BRANDS))],
            },
            "SKU fragment": lambda: {"q": f"SKU-{rng.integers(0, n):07d}"[:10]},
            "category page": lambda: {"category": CATEGORIES[rng.integers(0, len(CATEGORIES))]},
        }
        table = Table("query (page of 50)", "state", "p50 ms", "p99 ms", "rows")
        async with client(app, as_role(Role.BUYER, company_id=None)) as http:
            for state in ("right after the load", "after (auto)vacuum"):
                if state.startswith("after"):
                    # What autovacuum does within a minute of a big load: the GIN pending
                    # lists merged, visibility map and statistics current.
                    async with app.state.engine.connect() as conn:
                        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                        await conn.exec_driver_sql("VACUUM ANALYZE products")
                for name, params in shapes.items():
                    samples, rows = [], 0
                    for _ in range(requests):
                        started = time.perf_counter()
                        answer = await http.get("/products", params={**params(), "limit": 50})
                        samples.append((time.perf_counter() - started) * 1000)
                        answer.raise_for_status()
                        rows += len(answer.json()["items"])
                    p50, p99 = percentiles(samples)
                    table.add_row(name, state, f"{p50:.1f}", f"{p99:.1f}", f"{rows / requests:.1f}")
        async with app.state.engine.connect() as conn:
            sizes = (
                await conn.exec_driver_sql(
                    "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c"
                    " WHERE c.relname = 'products' OR c.relname LIKE 'ix_products_search%'"
                    " ORDER BY c.relname"
                )
            ).all()
    console.print(table)
    for relation, size in sizes:
        console.print(f"{relation}: {size / 2**20:.0f} MiB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"bench process peak RSS: {peak:.0f} MiB (app and client in one process)")


async def settled(url: str, query: str, value: int, within: float = 1800) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + within
        while not await conn.fetchval(query, value):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{query} ({value}) not true after {within}s")
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def marketplace(urls: dict[str, str], kafka: str, n: int, requests: int) -> None:
    from bench.orders import feed
    from bench.stack import ServiceProcess

    for url in urls.values():
        await truncate_all(url)
    data = DATA_DIR / "bench" / "marketplace-stack"
    pricing = ServiceProcess("pricing", urls["pricing"], kafka, str(data / "pricing"))
    catalog = ServiceProcess(
        "catalog",
        urls["catalog"],
        kafka,
        str(data / "catalog"),
        env={"CATALOG_PRICING_URL": pricing.url, "CATALOG_FEED_MAX_BYTES": str(10**10)},
    )

    def admin() -> dict[str, str]:  # signed afresh: signatures expire after five minutes
        return as_role(Role.ADMIN)

    def partner() -> dict[str, str]:
        return as_role(Role.PARTNER, kind="api_key", subject="bench", partner_code="shop")

    figures: dict[str, object] = {"products": n}
    try:
        await pricing.ready()
        await catalog.ready()
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=600) as http:
            await feed(http, f"{catalog.url}/feeds/catalog", products(n).decode())
            await feed(
                http,
                f"{catalog.url}/feeds/stock",
                "sku,warehouse,on_hand\n"
                + "".join(f"SKU-{i:07d},{w},{i % 50}\n" for i in range(1, n + 1) for w in "AB"),
            )
            # pricing learns the SKUs from catalog's product.upserted events, over the broker;
            # measure once both are quiet (the relay has published everything).
            await settled(urls["pricing"], "SELECT count(*) >= $1 FROM skus", n)
            await settled(
                urls["catalog"], "SELECT count(*) = $1 FROM outbox WHERE published_at IS NULL", 0
            )
            made = await http.post(
                f"{pricing.url}/price-lists",
                headers=admin(),
                json={"code": "SHOP", "name": "Shop", "currency": "EUR"},
            )
            made.raise_for_status()
            await feed(
                http,
                f"{pricing.url}/feeds/prices",
                "list,client,sku,min_qty,price_minor,currency\n"
                + "".join(
                    f"SHOP,,SKU-{i:07d},1,{1000 + i % 900},EUR\n"
                    f"SHOP,,SKU-{i:07d},10,{900 + i % 900},EUR\n"
                    for i in range(1, n + 1)
                    if i % 10
                ),
            )
            put = await http.put(
                f"{catalog.url}/marketplace/partners/shop",
                headers=admin(),
                json={"name": "Shop", "price_list_code": "SHOP"},
            )
            put.raise_for_status()
            figures["seed s"] = round(time.perf_counter() - started, 1)
            await http.get(f"{pricing.url}/price-lists/SHOP/prices", headers=admin())  # warm
            started = time.perf_counter()
            prices = await http.get(f"{pricing.url}/price-lists/SHOP/prices", headers=admin())
            figures["pricing: the list's prices, s"] = round(time.perf_counter() - started, 2)
            figures["pricing: the list's prices, MB"] = round(len(prices.content) / 1e6, 1)
            etag = ""
            for fmt in ("jsonl", "csv"):
                await asyncio.sleep(1)
                rest = catalog.rss_kib()
                catalog.peak_kib = rest
                started = time.perf_counter()
                size = lines = 0
                async with http.stream(
                    "GET", f"{catalog.url}/feeds/marketplace/shop?format={fmt}", headers=partner()
                ) as answer:
                    answer.raise_for_status()
                    first = None
                    async for chunk in answer.aiter_bytes():
                        first = first or time.perf_counter() - started
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                    etag = answer.headers["etag"] if fmt == "jsonl" else etag
                seconds = time.perf_counter() - started
                await asyncio.sleep(0.5)
                figures[f"{fmt}: full feed s (first byte s)"] = (
                    round(seconds, 2),
                    round(first or 0, 2),
                )
                figures[f"{fmt}: MB, lines"] = (round(size / 1e6, 1), lines)
                figures[f"{fmt}: catalog peak RSS above rest, MiB"] = round(
                    (catalog.peak_kib - rest) / 1024
                )
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                again = await http.get(
                    f"{catalog.url}/feeds/marketplace/shop",
                    headers={**partner(), "If-None-Match": etag},
                )
                samples.append((time.perf_counter() - started) * 1000)
                assert again.status_code == 304, again.status_code
            figures["unchanged feed (304) p50/p99 ms"] = tuple(
                round(x, 1) for x in percentiles(samples)
            )
        figures["peak RSS MiB"] = {"catalog": round(catalog.peak_kib / 1024)}
    finally:
        catalog.stop()
        pricing.stop()
    table = Table("figure", "value")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


def main(
    products_: int = typer.Option(1_000_000, "--products"),
    requests: int = typer.Option(300, help="Requests per query shape"),
    mode: str = typer.Option("search", help="search or marketplace"),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        if mode == "marketplace":
            urls = prepare_databases(
                server_url, ("catalog", "pricing"), suffix="_bench", fresh=True
            )
            asyncio.run(marketplace(urls, kafka, products_, requests))
            return
        url = prepare_databases(server_url, ("catalog",), suffix="_bench", fresh=True)["catalog"]
        asyncio.run(bench(url, kafka, products_, requests))


if __name__ == "__main__":
    typer.run(main)

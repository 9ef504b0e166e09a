"""Catalog benchmark: N products through the ERP catalog feed, then product search pages.

    .venv/bin/python -m bench.catalog --products 1000000

Loads the products through the real feed job, then times `GET /products` pages (text search,
filtered by category and brand, and plain category listing) through the ASGI app, and prints
p50/p99 per query shape. Runs against the embedded PostgreSQL and broker in .data/bench.
"""

from __future__ import annotations

import asyncio
import time

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
        table = Table("query (page of 50)", "state", "p50 ms", "p99 ms")
        async with client(app, as_role(Role.BUYER, company_id=None)) as http:
            for state in ("right after the load", "after (auto)vacuum"):
                if state.startswith("after"):
                    # What autovacuum does within a minute of a big load: the GIN pending
                    # lists merged, visibility map and statistics current.
                    async with app.state.engine.connect() as conn:
                        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                        await conn.exec_driver_sql("VACUUM ANALYZE products")
                for name, params in shapes.items():
                    samples = []
                    for _ in range(requests):
                        started = time.perf_counter()
                        answer = await http.get("/products", params={**params(), "limit": 50})
                        samples.append((time.perf_counter() - started) * 1000)
                        answer.raise_for_status()
                    p50, p99 = percentiles(samples)
                    table.add_row(name, state, f"{p50:.1f}", f"{p99:.1f}")
    console.print(table)


def main(
    products_: int = typer.Option(1_000_000, "--products"),
    requests: int = typer.Option(300, help="Requests per query shape"),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        url = prepare_databases(server_url, ("catalog",), suffix="_bench", fresh=True)["catalog"]
        asyncio.run(bench(url, kafka, products_, requests))


if __name__ == "__main__":
    typer.run(main)

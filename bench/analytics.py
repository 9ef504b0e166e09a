"""Analytics benchmark: 2 years of orders of 20,000 clients (>= 10 M order lines) generated with
polars straight into the facts tables with COPY; then the full recompute of every client
metric, the summary and the SKU segments (time and peak memory, in a fresh process so the
generator's memory does not count), and the time to apply one order event to a client.

    .venv/bin/python -m bench.analytics --clients 20000 --orders-per-client 51 --lines 10

Runs against the embedded PostgreSQL in .data/bench (or DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime

import asyncpg
import numpy as np
import polars as pl
import typer
from sqlalchemy import text

from shared.app import asyncpg_dsn
from shared.clock import utcnow
from shared.runtime import DATA_DIR, infrastructure, prepare_databases

DAYS = 730
SKUS = 5_000
CATEGORIES = 50


def _uuids(n: int, rng: np.random.Generator) -> pl.Series:
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    return pl.Series([str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in raw])


def generate(clients: int, per_client: float, lines: float, now: datetime, seed: int = 7):
    rng = np.random.default_rng(seed)
    client_ids = _uuids(clients, rng)
    counts = np.clip(rng.lognormal(np.log(per_client) - 0.5, 1.0, clients), 1, 2000).astype(int)
    counts = np.round(counts * per_client * clients / counts.sum()).astype(int).clip(1)
    n_orders = int(counts.sum())
    client_of = np.repeat(np.arange(clients), counts)
    # a fifth of the clients stopped buying after the first year
    lapsed = rng.random(clients) < 0.2
    span = np.where(lapsed[client_of], DAYS / 2, DAYS)
    days_ago = DAYS - rng.random(n_orders) * span
    placed = pl.Series(
        np.datetime64(now.replace(tzinfo=None), "us")
        - (days_ago * 86_400e6).astype("timedelta64[us]")
    ).dt.replace_time_zone("UTC")
    order_ids = _uuids(n_orders, rng)
    per_order = (1 + rng.poisson(lines - 1, n_orders)).astype(int)
    n_lines = int(per_order.sum())
    order_of = np.repeat(np.arange(n_orders), per_order)
    sku_no = (SKUS * rng.random(n_lines) ** 2).astype(int)
    price = (rng.integers(100, 20_000, SKUS))[sku_no]
    quantity = rng.integers(1, 20, n_lines)
    revenue = price * quantity
    costed = rng.random(SKUS)[sku_no] < 0.9  # cost known for 90 % of SKUs
    cost = np.where(costed, (revenue * 0.7).astype(np.int64), 0)
    line_no = np.arange(n_lines) - np.repeat(np.cumsum(per_order) - per_order, per_order) + 1
    line_frame = pl.DataFrame(
        {
            "order": order_of,
            "line_no": line_no,
            "sku": pl.Series([f"SKU-{i:05d}" for i in range(SKUS)]).gather(sku_no),
            "quantity": quantity,
            "revenue_minor": revenue,
            "cost_minor": cost,
            "costed": revenue * costed,
            "is_costed": costed,
        }
    ).with_columns(cost_minor=pl.when(pl.col("is_costed")).then(pl.col("cost_minor")))
    orders = (
        line_frame.group_by("order")
        .agg(
            total_minor=pl.col("revenue_minor").sum(),
            costed_minor=pl.col("costed").sum(),
            cost_minor=pl.col("cost_minor").sum(),
            lines=pl.len(),
        )
        .sort("order")
        .with_columns(
            order_id=order_ids,
            client_id=client_ids[client_of],
            placed_at=placed,
        )
    )
    order_lookup = orders.select("order", "order_id", "client_id", "placed_at")
    line_frame = line_frame.join(order_lookup, "order").drop("order", "costed", "is_costed")
    return client_ids, orders, line_frame


def _ts(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")


async def copy(conn: asyncpg.Connection, table: str, frame: pl.DataFrame, chunk: int = 1_000_000):
    for start in range(0, frame.height, chunk):
        buffer = io.BytesIO()
        frame.slice(start, chunk).write_csv(buffer)
        buffer.seek(0)
        await conn.copy_to_table(
            table, source=buffer, format="csv", header=True, columns=frame.columns
        )


async def load(dsn: str, clients: int, per_client: float, lines: float) -> dict[str, float]:
    now = utcnow()
    started = time.perf_counter()
    client_ids, orders, line_frame = generate(clients, per_client, lines, now)
    generated = time.perf_counter()
    rng = np.random.default_rng(11)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "TRUNCATE clients, products, order_facts, order_line_facts, sku_month_facts, "
            "client_sku_facts, "
            "feedback, client_segments, sku_segments, base_stats, outbox, inbox"
        )
        industries = [f"industry-{i}" for i in range(10)]
        await copy(
            conn,
            "clients",
            pl.DataFrame(
                {
                    "id": client_ids,
                    "legal_name": [f"Client {i}" for i in range(clients)],
                    "industry": [industries[i % 10] for i in range(clients)],
                    "client_type": ["distributor" if i % 3 else "producer" for i in range(clients)],
                    "size": [("small", "medium", "large")[i % 3] for i in range(clients)],
                    "currency": ["EUR"] * clients,
                    "status": ["active"] * clients,
                    "purchase_potential_minor": rng.integers(10**6, 10**9, clients),
                    "balance_minor": np.zeros(clients, dtype=np.int64),
                    "overdue_minor": np.where(rng.random(clients) < 0.1, 50_000, 0),
                    "updated_at": [now.isoformat()] * clients,
                }
            ),
        )
        await copy(
            conn,
            "products",
            pl.DataFrame(
                {
                    "sku": [f"SKU-{i:05d}" for i in range(SKUS)],
                    "name": [f"Product {i}" for i in range(SKUS)],
                    "brand": [f"brand-{i % 40}" for i in range(SKUS)],
                    "category": [f"category-{i % CATEGORIES}" for i in range(SKUS)],
                    "updated_at": [now.isoformat()] * SKUS,
                }
            ),
        )
        await copy(
            conn,
            "order_facts",
            orders.select(
                "order_id",
                "client_id",
                pl.lit("EUR").alias("currency"),
                _ts("placed_at").alias("placed_at"),
                "total_minor",
                "costed_minor",
                "cost_minor",
                "lines",
                pl.lit("portal").alias("source"),
                pl.lit(True).alias("counted"),
            ),
        )
        await copy(
            conn,
            "order_line_facts",
            line_frame.select(
                "order_id",
                "line_no",
                "client_id",
                _ts("placed_at").alias("placed_at"),
                "sku",
                "quantity",
                "revenue_minor",
                "cost_minor",
            ),
        )
        sku_months = (
            line_frame.group_by("sku", month=pl.col("placed_at").dt.truncate("1mo").dt.date())
            .agg(
                revenue_minor=pl.col("revenue_minor").sum(),
                quantity=pl.col("quantity").sum(),
                lines=pl.len(),
            )
            .with_columns(currency=pl.lit("EUR"))
        )
        await copy(conn, "sku_month_facts", sku_months)
        client_skus = line_frame.group_by("client_id", "sku").agg(
            lines=pl.len(),
            quantity=pl.col("quantity").sum(),
            revenue_minor=pl.col("revenue_minor").sum(),
            last_at=_ts("placed_at").max(),
        )
        await copy(conn, "client_sku_facts", client_skus)
        sample = rng.choice(clients, clients // 4, replace=False)
        await copy(
            conn,
            "feedback",
            pl.DataFrame(
                {
                    "id": _uuids(len(sample), rng),
                    "client_id": client_ids[sample],
                    "touchpoint": [
                        ("portal", "manager", "delivery", "product")[i % 4]
                        for i in range(len(sample))
                    ],
                    "nps": rng.integers(0, 11, len(sample)),
                    "csat": rng.integers(1, 6, len(sample)),
                    "submitted_by": ["bench"] * len(sample),
                }
            ),
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {
        "clients": clients,
        "orders": orders.height,
        "order_lines": line_frame.height,
        "generate_s": round(generated - started, 1),
        "load_s": round(time.perf_counter() - generated, 1),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from
    the parent across exec, so the generator's memory does not count)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(database_url: str, events: int) -> dict[str, object]:
    """In a fresh process: the full recompute, then one order event at a time."""
    from services.analytics.app import create_app
    from services.analytics.settings import Settings
    from services.analytics.usecases.recompute import recompute_all, recompute_dirty
    from shared.testing.fixtures import running
    from tests.analytics.world import consumer, envelope, placed

    settings = Settings(
        environment="test", database_url=database_url, run_workers=False, log_json=False
    )
    app = create_app(settings)
    async with running(app):
        started = time.perf_counter()
        async with app.state.sessionmaker() as session, session.begin():
            result = await recompute_all(session, settings)
        full = time.perf_counter() - started
        peak_mb = peak_rss_mb()
        async with app.state.sessionmaker() as session:
            ids = [
                r[0]
                for r in (
                    await session.execute(
                        text(
                            "SELECT client_id FROM client_segments WHERE revenue_minor > 0 "
                            "ORDER BY client_id LIMIT :n"
                        ),
                        {"n": events},
                    )
                ).all()
            ]
        applier = consumer(app)
        timings = []
        for client_id in ids:
            event = placed(
                client_id,
                0.01,
                {f"SKU-{i:05d}": (str(1 + i % 5), 1000 + i) for i in range(0, 100, 10)},
                cost=500,
            )
            t = time.perf_counter()
            await applier.apply(envelope(event))
            timings.append((time.perf_counter() - t) * 1000)
        # what the worker does next: the touched clients, in one batch
        t = time.perf_counter()
        async with app.state.sessionmaker() as session, session.begin():
            batch = await recompute_dirty(session, settings)
        batch_ms = (time.perf_counter() - t) * 1000
        singles = []
        for client_id in ids[:20]:
            await applier.apply(envelope(placed(client_id, 0.01, cost=500)))
            t = time.perf_counter()
            async with app.state.sessionmaker() as session, session.begin():
                await recompute_dirty(session, settings)
            singles.append((time.perf_counter() - t) * 1000)
        # per-request reads of one client: cross-sell against its peers, the reorder list
        from services.analytics.domain.assortment import assortment_gaps, reorder_list
        from services.analytics.store import queries

        cross, reorder = [], []
        async with app.state.sessionmaker() as session:
            for client_id in ids[:10]:
                now = utcnow()
                t = time.perf_counter()
                who = await queries.client(session, client_id)
                bought = await queries.peer_purchases(session, who, settings.history_months, now)
                assortment_gaps(bought, "peers", settings)
                cross.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                lines = await queries.client_lines(session, client_id, settings.xyz_months, now)
                reorder_list(lines, now, settings)
                reorder.append((time.perf_counter() - t) * 1000)
        # the cross-sell offer job: every client's gaps in one pass (rolled back: run 2 offers too)
        from services.analytics.domain.cross_sell import cross_sell_gaps
        from services.analytics.store import alerts as alert_store
        from services.analytics.usecases.cross_sell_offers import offer_cross_sell

        now = utcnow()
        async with app.state.sessionmaker() as session:
            t = time.perf_counter()
            bought, peers = await alert_store.everyones_purchases(
                session, settings.history_months, now
            )
            loaded_s = time.perf_counter() - t
            t = time.perf_counter()
            gaps = cross_sell_gaps(bought, peers, settings)
            gaps_s = time.perf_counter() - t
        # a price change of every client (a base list, a matrix): who buys what regularly,
        # and what it last paid (the query before the calls to pricing)
        from services.analytics.store.models import PriceCheck

        async with app.state.sessionmaker() as session:
            t = time.perf_counter()
            paid = await alert_store.last_paid(
                session,
                PriceCheck(client_ids=None, sku_from=None, sku_to=None),
                settings.regular_sku_months,
                settings.regular_sku_min_months,
                now,
            )
            last_paid_s = time.perf_counter() - t
        # a best-selling SKU runs out: its buyers' own ABC, to find whose A class it is
        from services.analytics.domain.alerts import key_sku_clients

        async with app.state.sessionmaker() as session:
            top_sku = await session.scalar(
                text(
                    "SELECT sku FROM sku_month_facts GROUP BY sku ORDER BY sum(lines) DESC LIMIT 1"
                )
            )
            t = time.perf_counter()
            buyers = await alert_store.buyers_purchases(session, top_sku, settings.abc_months, now)
            key_for = key_sku_clients(buyers, top_sku, settings)
            stock_out_s = time.perf_counter() - t
        async with app.state.sessionmaker() as session:
            tx = await session.begin()
            t = time.perf_counter()
            offered = await offer_cross_sell(session, settings, now)
            offer_s = time.perf_counter() - t
            await tx.rollback()
    return {
        "cross_sell_batch": {
            "rows_read": bought.height,
            "load_s": round(loaded_s, 2),
            "gaps_s": round(gaps_s, 2),
            "clients_with_gaps": gaps["client_id"].n_unique(),
            "offer_job_s": round(offer_s, 2),
            "offers": offered,
        },
        "price_change_of_everyone": {
            "last_paid_s": round(last_paid_s, 2),
            "clients": paid["client_id"].n_unique(),
            "regular_skus": paid.height,
        },
        "best_seller_out_of_stock": {
            "s": round(stock_out_s, 2),
            "buyers": buyers["client_id"].n_unique(),
            "a_class_for": key_for.height,
        },
        "cross_sell_ms_median": round(statistics.median(cross), 1),
        "reorder_ms_median": round(statistics.median(reorder), 1),
        "full_recompute_s": round(full, 2),
        "stages_s": result["seconds"],
        "clients": result["clients"],
        "skus": result["skus"],
        "segment_changed_events": result["segment_changed"],
        "peak_memory_mb": round(peak_mb),
        "order_event_ms_median": round(statistics.median(timings), 1),
        "order_event_ms_p95": round(sorted(timings)[int(len(timings) * 0.95) - 1], 1),
        "batch_recompute": {"clients": batch["clients"], "ms": round(batch_ms, 1)},
        "one_client_recompute_ms_median": round(statistics.median(singles), 1),
    }


def main(
    clients: int = 20_000,
    orders_per_client: float = 51,
    lines: float = 10,
    events: int = 100,
    skip_load: bool = False,
    measure_only: str = typer.Option("", hidden=True),
) -> None:
    if measure_only:
        print(json.dumps(asyncio.run(measure(measure_only, events))))
        return
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, _):
        url = prepare_databases(server_url, ("analytics",), suffix="_bench", fresh=not skip_load)[
            "analytics"
        ]
        if not skip_load:
            loaded = asyncio.run(load(asyncpg_dsn(url), clients, orders_per_client, lines))
            print("loaded:", json.dumps(loaded))
        for run in (1, 2):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.analytics",
                    "--events",
                    str(events),
                    "--measure-only",
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ,
            )
            print(f"run {run}:", out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    typer.run(main)

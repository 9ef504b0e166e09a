"""Pricing benchmark: a SKU x client matrix through the real feed endpoint, then real carts.

    .venv/bin/python -m bench.pricing --rows 100000000 --shape factored
    .venv/bin/python -m bench.pricing --rows 100000000 --shape random

Generates the matrix as Parquet (cached under .data/bench/pricing), seeds the clients and SKUs
the pricing service knows (as the accounts and catalog events would), starts the pricing
service as its own process (uvicorn), posts the file to `POST /feeds/prices?scope=full`, and
then drives `POST /prices/resolve` over HTTP. Beside the matrix stand a base list pricing
every SKU, two client-group lists (one with its own prices, one derived from the base) and
an assigned list, posted before it through the policy API and a list feed: the matrix must
win over all of them. Prints ingest rows/s, storage, compression, resolve latency for 50- and
200-line carts (warm and cold clients), carts/s at saturation, then resolves every cell of
the matrix and compares it with the file, then a dry run of a 1 M-row delta and the delta
itself (with what its price version stores), and the service's peak RSS.

Nothing here asserts a speed target, but a wrong answer stops the run with a non-zero exit:
any call answering other than 2xx (its status and body printed), a feed that does not
succeed, or any resolved cell that differs from the file (the mismatches printed).
Principal headers are signed per request: a signature lives five minutes, a 100 M run hours.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import orjson
import polars as pl
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.stack import ServiceProcess
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.testing.fixtures import principal, signed, truncate_all

console = Console()
PERCENTS_BP = np.array([-500, -300, -250, 200, 400])
TABLES = ("contract_prices", "price_list_entries", "price_lists", "client_matrix", "matrix_gaps")
FEED = principal(Role.INTEGRATOR, kind="api_key", subject="bench-erp")
ADMIN = principal(Role.ADMIN)
MAX_CART_LINES = 5_000  # POST /prices/resolve takes at most this many lines
GROUPS = ("G1", "G2")  # G1 has a list of its own prices, G2 one derived from the base


class BenchFailed(Exception):
    """A call answered other than 2xx, a feed did not succeed, or a price was wrong."""


def http_client(service: ServiceProcess, who: Principal, timeout: float = 60) -> httpx.AsyncClient:
    """A client of the service that signs `who` afresh on every request and stops the run on
    any answer that is not 2xx."""

    async def sign(request: httpx.Request) -> None:
        request.headers.update(signed(who))

    async def check(response: httpx.Response) -> None:
        if not response.is_success:
            await response.aread()
            raise BenchFailed(
                f"{response.request.method} {response.request.url} answered "
                f"{response.status_code}: {response.text[:2000]}"
            )

    return httpx.AsyncClient(
        base_url=service.url,
        timeout=timeout,
        event_hooks={"request": [sign], "response": [check]},
    )


def sku_code(i: int) -> str:
    return f"SKU-{i:06d}"


def client_code(i: int) -> str:
    return f"C{i:07d}"


def group_of(i: int) -> str | None:
    """The client group of client number i (from 1): a third in each group, a third in none."""
    return (*GROUPS, None)[i % 3]


def generate(path: Path, shape: str, clients: int, skus: int, types: int, seed: int) -> None:
    """The matrix in chunks of 200 clients, so memory stays flat at any size."""
    rng = np.random.default_rng(seed)
    vectors = rng.integers(100, 500_000, size=(types, skus))
    codes = np.array([sku_code(i) for i in range(1, skus + 1)])
    schema = (
        pl.DataFrame({"client": ["x"], "sku": ["x"], "price_minor": [1], "currency": ["EUR"]})
        .to_arrow()
        .schema
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with (
        pq.ParquetWriter(partial, schema, compression="zstd") as writer,
        _progress() as progress,
    ):
        task = progress.add_task(f"generating {shape}", total=clients * skus)
        for start in range(0, clients, 200):
            n = min(200, clients - start)
            if shape == "random":
                prices = rng.integers(100, 500_000, size=(n, skus))
            else:
                kind = rng.integers(0, types, size=n)
                bp = np.where(rng.random(n) < 0.3, rng.choice(PERCENTS_BP, size=n), 0)
                prices = (vectors[kind] * (10_000 + bp[:, None]) + 5_000) // 10_000
                personal = rng.random((n, skus)) < 0.01
                prices[personal] = rng.integers(100, 500_000, size=int(personal.sum()))
            names = np.array([client_code(i) for i in range(start + 1, start + n + 1)])
            frame = pl.DataFrame(
                {
                    "client": np.repeat(names, skus),
                    "sku": np.tile(codes, n),
                    "price_minor": prices.reshape(-1),
                    "currency": "EUR",
                }
            )
            writer.write_table(frame.to_arrow())
            progress.advance(task, n * skus)
    partial.rename(path)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        console=console,
    )


async def seed(dsn: str, clients: int, skus: int) -> list[uuid.UUID]:
    """Clients and SKUs as the accounts and catalog events would have projected them."""
    now = utcnow()
    companies = [uuid.uuid4() for _ in range(clients)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "clients",
            records=[
                (
                    companies[i],
                    client_code(i + 1),
                    client_code(i + 1),
                    group_of(i + 1),
                    "EUR",
                    "active",
                    now,
                )
                for i in range(clients)
            ],
            columns=[
                "company_id",
                "external_id",
                "legal_name",
                "group_code",
                "currency",
                "status",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "skus",
            records=[(sku_code(i), sku_code(i), "pcs", True, now) for i in range(1, skus + 1)],
            columns=["sku", "name", "unit", "sellable", "updated_at"],
        )
    finally:
        await conn.close()
    return companies


def pricing_service(url: str, kafka: str, data_dir: Path) -> ServiceProcess:
    """The pricing service as its own process, and its peak memory."""
    return ServiceProcess(
        "pricing", url, kafka, str(data_dir), env={"PRICING_FEED_MAX_BYTES": str(50_000_000_000)}
    )


async def _chunks(path: Path, size: int = 8 << 20) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


async def post_feed(
    service: ServiceProcess, path: Path, rows: int, scope: str, *, dry_run: bool = False
) -> tuple[float, dict]:
    """Post the file and follow the job; (seconds from first byte to succeeded, job). A job
    that ends other than succeeded stops the run."""
    started = time.perf_counter()
    async with http_client(service, FEED, timeout=3600) as http:
        posted = await http.post(
            "/feeds/prices",
            params={"scope": scope, "dry_run": str(dry_run).lower()},
            headers={"Content-Type": "application/vnd.apache.parquet"},
            content=_chunks(path),
        )
        job_id = posted.json()["id"]
        with _progress() as progress:
            task = progress.add_task(f"{scope} feed", total=rows)
            while True:
                job = (await http.get(f"/feeds/{job_id}")).json()
                progress.update(
                    task,
                    completed=rows * job["progress"],
                    description=f"{scope} feed: {job['stage']}",
                )
                if job["state"] in ("succeeded", "rejected", "failed", "staged"):
                    break
                await asyncio.sleep(0.5)
    if job["state"] != "succeeded":
        raise BenchFailed(f"{scope} feed {path.name} ended {job['state']}: {orjson.dumps(job)}")
    return time.perf_counter() - started, job


def lists_file(path: Path, skus: int, seed: int) -> Path:
    """Prices of the lists beside the matrix: the base list prices every SKU (a cheaper tier
    at 10 on every fourth), GROUP-1 every second SKU, ASSIGNED every fifth."""
    rng = np.random.default_rng(seed + 1)
    codes = np.array([sku_code(i) for i in range(1, skus + 1)])
    base = rng.integers(100, 500_000, skus)
    every = np.arange(skus)
    parts = [
        ("BASE", codes, 1, base),
        ("BASE", codes[every % 4 == 0], 10, base[every % 4 == 0] * 9 // 10),
        ("GROUP-1", codes[every % 2 == 0], 1, rng.integers(100, 500_000, skus)[every % 2 == 0]),
        ("ASSIGNED", codes[every % 5 == 0], 1, rng.integers(100, 500_000, skus)[every % 5 == 0]),
    ]
    frame = pl.concat(
        pl.DataFrame(
            {"list": code, "sku": list(skus_of), "min_qty": min_qty, "price_minor": prices}
        ).with_columns(pl.col("price_minor").cast(pl.Int64), currency=pl.lit("EUR"))
        for code, skus_of, min_qty, prices in parts
    )
    lists = path.with_name(path.stem + ".lists.parquet")
    frame.write_parquet(lists)
    return lists


async def price_lists(service: ServiceProcess, companies: list[uuid.UUID], lists: Path) -> int:
    """The lists beside the matrix, as a pricing manager and the ERP would set them up: the
    base list, a list per client group (GROUP-2 derived from the base, 3 % off), and a
    high-priority list assigned to every tenth client; then their prices as a list feed."""
    async with http_client(service, ADMIN) as http:
        for body in (
            {"code": "BASE", "currency": "EUR", "is_base": True},
            {"code": "GROUP-1", "currency": "EUR"},
            {"code": "GROUP-2", "currency": "EUR", "parent_code": "BASE", "markup_percent": -3},
            {"code": "ASSIGNED", "currency": "EUR", "priority": 10},
        ):
            await http.post("/price-lists", json=body)
        for group, code in zip(GROUPS, ("GROUP-1", "GROUP-2"), strict=True):
            await http.put(f"/client-groups/{group}/price-lists", json={"list_codes": [code]})
        for company in companies[::10]:
            await http.put(f"/clients/{company}/price-lists", json={"list_codes": ["ASSIGNED"]})
    rows = pq.ParquetFile(lists).metadata.num_rows
    await post_feed(service, lists, rows, "delta")
    return rows


async def storage(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT relname, pg_total_relation_size(oid) AS bytes FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY($1::text[])",
            list(TABLES),
        )
    finally:
        await conn.close()
    return {r["relname"]: r["bytes"] for r in rows}


async def version_cost(dsn: str, version: int | None) -> dict[str, object]:
    """What the delta's price version stores: its changed rows, and their bytes on disk."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE price_version_rows")
        rows = await connection.fetchval(
            "SELECT count(*) FROM price_version_rows WHERE version_id = $1", version
        )
        total_rows = await connection.fetchval("SELECT count(*) FROM price_version_rows")
        size = await connection.fetchval("SELECT pg_total_relation_size('price_version_rows')")
    finally:
        await connection.close()
    return {
        "delta version rows": rows,
        "version bytes per changed row (with index)": round(size / max(total_rows, 1), 1),
    }


def cart(rng: np.random.Generator, skus: int, lines: int) -> list[dict[str, str]]:
    picked = rng.choice(skus, size=lines, replace=False) + 1
    return [{"sku": sku_code(int(i)), "quantity": "1"} for i in picked]


async def timed(http: httpx.AsyncClient, company: uuid.UUID, lines: list) -> float:
    body = orjson.dumps({"client_id": str(company), "lines": lines})
    started = time.perf_counter()
    await http.post("/prices/resolve", content=body, headers={"Content-Type": "application/json"})
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = np.array(samples)
    return float(np.percentile(ordered, 50)), float(np.percentile(ordered, 99))


async def latencies(
    service: ServiceProcess, companies: list[uuid.UUID], skus: int
) -> dict[str, tuple]:
    rng = np.random.default_rng(3)
    found: dict[str, tuple] = {}
    cold = iter(companies[100:])
    per_size = max(1, min(300, (len(companies) - 100) // 2))
    async with http_client(service, ADMIN) as http:
        warm = companies[:20]
        for company in warm:  # load those clients once
            await timed(http, company, cart(rng, skus, 50))
        for lines in (50, 200):
            found[f"{lines} lines, warm client"] = percentiles(
                [await timed(http, warm[i % 20], cart(rng, skus, lines)) for i in range(500)]
            )
            found[f"{lines} lines, cold client"] = percentiles(
                [await timed(http, next(cold), cart(rng, skus, lines)) for _ in range(per_size)]
            )
    return found


async def saturation(
    service: ServiceProcess, companies: list[uuid.UUID], skus: int, workers: int, seconds: float
) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(workers)
    carts = [cart(rng, skus, 200) for _ in range(200)]
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        async with http_client(service, ADMIN) as http:
            i = n
            while time.perf_counter() < deadline:
                samples.append(await timed(http, companies[i % 20], carts[i % len(carts)]))
                i += workers

    started, cpu = time.perf_counter(), service.cpu_seconds()
    await asyncio.gather(*(worker(n) for n in range(workers)))
    p50, p99 = percentiles(samples)
    cpu_ms = (service.cpu_seconds() - cpu) * 1000 / len(samples)
    return len(samples) / (time.perf_counter() - started), p50, p99, cpu_ms


def file_clients(path: Path) -> Iterator[pl.DataFrame]:
    """The file's cells one client at a time (sku, price_minor), in the file's order."""
    pending: pl.DataFrame | None = None
    for batch in pq.ParquetFile(path).iter_batches(
        batch_size=1 << 20, columns=["client", "sku", "price_minor"]
    ):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if pending is not None:
            frame = pl.concat([pending, frame])
        last = frame["client"][-1]
        pending = frame.filter(pl.col("client") == last)
        yield from frame.filter(pl.col("client") != last).partition_by(
            "client", maintain_order=True
        )
    if pending is not None and pending.height:
        yield pending


async def check_every_cell(
    service: ServiceProcess, path: Path, companies: list[uuid.UUID], workers: int = 4
) -> tuple[int, int]:
    """Resolve every cell of the file (each client's SKUs in carts of up to 5,000 lines, at
    quantity 1) and compare it with the file: (cells checked, cells wrong). The first
    mismatches are printed."""
    checked = wrong = 0
    queue: asyncio.Queue[pl.DataFrame | None] = asyncio.Queue(maxsize=4 * workers)

    async def worker(http: httpx.AsyncClient, progress: Progress, task: TaskID) -> None:
        nonlocal checked, wrong
        while (cells := await queue.get()) is not None:
            name = cells["client"][0]
            company = companies[int(name[1:]) - 1]
            for start in range(0, cells.height, MAX_CART_LINES):
                part = cells.slice(start, MAX_CART_LINES)
                lines = [{"sku": sku, "quantity": "1"} for sku in part["sku"]]
                answer = await http.post(
                    "/prices/resolve",
                    content=orjson.dumps({"client_id": str(company), "lines": lines}),
                    headers={"Content-Type": "application/json"},
                )
                for line, price in zip(answer.json()["lines"], part["price_minor"], strict=True):
                    checked += 1
                    if line["unit_price_minor"] != price:
                        wrong += 1
                        if wrong <= 20:
                            console.print(
                                f"[red]mismatch {name} {line['sku']}: file {price}, {line}"
                            )
            progress.advance(task)

    async def read_file() -> None:
        clients = file_clients(path)
        while (cells := await asyncio.to_thread(next, clients, None)) is not None:
            await queue.put(cells)
        for _ in range(workers):
            await queue.put(None)

    with _progress() as progress:
        task = progress.add_task("resolving every cell (clients)", total=len(companies))
        async with http_client(service, ADMIN) as http:
            await asyncio.gather(
                read_file(), *(worker(http, progress, task) for _ in range(workers))
            )
    return checked, wrong


def delta_file(path: Path, rows: int) -> Path:
    delta = path.with_name(path.stem + f".delta{rows}.parquet")
    if not delta.exists():
        pl.scan_parquet(path).head(rows).with_columns(
            (pl.col("price_minor") + 7).alias("price_minor")
        ).sink_parquet(delta)
    return delta


def main(
    rows: int = typer.Option(100_000_000, help="Logical prices (clients x SKUs)"),
    shape: str = typer.Option("factored", help="factored | random"),
    skus: int = typer.Option(5_000),
    types: int = typer.Option(300, help="Price types of the factored shape"),
    seed: int = typer.Option(1),
    fresh: bool = typer.Option(False, help="Regenerate the feed file"),
    delta_rows: int = typer.Option(1_000_000, help="Rows of the delta feed after the full one"),
    saturate_seconds: float = typer.Option(15.0),
) -> None:
    if shape not in ("factored", "random"):
        raise typer.BadParameter("shape is factored or random")
    clients = rows // skus
    rows = clients * skus
    path = DATA_DIR / "bench" / "pricing" / f"{shape}-{rows}-{skus}-{seed}.parquet"
    if fresh or not path.exists():
        generate(path, shape, clients, skus, types, seed)
    lists = lists_file(path, skus, seed)
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        url = prepare_databases(server_url, ("pricing",), suffix="_bench", fresh=True)["pricing"]
        try:
            asyncio.run(
                run(
                    url,
                    kafka,
                    path,
                    lists,
                    shape,
                    rows,
                    clients,
                    skus,
                    delta_rows,
                    saturate_seconds,
                )
            )
        except BenchFailed as failure:
            console.print(f"[red bold]bench.pricing failed: {failure}")
            raise typer.Exit(1) from failure


async def run(
    url: str,
    kafka: str,
    path: Path,
    lists: Path,
    shape: str,
    rows: int,
    clients: int,
    skus: int,
    delta_rows: int,
    saturate_seconds: float,
) -> None:
    dsn = url.replace("+asyncpg", "")
    await truncate_all(url)
    companies = await seed(dsn, clients, skus)
    service = pricing_service(url, kafka, DATA_DIR / "bench" / "pricing-service")
    figures: dict[str, object] = {"shape": shape, "rows": rows, "clients": clients, "skus": skus}
    checked = wrong = 0
    try:
        await service.ready()
        figures["list entries beside the matrix"] = await price_lists(service, companies, lists)
        seconds, job = await post_feed(service, path, rows, "full")
        figures.update(ingest_s=round(seconds, 1), ingest_rows_per_s=round(rows / seconds))
        figures["result"] = job["result"]
        sizes = await storage(dsn)
        total = sum(sizes.values())
        figures.update(storage_bytes=total, bytes_per_price=round(total / rows, 2), tables=sizes)
        figures["peak_rss_ingest_mib"] = round(service.peak_kib / 1024)
        for name, (p50, p99) in (await latencies(service, companies, skus)).items():
            figures[f"resolve {name} p50/p99 ms"] = (round(p50, 2), round(p99, 2))
        for workers in (2, 8):
            rate, p50, p99, cpu_ms = await saturation(
                service, companies, skus, workers, saturate_seconds
            )
            figures[f"200-line carts/s at {workers} concurrent"] = round(rate)
            figures[f"service CPU ms per cart at {workers} concurrent"] = round(cpu_ms, 2)
            figures[f"200-line p50/p99 ms at {workers} concurrent"] = (round(p50, 2), round(p99, 2))
        started = time.perf_counter()
        checked, wrong = await check_every_cell(service, path, companies)
        figures.update(
            {
                "cells resolved and checked": checked,
                "cells differing from the file": wrong,
                "every-cell check s": round(time.perf_counter() - started, 1),
            }
        )
        if delta_rows:
            delta = delta_file(path, delta_rows)
            seconds, job = await post_feed(service, delta, delta_rows, "delta", dry_run=True)
            figures[f"dry run of the delta {delta_rows:,} rows s"] = round(seconds, 1)
            predicted = job["result"].get("diff", {})
            seconds, job = await post_feed(service, delta, delta_rows, "delta")
            figures[f"delta {delta_rows:,} rows s"] = round(seconds, 1)
            figures["dry run predicted the applied diff"] = predicted == job["result"].get("diff")
            figures.update(await version_cost(dsn, job["result"].get("version")))
        figures["peak_rss_mib"] = round(service.peak_kib / 1024)
    finally:
        service.stop()
        table = Table("figure", "value")
        for key, value in figures.items():
            number = isinstance(value, int) and not isinstance(value, bool)
            table.add_row(key, f"{value:,}" if number else str(value))
        console.print(table)
        console.print(orjson.dumps(figures).decode())
    if wrong or checked != rows:
        raise BenchFailed(
            f"{wrong:,} of {checked:,} resolved cells differ from the file ({rows:,} cells)"
        )


if __name__ == "__main__":
    typer.run(main)

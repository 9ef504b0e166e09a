"""Feed machinery benchmark: an ERP client feed of N rows through upload, validation and apply.

    .venv/bin/python -m bench.feeds_bench --rows 200000

Prints rows per second of each stage and the process's peak memory. Runs against the embedded
PostgreSQL and broker in .data/bench (or DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS).
"""

from __future__ import annotations

import asyncio
import resource
import time

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from services.accounts.api.feeds import SPECS
from services.accounts.app import create_app
from services.accounts.settings import Settings
from shared.feeds import process_next
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.testing.fixtures import as_role, client, running, truncate_all

console = Console()


def client_feed(rows: int, *, bad_every: int = 0, changed_share: float = 0.0) -> bytes:
    ids = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame(
        {
            "external_id": pl.select(
                pl.format("C{}", pl.lit(ids).cast(pl.Utf8).str.pad_start(9, "0"))
            ).to_series(),
            "legal_name": pl.select(pl.format("Client {} Ltd", pl.lit(ids))).to_series(),
            "tax_id": pl.select(pl.format("LV{}", pl.lit(ids))).to_series(),
            "credit_limit_minor": (ids % 1000) * 10_000,
            "payment_terms_days": (ids % 4) * 15,
        }
    )
    if changed_share:
        cut = int(rows * changed_share)
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) < cut)
            .then(pl.col("legal_name") + " (new)")
            .otherwise(pl.col("legal_name"))
            .alias("legal_name")
        )
    if bad_every:
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) % bad_every == 0)
            .then(-1)
            .otherwise(pl.col("credit_limit_minor"))
            .alias("credit_limit_minor")
        )
    return frame.write_csv().encode()


async def run_feed(app, body: bytes, mode: str) -> dict[str, float]:
    headers = {**as_role("integrator", kind="api_key", subject="bench"), "Content-Type": "text/csv"}
    started = time.perf_counter()
    async with client(app, headers) as http:
        accepted = await http.post(
            "/feeds/clients", content=body, params={"mode": mode}, timeout=600
        )
        uploaded = time.perf_counter()
        assert accepted.status_code == 202, accepted.text
        await process_next(app, SPECS)
        finished = time.perf_counter()
        job = (await http.get(f"/feeds/{accepted.json()['id']}")).json()
    return {
        "upload_s": uploaded - started,
        "job_s": finished - uploaded,
        "state": job["state"],
        "rows": job["rows_total"],
        "rejected": job["rows_rejected"],
        "result": job["result"],
    }


def main(rows: int = typer.Option(200_000, help="Rows per feed")) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        url = prepare_databases(server_url, ("accounts",), suffix="_bench", fresh=True)["accounts"]
        asyncio.run(bench(url, kafka, rows))


async def bench(url: str, kafka: str, rows: int) -> None:
    settings = Settings(
        environment="test",
        database_url=url,
        kafka_bootstrap_servers=kafka,
        run_workers=False,
        data_dir=str(DATA_DIR / "bench" / "files"),
        log_json=False,
    )
    app = create_app(settings)
    scenarios = [
        ("insert all", client_feed(rows), "all_or_nothing"),
        ("same file again", client_feed(rows), "all_or_nothing"),
        ("10% changed", client_feed(rows, changed_share=0.1), "all_or_nothing"),
        ("1 bad row in 1000, all_or_nothing", client_feed(rows, bad_every=1000), "all_or_nothing"),
        ("1 bad row in 1000, skip_bad_rows", client_feed(rows, bad_every=1000), "skip_bad_rows"),
    ]
    table = Table(
        "scenario",
        "rows",
        "upload",
        "job",
        "rows/s",
        "state",
        "created",
        "updated",
        "rejected",
        "events",
    )
    async with running(app):
        for name, body, mode in scenarios:
            r = await run_feed(app, body, mode)
            result = r["result"]
            table.add_row(
                name,
                f"{r['rows']:,}",
                f"{r['upload_s']:.2f}s",
                f"{r['job_s']:.2f}s",
                f"{r['rows'] / r['job_s']:,.0f}",
                r["state"],
                f"{result.get('created', 0):,}",
                f"{result.get('updated', 0):,}",
                f"{r['rejected']:,}",
                f"{result.get('events', 0):,}",
            )
    await truncate_all(url)
    console.print(table)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(
        f"feed {len(scenarios[0][1]) / 1e6:.1f} MB; peak RSS of this process {peak:,.0f} MiB"
    )


if __name__ == "__main__":
    typer.run(main)

"""Bulk policy benchmark: an ERP setting up N client groups' lists and assignments.

    .venv/bin/python -m bench.policy_bulk --groups 5000

Through the pricing app (in process, over ASGI) as an integrator's key: one request creating a
base list and N group lists derived from it, one assigning each group its list, then both
again (a batch re-sent: every row unchanged). For comparison, the same work one request per
list and per group for `--single` groups. Prints seconds and rows/s of each. Runs against the
embedded PostgreSQL and broker in .data/bench (or DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS); a
call answering other than 200/201 stops the run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from services.pricing.app import create_app
from services.pricing.settings import Settings
from shared.runtime import DATA_DIR, infrastructure, prepare_databases
from shared.testing.fixtures import as_role, client, running, truncate_all

console = Console()
ERP = as_role("integrator", kind="api_key", subject="bench-erp")
ADMIN = as_role("admin")


def group_lists(groups: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{prefix}{g:05d}",
            "name": f"Group {g}",
            "currency": "EUR",
            "priority": 10,
            "parent_code": "BASE",
            "markup_percent": f"-{g % 20}.00" if g % 20 else "0",
        }
        for g in range(groups)
    ]


def assignments(groups: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"group_code": f"{prefix}{g:05d}", "list_codes": [f"{prefix}{g:05d}"]}
        for g in range(groups)
    ]


async def post(http, path: str, items: list[dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    answer = await http.post(path, json={"items": items}, timeout=600)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.text[:2000]
    return elapsed, answer.json()


async def one_by_one(http, groups: int) -> float:
    """The same set-up as before bulk: a POST per list and a PUT per group."""
    started = time.perf_counter()
    for item in group_lists(groups, "S"):
        answer = await http.post("/price-lists", json=item)
        assert answer.status_code == 201, answer.text
    for item in assignments(groups, "S"):
        answer = await http.put(
            f"/client-groups/{item['group_code']}/price-lists",
            json={"list_codes": item["list_codes"]},
        )
        assert answer.status_code == 200, answer.text
    return time.perf_counter() - started


def main(
    groups: int = typer.Option(5_000, help="Client groups, each with its own derived list"),
    single: int = typer.Option(200, help="Groups set up one request at a time, to compare"),
) -> None:
    with infrastructure(data_dir=DATA_DIR / "bench") as (server_url, kafka):
        url = prepare_databases(server_url, ("pricing",), suffix="_bench", fresh=True)["pricing"]
        asyncio.run(bench(url, kafka, groups, single))


async def bench(url: str, kafka: str, groups: int, single: int) -> None:
    settings = Settings(
        environment="test",
        database_url=url,
        kafka_bootstrap_servers=kafka,
        run_workers=False,
        data_dir=str(DATA_DIR / "bench" / "files"),
        log_json=False,
    )
    app = create_app(settings)
    table = Table("step", "rows", "seconds", "rows/s", "created", "unchanged")
    lists = [{"code": "BASE", "currency": "EUR", "is_base": True}, *group_lists(groups, "G")]
    total = 0.0
    async with running(app), client(app, ERP) as http:
        for step, path, items in (
            ("price lists", "/bulk/price-lists", lists),
            ("group assignments", "/bulk/client-groups/price-lists", assignments(groups, "G")),
            ("price lists again", "/bulk/price-lists", lists),
            ("assignments again", "/bulk/client-groups/price-lists", assignments(groups, "G")),
        ):
            seconds, answer = await post(http, path, items)
            total += seconds if "again" not in step else 0
            table.add_row(
                step,
                f"{len(items):,}",
                f"{seconds:.2f}",
                f"{len(items) / seconds:,.0f}",
                f"{answer['created']:,}",
                f"{answer['unchanged']:,}",
            )
        if single:
            async with client(app, ADMIN) as admin:
                seconds = await one_by_one(admin, single)
            rows = 2 * single
            table.add_row(
                f"one by one ({single} groups)",
                f"{rows:,}",
                f"{seconds:.2f}",
                f"{rows / seconds:,.0f}",
                "",
                "",
            )
    await truncate_all(url)
    console.print(table)
    rows = len(lists) + groups
    console.print(
        f"{groups:,} groups' lists and assignments in bulk: {total:.2f} s, {rows / total:,.0f} rows/s"
    )


if __name__ == "__main__":
    typer.run(main)

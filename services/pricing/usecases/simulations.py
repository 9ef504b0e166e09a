"""Simulating a proposed price change on the clients' actual volumes of the last months.

The change (list entries and client prices, as a feed would give them) is never written: the
stored rows of the SKUs it touches are read once, patched in memory (domain.governance.apply),
and every client that bought those SKUs is priced twice through the same rules as resolve.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain import governance, simulation
from services.pricing.domain.batch import NO_PRICE
from services.pricing.price_book.engine import PriceEngine
from services.pricing.price_book.resolve import decide_lines
from services.pricing.price_book.tables import EntryTable, entry_rows, entry_table
from services.pricing.store import prices as store
from services.pricing.store.policy import invalid
from services.pricing.store.prices import NEVER_AFTER, NEVER_BEFORE, to_day_number

# A proposed change knows no row before it: only what it would write.
PROPOSED_SCHEMA = {
    k: v for k, v in governance.CHANGE_SCHEMA.items() if k not in ("old_price", "old_valid_to")
}


@dataclass(frozen=True)
class ProposedRow:
    list: str | None
    client: str | None
    sku: str
    min_qty: Decimal
    price_minor: int | None  # None: the row is removed
    currency: str


async def _names(session: AsyncSession, query: str, values: list[str]) -> dict[str, Any]:
    rows = (await session.execute(text(query), {"v": values})).all()
    return {r[0]: r[1:] for r in rows}


async def proposed_changes(
    session: AsyncSession, rows: list[ProposedRow], reach: str = "true"
) -> pl.DataFrame:
    """The proposal as version rows (KEY, currency, new price); unknown names are 422s, and so
    are clients outside `reach` (a SQL condition on the clients projection `c`)."""
    lists = await _names(
        session,
        "SELECT code, id, currency, is_matrix FROM price_lists WHERE code = ANY(:v)",
        [r.list for r in rows if r.list],
    )
    clients = await _names(
        session,
        f"SELECT external_id, id FROM clients c WHERE external_id = ANY(:v) AND {reach}",
        [r.client for r in rows if r.client],
    )
    skus = await _names(
        session, "SELECT sku, id FROM skus WHERE sku = ANY(:v)", [r.sku for r in rows]
    )
    out = []
    for i, row in enumerate(rows):
        if row.sku not in skus:
            raise invalid(f"rows[{i}].sku", f"no SKU {row.sku!r}", i + 1)
        if row.list is not None:
            found = lists.get(row.list)
            if found is None or found[2]:
                raise invalid(f"rows[{i}].list", f"no price list {row.list!r} to edit", i + 1)
            if found[1] != row.currency:
                raise invalid(f"rows[{i}].currency", f"the list is in {found[1]}", i + 1)
            target, target_id = "L", found[0]
        elif row.client in clients:
            target, target_id = "C", clients[row.client][0]
        else:
            raise invalid(f"rows[{i}].client", f"no client with ERP id {row.client!r}", i + 1)
        out.append(
            (
                target,
                target_id,
                skus[row.sku][0],
                int(row.min_qty * 1000),
                NEVER_BEFORE,
                row.currency,
                row.price_minor,
                NEVER_AFTER,
            )
        )
    return pl.DataFrame(out, schema=PROPOSED_SCHEMA, orient="row").unique(
        governance.KEY, keep="last", maintain_order=True
    )


VOLUMES_SCHEMA = {
    "client_id": pl.Int64,
    "company_id": pl.Utf8,
    "client": pl.Utf8,
    "segment": pl.Utf8,
    "sku": pl.Utf8,
    "currency": pl.Utf8,
    "quantity_milli": pl.Int64,
    "lines": pl.Int64,
    "cost": pl.Int64,
}


async def volumes(
    session: AsyncSession, sku_ids: list[int], since: date, dimension: str, reach: str = "true"
) -> pl.DataFrame:
    """What each client within `reach` bought of these SKUs since `since`, with its segment
    and the cost."""
    return await store.copy_frame(
        session,
        f"""
        SELECT v.client_id, c.company_id::text, coalesce(c.external_id, c.company_id::text),
            coalesce(g.value, 'unsegmented'), v.sku, v.currency,
            (sum(v.quantity) * 1000)::bigint, sum(v.lines)::bigint,
            max(CASE WHEN s.cost_currency = v.currency THEN s.cost_minor END)
        FROM client_sku_volumes v
        JOIN clients c ON c.id = v.client_id
        JOIN skus s ON s.sku = v.sku
        LEFT JOIN client_segments g ON g.client_id = v.client_id AND g.dimension = $3
        WHERE s.id = ANY($1::int[]) AND v.month >= $2 AND {reach}
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 5
        """,
        VOLUMES_SCHEMA,
        sku_ids,
        since,
        dimension,
    )


async def simulate(
    engine: PriceEngine,
    session: AsyncSession,
    rows: list[ProposedRow],
    *,
    since: date,
    day: date,
    dimension: str,
    reach: str = "true",
) -> dict[str, Any]:
    """The effect on the clients within `reach` (a SQL condition on the clients projection
    `c`, `shared.scope.ClientScope.sql`): a sales manager's simulation is of its own clients."""
    changes = await proposed_changes(session, rows, reach)
    book = await engine.ensure_book()
    sku_ids = sorted(set(changes["sku_id"].to_list()))
    bought = await volumes(session, sku_ids, since, dimension, reach)
    stored = await store.entries_for(session, list(book.lists), sku_ids)
    before = EntryTable(stored, book.list_frame)
    after = entry_table(
        governance.apply(entry_rows(stored), changes.filter(pl.col("target") == "L")),
        book.list_frame,
    )
    today = to_day_number(day)
    lines = []
    for (company_id,), group in bought.partition_by("company_id", as_dict=True).items():
        client = await engine.client(uuid.UUID(company_id), day)
        if client is None:
            continue
        ids = np.array([book.sku_id.get(s, -1) for s in group["sku"].to_list()], np.int64)
        # A typical order of the SKU: its tier is the one the client usually reaches.
        quantity = (group["quantity_milli"] // group["lines"].clip(1)).to_numpy()
        for currency, part in (
            group.with_row_index("at").partition_by("currency", as_dict=True).items()
        ):
            at = part["at"].to_numpy()
            now, _, _ = decide_lines(
                book, client, before, ids[at], quantity[at], currency[0], today
            )
            mine = changes.filter(
                (pl.col("target") == "C") & (pl.col("target_id") == client.row.id)
            )
            proposed = client.with_rows(governance.apply(client.rows(), mine))
            then, _, _ = decide_lines(
                book, proposed, after, ids[at], quantity[at], currency[0], today
            )
            lines.append(
                part.drop("at").with_columns(
                    pl.Series("unit_before", _or_null(now.unit_price)),
                    pl.Series("unit_after", _or_null(then.unit_price)),
                )
            )
    frame = (
        pl.concat(lines)
        if lines
        else pl.DataFrame(
            schema={**VOLUMES_SCHEMA, "unit_before": pl.Int64, "unit_after": pl.Int64}
        )
    )
    return simulation.effect(frame)


def _or_null(prices: np.ndarray) -> list[int | None]:
    return [None if p == NO_PRICE else int(p) for p in prices.tolist()]

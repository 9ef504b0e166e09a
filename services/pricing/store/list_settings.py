"""Lists' settings (parent and markup): read for update, stored, as of a past moment, and the
diff an edit of them would make, in the transaction's `list_diff` table."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain.list_settings import Settings, side
from services.pricing.store import versions
from services.pricing.store.prices import NEVER_AFTER, NEVER_BEFORE
from shared.clock import utcnow


async def current_settings(session: AsyncSession, list_ids: list[int]) -> Settings:
    rows = await session.execute(
        text(
            "SELECT id, coalesce(parent_id, 0), markup_bp FROM price_lists"
            " WHERE id = ANY(:ids) FOR UPDATE"
        ),
        {"ids": list_ids},
    )
    return {list_id: (parent, markup) for list_id, parent, markup in rows.all()}


async def store_settings(session: AsyncSession, settings: Settings) -> None:
    ids = list(settings)
    await session.execute(
        text(
            """
            UPDATE price_lists l SET parent_id = nullif(s.parent, 0), markup_bp = s.markup,
                updated_at = CAST(:now AS timestamptz)
            FROM unnest(CAST(:ids AS int[]), CAST(:parents AS int[]), CAST(:markups AS int[]))
                AS s(id, parent, markup)
            WHERE l.id = s.id
            """
        ),
        {
            "now": utcnow(),
            "ids": ids,
            "parents": [settings[i][0] for i in ids],
            "markups": [settings[i][1] for i in ids],
        },
    )


async def settings_as_of(session: AsyncSession, moment: datetime) -> Settings:
    """Lists' parent and markup as they stood at `moment`: for each list an edit of lists
    touched since, the settings before the earliest such edit."""
    rows = await session.scalars(
        text(
            """
            SELECT list_changes FROM price_versions
            WHERE applied_at > :moment AND state IN ('applied', 'rolled_back')
              AND list_changes <> '[]'::jsonb
            ORDER BY applied_at DESC, id DESC
            """
        ),
        {"moment": moment},
    )
    found: Settings = {}
    for changes in rows:  # newest first: the earliest edit's befores stay
        found.update(side(changes, "before"))
    return found


async def write_diff(
    session: AsyncSession, changed: pl.DataFrame, currency: dict[int, str]
) -> pl.DataFrame:
    """Write the prices an edit of lists moves (`changed`: old and new per entry) as the
    transaction's `list_diff`, and read it back in the diff's shape (domain.governance)."""
    await session.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS list_diff ({versions.DIFF_COLUMNS}) ON COMMIT DROP")
    )
    await session.execute(text("TRUNCATE list_diff"))
    if changed.height:
        await session.execute(
            text(
                f"""
                INSERT INTO list_diff
                SELECT n, 'L', l, s, q / 1000.0,
                    CASE WHEN f = {NEVER_BEFORE} THEN '-infinity'::date
                         ELSE DATE '1970-01-01' + f::int END,
                    c, op, CASE WHEN ot <> {NEVER_AFTER} THEN DATE '1970-01-01' + ot::int END,
                    np, CASE WHEN nt <> {NEVER_AFTER} THEN DATE '1970-01-01' + nt::int END
                FROM unnest(CAST(:n AS bigint[]), CAST(:l AS int[]), CAST(:s AS int[]),
                    CAST(:q AS bigint[]), CAST(:f AS bigint[]), CAST(:c AS text[]),
                    CAST(:op AS bigint[]), CAST(:ot AS bigint[]), CAST(:np AS bigint[]),
                    CAST(:nt AS bigint[])) AS d(n, l, s, q, f, c, op, ot, np, nt)
                """
            ),
            {
                "n": list(range(1, changed.height + 1)),
                "l": changed["list_id"].to_list(),
                "s": changed["sku_id"].to_list(),
                "q": changed["min_qty"].to_list(),
                "f": changed["valid_from"].to_list(),
                "c": [currency[i] for i in changed["list_id"].to_list()],
                "op": changed["price"].to_list(),
                "ot": changed["valid_to"].to_list(),
                "np": changed["price_new"].to_list(),
                "nt": changed["valid_to_new"].to_list(),
            },
        )
    return await versions.read_diff(session, "list_diff")

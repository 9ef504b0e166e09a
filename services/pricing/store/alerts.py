"""The facts behind pricing's client alerts: a client's ladder and period turnover, and the
contract prices that end soon (claimed once per client and end date)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.pricing import ClientContractPricesExpiringV1
from shared.events.outbox import record_events_from_query

LADDER_TURNOVER = text(
    """
    SELECT l.code, l.period, l.currency, l.levels,
        date_trunc(l.period, CAST(:day AS date))::date AS period_start,
        coalesce((SELECT sum(t.amount_minor) FROM client_turnover t
                  WHERE t.client_id = c.id AND t.currency = l.currency
                    AND t.month >= date_trunc(l.period, CAST(:day AS date))::date
                    AND t.month < (date_trunc(l.period, CAST(:day AS date))
                                   + CASE l.period WHEN 'year' THEN interval '1 year'
                                     WHEN 'quarter' THEN interval '3 months'
                                     ELSE interval '1 month' END)::date), 0)::bigint
            AS turnover_minor
    FROM clients c
    JOIN client_ladders cl ON cl.client_id = c.id
    JOIN ladders l ON l.id = cl.ladder_id
    WHERE c.company_id = :company_id
    """
)


@dataclass(frozen=True)
class LadderTurnover:
    code: str
    period: str
    currency: str
    levels: list[dict[str, Any]]
    period_start: date
    turnover_minor: int


async def ladder_turnover(
    session: AsyncSession, company_id: uuid.UUID, day: date
) -> LadderTurnover | None:
    """The client's ladder and its turnover in the ladder's period holding `day`."""
    row = (await session.execute(LADDER_TURNOVER, {"company_id": company_id, "day": day})).first()
    return None if row is None else LadderTurnover(*row)


# Contract rows ending in the window that no row of the same SKU, tier and currency continues
# (a new price from the end date on is no end). Served by the partial index on dated rows.
ENDING = """
    SELECT cp.client_id, cp.sku_id, cp.valid_to
    FROM contract_prices cp
    WHERE isfinite(cp.valid_to) AND cp.valid_to > :after AND cp.valid_to <= :until
      AND NOT EXISTS (
          SELECT 1 FROM contract_prices nx
          WHERE nx.client_id = cp.client_id AND nx.sku_id = cp.sku_id
            AND nx.min_qty = cp.min_qty AND nx.currency = cp.currency
            AND nx.valid_from = cp.valid_to)
"""

CLAIM = f"""
    INSERT INTO contract_expiry_notices (client_id, valid_to, run_id, announced_at)
    SELECT DISTINCT client_id, valid_to, CAST(:run AS uuid), CAST(:now AS timestamptz)
    FROM ({ENDING}) AS e
    ON CONFLICT DO NOTHING
"""

# One event per client over the end dates this run claimed, its SKUs earliest ending first.
EXPIRING_DATA = f"""
    WITH claimed AS (
        SELECT e.client_id, s.sku, min(e.valid_to) AS valid_to
        FROM ({ENDING}) AS e
        JOIN contract_expiry_notices n ON n.client_id = e.client_id
            AND n.valid_to = e.valid_to AND n.run_id = CAST(:run AS uuid)
        JOIN skus s ON s.id = e.sku_id
        GROUP BY e.client_id, s.sku),
    ranked AS (
        SELECT *, row_number() OVER (PARTITION BY client_id ORDER BY valid_to, sku) AS n
        FROM claimed)
    SELECT c.company_id AS aggregate_id, jsonb_build_object(
        'company_id', c.company_id,
        'skus_count', count(*),
        'earliest_valid_to', min(r.valid_to),
        'last_day', min(r.valid_to) - 1,
        'skus', jsonb_agg(r.sku ORDER BY r.n) FILTER (WHERE r.n <= :few),
        'found_at', CAST(:now AS timestamptz)) AS data
    FROM ranked r JOIN clients c ON c.id = r.client_id
    GROUP BY c.id, c.company_id
"""


async def announce_expiring(
    session: AsyncSession, after: date, until: date, now: datetime, few: int = 5
) -> int:
    """Claim every (client, end date) in the window not announced yet and write one
    `client.contract_prices_expiring` per client into the outbox; returns how many."""
    params = {"after": after, "until": until, "run": uuid.uuid4(), "now": now, "few": few}
    await session.execute(text(CLAIM), params)
    return await record_events_from_query(
        session, ClientContractPricesExpiringV1, EXPIRING_DATA, params
    )

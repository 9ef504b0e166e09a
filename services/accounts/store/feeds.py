"""Set-based SQL of the ERP client and receivables feeds: checks and apply over the staging table.

Every statement works on the whole feed at once; events are written by SQL into the outbox
in the same transaction (shared.events.outbox.record_events_from_query).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import utcnow
from shared.contracts.accounts import CompanyCreditChangedV1, CompanyUpsertedV1
from shared.events.outbox import record_events_from_query
from shared.feeds.models import FeedJob, FeedScope

CHANGES = "feed_changes"

# The JSON of CompanyUpsertedV1 for companies `c` (with group `g`).
UPSERTED_DATA = """
    SELECT c.id AS aggregate_id, jsonb_build_object(
        'company_id', c.id, 'external_id', c.external_id, 'legal_name', c.legal_name,
        'tax_id', c.tax_id, 'industry', c.industry, 'client_type', c.client_type,
        'client_group', g.code, 'sales_manager_id', c.sales_manager_id,
        'credit_limit_minor', c.credit_limit_minor, 'currency', c.currency,
        'payment_terms_days', c.payment_terms_days, 'status', c.status,
        'updated_at', c.updated_at, 'card', c.card, 'partners', to_jsonb(c.partners),
        'preferred_warehouse', c.preferred_warehouse) AS data
    FROM companies c LEFT JOIN client_groups g ON g.id = c.client_group_id
"""

# The JSON of CompanyCreditChangedV1 for companies `c` with receivables `r`; the available
# credit is domain.credit.available_credit in SQL (a test checks they agree).
CREDIT_DATA = """
    SELECT c.id AS aggregate_id, jsonb_build_object(
        'company_id', c.id, 'currency', c.currency, 'credit_limit_minor', c.credit_limit_minor,
        'balance_minor', coalesce(r.balance_minor, 0), 'overdue_minor', coalesce(r.overdue_minor, 0),
        'oldest_overdue_date', r.oldest_overdue_date, 'purchase_limit_minor', r.purchase_limit_minor,
        'available_credit_minor', CASE
            WHEN least(c.credit_limit_minor, r.purchase_limit_minor) IS NULL THEN NULL
            ELSE greatest(least(c.credit_limit_minor, r.purchase_limit_minor)
                          - coalesce(r.balance_minor, 0), 0) END,
        'changed_at', CAST(:now AS timestamptz)) AS data
    FROM companies c LEFT JOIN receivables r ON r.company_id = c.id
"""


async def rejected_rows(session: AsyncSession, sql: str) -> list[tuple[int, str, str]]:
    return [(r[0], r[1], r[2]) for r in (await session.execute(text(sql))).all()]


# Clients ------------------------------------------------------------------------------------


async def check_client_references(
    session: AsyncSession, staging: str
) -> list[tuple[int, str, str]]:
    return await rejected_rows(
        session,
        f"""
        SELECT s._row, 'client_group', 'no client group ' || quote_literal(s.client_group)
        FROM {staging} s LEFT JOIN client_groups g ON g.code = s.client_group
        WHERE s.client_group IS NOT NULL AND g.id IS NULL
        UNION ALL
        SELECT s._row, 'client_type', 'no client type ' || quote_literal(s.client_type)
        FROM {staging} s LEFT JOIN client_types t ON t.code = s.client_type
        WHERE s.client_type IS NOT NULL AND t.code IS NULL
        UNION ALL
        SELECT s._row, 'sales_manager_email', 'no sales manager with this email'
        FROM {staging} s LEFT JOIN users u
            ON u.email = lower(s.sales_manager_email) AND u.staff_role IS NOT NULL
        WHERE s.sales_manager_email IS NOT NULL AND u.id IS NULL
        """,
    )


async def apply_clients(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Upsert companies by external_id. An empty cell keeps the current value."""
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            SELECT x.*, coalesce(x.existing_id, gen_random_uuid()) AS company_id,
                   x.existing_id IS NULL AS is_new,
                   (x.existing_id IS NULL OR
                    (x.legal_name, x.tax_id, x.industry, x.client_type, x.client_group_id,
                     x.sales_manager_id, x.currency, x.credit_limit_minor,
                     x.payment_terms_days, x.status, x.preferred_warehouse)
                    IS DISTINCT FROM
                    (c.legal_name, c.tax_id, c.industry, c.client_type, c.client_group_id,
                     c.sales_manager_id, c.currency, c.credit_limit_minor,
                     c.payment_terms_days, c.status, c.preferred_warehouse)) AS changed,
                   (CASE WHEN x.existing_id IS NULL THEN x.credit_limit_minor IS NOT NULL
                         ELSE (x.credit_limit_minor, x.currency)
                              IS DISTINCT FROM (c.credit_limit_minor, c.currency) END)
                       AS credit_changed
            FROM (
                SELECT s._row, c.id AS existing_id, s.external_id, s.legal_name,
                       coalesce(s.tax_id, c.tax_id) AS tax_id,
                       coalesce(s.industry, c.industry) AS industry,
                       coalesce(s.client_type, c.client_type) AS client_type,
                       coalesce(g.id, c.client_group_id) AS client_group_id,
                       coalesce(u.id, c.sales_manager_id) AS sales_manager_id,
                       coalesce(s.currency, c.currency, 'EUR') AS currency,
                       coalesce(s.credit_limit_minor, c.credit_limit_minor) AS credit_limit_minor,
                       coalesce(s.payment_terms_days, c.payment_terms_days, 0) AS payment_terms_days,
                       coalesce(s.status, c.status, 'active') AS status,
                       coalesce(s.preferred_warehouse, c.preferred_warehouse)
                           AS preferred_warehouse
                FROM {staging} s
                LEFT JOIN companies c ON c.external_id = s.external_id
                LEFT JOIN client_groups g ON g.code = s.client_group
                LEFT JOIN users u
                    ON u.email = lower(s.sales_manager_email) AND u.staff_role IS NOT NULL
            ) x LEFT JOIN companies c ON c.id = x.existing_id
            """
        )
    )
    await session.execute(
        text(
            f"""
            UPDATE companies c SET
                legal_name = f.legal_name, tax_id = f.tax_id, industry = f.industry,
                client_type = f.client_type, client_group_id = f.client_group_id,
                sales_manager_id = f.sales_manager_id, currency = f.currency,
                credit_limit_minor = f.credit_limit_minor,
                payment_terms_days = f.payment_terms_days, status = f.status,
                blocked_at = CASE WHEN f.status <> 'blocked' THEN NULL
                                  WHEN c.status = 'blocked' THEN c.blocked_at
                                  ELSE CAST(:now AS timestamptz) END,
                preferred_warehouse = f.preferred_warehouse,
                version = c.version + 1, updated_at = CAST(:now AS timestamptz)
            FROM {CHANGES} f WHERE f.company_id = c.id AND f.changed AND NOT f.is_new
            """
        ),
        {"now": utcnow()},
    )
    await session.execute(
        text(
            f"""
            INSERT INTO companies (id, external_id, legal_name, tax_id, industry, client_type,
                client_group_id, sales_manager_id, currency, credit_limit_minor,
                payment_terms_days, status, blocked_at, preferred_warehouse, card, version,
                created_at, updated_at)
            SELECT company_id, external_id, legal_name, tax_id, industry, client_type,
                client_group_id, sales_manager_id, currency, credit_limit_minor,
                payment_terms_days, status,
                CASE WHEN status = 'blocked' THEN CAST(:now AS timestamptz) END,
                preferred_warehouse, '{{}}', 1,
                CAST(:now AS timestamptz), CAST(:now AS timestamptz)
            FROM {CHANGES} WHERE is_new
            """
        ),
        {"now": utcnow()},
    )
    retired = 0
    if job.scope == FeedScope.FULL:
        # The feed is the whole list of ERP clients: those it leaves out are blocked, not deleted
        # (their orders and history stay).
        result = await session.execute(
            text(
                f"""
                WITH blocked AS (
                    UPDATE companies c SET status = 'blocked',
                        blocked_at = CAST(:now AS timestamptz), version = c.version + 1,
                        updated_at = CAST(:now AS timestamptz)
                    WHERE c.external_id IS NOT NULL AND c.status = 'active'
                      AND NOT EXISTS (SELECT 1 FROM {staging} s WHERE s.external_id = c.external_id)
                    RETURNING c.id)
                INSERT INTO {CHANGES} (company_id, is_new, changed, credit_changed)
                SELECT id, false, true, false FROM blocked
                """
            ),
            {"now": utcnow()},
        )
        retired = int(result.rowcount or 0)  # type: ignore[attr-defined]
    counts = (
        await session.execute(
            text(
                f"""SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE changed AND NOT is_new),
                    count(*) FILTER (WHERE NOT changed) FROM {CHANGES} WHERE _row IS NOT NULL"""
            )
        )
    ).one()
    events = await record_events_from_query(
        session,
        CompanyUpsertedV1,
        f"{UPSERTED_DATA} JOIN {CHANGES} f ON f.company_id = c.id AND f.changed",
    )
    events += await record_events_from_query(
        session,
        CompanyCreditChangedV1,
        f"{CREDIT_DATA} JOIN {CHANGES} f ON f.company_id = c.id AND f.credit_changed",
    )
    return {
        "created": counts[0],
        "updated": counts[1],
        "unchanged": counts[2],
        "blocked": retired,
        "events": events,
    }


# Receivables ----------------------------------------------------------------------------------


async def check_receivable_companies(
    session: AsyncSession, staging: str
) -> list[tuple[int, str, str]]:
    return await rejected_rows(
        session,
        f"""
        SELECT s._row, 'external_id', 'no company with this external_id'
        FROM {staging} s LEFT JOIN companies c ON c.external_id = s.external_id
        WHERE c.id IS NULL
        UNION ALL
        SELECT s._row, 'currency', 'the company is billed in ' || c.currency
        FROM {staging} s JOIN companies c ON c.external_id = s.external_id
        WHERE c.currency <> s.currency
        """,
    )


async def apply_receivables(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Replace each company's receivables; an older report never overwrites a newer one."""
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            SELECT c.id AS company_id, s.currency, s.balance_minor, s.overdue_minor,
                   s.oldest_overdue_date, s.purchase_limit_minor,
                   coalesce(s.as_of, CAST(:now AS timestamptz)) AS as_of,
                   r.as_of IS NOT NULL AND r.as_of > coalesce(s.as_of, CAST(:now AS timestamptz)) AS stale,
                   (r.company_id IS NULL OR
                    (s.currency, s.balance_minor, s.overdue_minor, s.oldest_overdue_date,
                     s.purchase_limit_minor)
                    IS DISTINCT FROM
                    (r.currency, r.balance_minor, r.overdue_minor, r.oldest_overdue_date,
                     r.purchase_limit_minor)) AS changed
            FROM {staging} s
            JOIN companies c ON c.external_id = s.external_id
            LEFT JOIN receivables r ON r.company_id = c.id
            """
        ),
        {"now": utcnow()},
    )
    await session.execute(
        text(
            f"""
            INSERT INTO receivables (company_id, currency, balance_minor, overdue_minor,
                oldest_overdue_date, purchase_limit_minor, as_of, updated_at)
            SELECT company_id, currency, balance_minor, overdue_minor, oldest_overdue_date,
                   purchase_limit_minor, as_of, CAST(:now AS timestamptz)
            FROM {CHANGES} WHERE NOT stale
            ON CONFLICT (company_id) DO UPDATE SET
                currency = EXCLUDED.currency, balance_minor = EXCLUDED.balance_minor,
                overdue_minor = EXCLUDED.overdue_minor,
                oldest_overdue_date = EXCLUDED.oldest_overdue_date,
                purchase_limit_minor = EXCLUDED.purchase_limit_minor,
                as_of = EXCLUDED.as_of, updated_at = CAST(:now AS timestamptz)
            """
        ),
        {"now": utcnow()},
    )
    counts = (
        await session.execute(
            text(
                f"""SELECT count(*) FILTER (WHERE changed AND NOT stale),
                    count(*) FILTER (WHERE NOT changed AND NOT stale), count(*) FILTER (WHERE stale)
                    FROM {CHANGES}"""
            )
        )
    ).one()
    events = await record_events_from_query(
        session,
        CompanyCreditChangedV1,
        f"{CREDIT_DATA} JOIN {CHANGES} f ON f.company_id = c.id AND f.changed AND NOT f.stale",
    )
    return {
        "changed": counts[0],
        "unchanged": counts[1],
        "stale_skipped": counts[2],
        "events": events,
    }

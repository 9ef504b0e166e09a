"""Set-based SQL of the CRM contacts and interactions feeds: checks and apply over the staging
table, events written by SQL into the outbox in the same transaction. A row that changes
nothing is left alone, so a feed sent again changes nothing and tells nobody."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store.companies import SALES_STAFF
from services.accounts.store.feeds import CHANGES, rejected_rows
from shared.clock import utcnow
from shared.contracts.accounts import ContactUpsertedV1, InteractionRecordedV1
from shared.events.outbox import record_events_from_query
from shared.feeds.models import FeedJob

STAFF = ", ".join(f"'{role}'" for role in SALES_STAFF)
CLIENT = "JOIN companies c ON c.external_id = s.client_external_id"
CONTACT_FIELDS = (
    "name, buying_role, phone, email, birthday, preferred_channel, consents_to_messages, "
    "consent_given_at, email_bounced_at, notes, user_id"
)
INTERACTION_FIELDS = (
    "kind, occurred_at, contact_id, manager_id, outcome, next_step, next_step_date, "
    "knowledge_goal_id"
)


def _of(alias: str, fields: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in fields.split(","))


async def _rejections(session: AsyncSession, staging: str, more: str) -> list[tuple[int, str, str]]:
    """Rows naming no known client, and those `more` rejects (a UNION ALL of queries over the
    staging table `s` and its client `c`)."""
    unknown = f"""
        SELECT s._row, 'client_external_id', 'no client with this external_id'
        FROM {staging} s LEFT JOIN companies c ON c.external_id = s.client_external_id
        WHERE c.id IS NULL
    """
    return await rejected_rows(session, f"{unknown} UNION ALL {more}")


async def _counts(session: AsyncSession) -> dict[str, int]:
    created, updated, unchanged = (
        await session.execute(
            text(
                f"""SELECT count(*) FILTER (WHERE is_new),
                    count(*) FILTER (WHERE changed AND NOT is_new),
                    count(*) FILTER (WHERE NOT changed) FROM {CHANGES}"""
            )
        )
    ).one()
    return {"created": created, "updated": updated, "unchanged": unchanged}


# Contacts -------------------------------------------------------------------------------------


async def check_contact_references(
    session: AsyncSession, staging: str
) -> list[tuple[int, str, str]]:
    return await _rejections(
        session,
        staging,
        f"""
        SELECT s._row, 'user_email', 'is not a person of this client'
        FROM {staging} s {CLIENT}
        WHERE s.user_email IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id AND m.company_id = c.id
            WHERE u.email = lower(s.user_email))
        """,
    )


async def apply_contacts(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Upsert contacts by (client, external_id); an empty cell keeps the current value. The
    consent's time is the one sent, else kept while the consent stands, else now; a changed
    e-mail forgets the old one's bounce."""
    now = {"now": utcnow()}
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            WITH sent AS (
                SELECT s._row, c.id AS company_id, k.id AS existing_id, s.external_id, s.name,
                       coalesce(s.buying_role, k.buying_role, 'other') AS buying_role,
                       coalesce(regexp_replace(s.phone, '[^0-9+]', '', 'g'), k.phone) AS phone,
                       coalesce(s.email, k.email) AS email,
                       coalesce(CAST(s.birthday AS date), k.birthday) AS birthday,
                       coalesce(s.preferred_channel, k.preferred_channel) AS preferred_channel,
                       coalesce(s.consents_to_messages, k.consents_to_messages, false)
                           AS consents_to_messages,
                       s.consent_given_at AS consent_sent, s.email_bounced_at AS bounce_sent,
                       coalesce(s.notes, k.notes) AS notes,
                       coalesce(u.id, k.user_id) AS user_id
                FROM {staging} s {CLIENT}
                LEFT JOIN contacts k ON k.company_id = c.id AND k.external_id = s.external_id
                LEFT JOIN users u ON u.email = lower(s.user_email)
            ), rows AS (
                SELECT x.*,
                       CASE WHEN x.consents_to_messages THEN coalesce(
                           x.consent_sent,
                           CASE WHEN k.consents_to_messages THEN k.consent_given_at END,
                           CAST(:now AS timestamptz)) END AS consent_given_at,
                       coalesce(x.bounce_sent, CASE WHEN x.email IS NOT DISTINCT FROM k.email
                                                    THEN k.email_bounced_at END)
                           AS email_bounced_at
                FROM sent x LEFT JOIN contacts k ON k.id = x.existing_id
            )
            SELECT r.*, coalesce(r.existing_id, gen_random_uuid()) AS contact_id,
                   r.existing_id IS NULL AS is_new,
                   (r.existing_id IS NULL OR ({_of("r", CONTACT_FIELDS)})
                       IS DISTINCT FROM ({_of("k", CONTACT_FIELDS)})) AS changed
            FROM rows r LEFT JOIN contacts k ON k.id = r.existing_id
            """
        ),
        now,
    )
    await session.execute(
        text(
            f"""
            UPDATE contacts k SET ({CONTACT_FIELDS}, version, updated_at) =
                ({_of("f", CONTACT_FIELDS)}, k.version + 1, CAST(:now AS timestamptz))
            FROM {CHANGES} f WHERE f.contact_id = k.id AND f.changed AND NOT f.is_new
            """
        ),
        now,
    )
    await session.execute(
        text(
            f"""
            INSERT INTO contacts (id, company_id, external_id, {CONTACT_FIELDS}, version,
                                  created_at, updated_at)
            SELECT contact_id, company_id, external_id, {CONTACT_FIELDS}, 1,
                   CAST(:now AS timestamptz), CAST(:now AS timestamptz)
            FROM {CHANGES} WHERE is_new
            """
        ),
        now,
    )
    events = await record_events_from_query(
        session,
        ContactUpsertedV1,
        f"""
        SELECT k.company_id AS aggregate_id, jsonb_build_object(
            'contact_id', k.id, 'company_id', k.company_id, 'external_id', k.external_id,
            'name', k.name, 'buying_role', k.buying_role, 'phone', k.phone, 'email', k.email,
            'birthday', k.birthday, 'preferred_channel', k.preferred_channel,
            'consents_to_messages', k.consents_to_messages,
            'consent_given_at', k.consent_given_at, 'email_bounced_at', k.email_bounced_at,
            'user_id', k.user_id, 'version', k.version, 'updated_at', k.updated_at) AS data
        FROM contacts k JOIN {CHANGES} f ON f.contact_id = k.id AND f.changed
        """,
    )
    return {**await _counts(session), "events": events}


# Interactions ---------------------------------------------------------------------------------

# The goal a row names: its code in `goal_year`, by default the year the interaction took place.
GOAL = """knowledge_goals g ON g.company_id = c.id AND g.code = s.goal_code
    AND g.year = coalesce(s.goal_year, CAST(extract(year FROM s.occurred_at AT TIME ZONE 'UTC')
                                            AS bigint))"""


async def check_interaction_references(
    session: AsyncSession, staging: str
) -> list[tuple[int, str, str]]:
    return await _rejections(
        session,
        staging,
        f"""
        SELECT s._row, 'contact_external_id', 'is not a contact of this client'
        FROM {staging} s {CLIENT}
        LEFT JOIN contacts k ON k.company_id = c.id AND k.external_id = s.contact_external_id
        WHERE s.contact_external_id IS NOT NULL AND k.id IS NULL
        UNION ALL
        SELECT s._row, 'manager_email', 'is not one of the seller''s staff'
        FROM {staging} s LEFT JOIN users u
            ON u.email = lower(s.manager_email) AND u.staff_role IN ({STAFF})
        WHERE s.manager_email IS NOT NULL AND u.id IS NULL
        UNION ALL
        SELECT s._row, 'manager_email', 'is required: the client has no sales manager'
        FROM {staging} s {CLIENT}
        WHERE s.manager_email IS NULL AND c.sales_manager_id IS NULL
        UNION ALL
        SELECT s._row, 'goal_code', 'is not a knowledge goal of this client in its year'
        FROM {staging} s {CLIENT} LEFT JOIN {GOAL}
        WHERE s.goal_code IS NOT NULL AND g.id IS NULL
        """,
    )


async def apply_interactions(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Record interactions by (client, external_id): a row replaces the interaction it names
    when it differs. A new or changed one that names a goal marks the goal achieved."""
    now = {"now": utcnow()}
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE {CHANGES} ON COMMIT DROP AS
            WITH rows AS (
                SELECT s._row, c.id AS company_id, i.id AS existing_id, s.external_id, s.kind,
                       s.occurred_at, k.id AS contact_id,
                       coalesce(u.id, c.sales_manager_id) AS manager_id, s.outcome,
                       s.next_step, s.next_step_date, g.id AS knowledge_goal_id
                FROM {staging} s {CLIENT}
                LEFT JOIN interactions i ON i.company_id = c.id AND i.external_id = s.external_id
                LEFT JOIN contacts k
                    ON k.company_id = c.id AND k.external_id = s.contact_external_id
                LEFT JOIN users u ON u.email = lower(s.manager_email) AND u.staff_role IN ({STAFF})
                LEFT JOIN {GOAL}
            )
            SELECT r.*, coalesce(r.existing_id, gen_random_uuid()) AS interaction_id,
                   r.existing_id IS NULL AS is_new,
                   (r.existing_id IS NULL OR ({_of("r", INTERACTION_FIELDS)})
                       IS DISTINCT FROM ({_of("i", INTERACTION_FIELDS)})) AS changed
            FROM rows r LEFT JOIN interactions i ON i.id = r.existing_id
            """
        )
    )
    await session.execute(
        text(
            f"""
            UPDATE interactions i SET ({INTERACTION_FIELDS}) = ({_of("f", INTERACTION_FIELDS)})
            FROM {CHANGES} f WHERE f.interaction_id = i.id AND f.changed AND NOT f.is_new
            """
        )
    )
    await session.execute(
        text(
            f"""
            INSERT INTO interactions (id, company_id, external_id, {INTERACTION_FIELDS},
                                      recorded_by, created_at)
            SELECT interaction_id, company_id, external_id, {INTERACTION_FIELDS},
                   CAST(:recorded_by AS text), CAST(:now AS timestamptz)
            FROM {CHANGES} WHERE is_new
            """
        ),
        {**now, "recorded_by": f"feed:{job.id}"},
    )
    await session.execute(
        text(
            f"""
            UPDATE knowledge_goals g SET status = 'achieved', updated_by = f.manager_id,
                updated_at = CAST(:now AS timestamptz)
            FROM {CHANGES} f
            WHERE g.id = f.knowledge_goal_id AND f.changed AND g.status <> 'achieved'
            """
        ),
        now,
    )
    events = await record_events_from_query(
        session,
        InteractionRecordedV1,
        f"""
        SELECT i.company_id AS aggregate_id, jsonb_build_object(
            'interaction_id', i.id, 'company_id', i.company_id, 'contact_id', i.contact_id,
            'manager_id', i.manager_id, 'kind', i.kind, 'occurred_at', i.occurred_at,
            'next_step', i.next_step, 'next_step_date', i.next_step_date,
            'knowledge_goal_id', i.knowledge_goal_id) AS data
        FROM interactions i JOIN {CHANGES} f ON f.interaction_id = i.id AND f.changed
        """,
    )
    return {**await _counts(session), "events": events}

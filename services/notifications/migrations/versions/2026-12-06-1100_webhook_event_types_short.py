"""webhook subscriptions: event types stored short

Subscriptions stored before the API checked their event types may hold the CloudEvents
spelling (`com.b2b.order.placed.v1`), which deliveries (matched on the short type) never
match: each is made short, once. What still never matches (a type nobody publishes, or one
about no company in a company's subscription) is left as it is and reported, subscription by
subscription, in the migration's log: it never received anything, only the subscriber knows
what it meant, and dropping it could leave a subscription with no type at all.

Revision ID: notifications_0008
Revises: notifications_0007
Create Date: 2026-12-06 11:00:00+00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.notifications.domain.rules import published_types
from shared.events.envelope import all_contracts

revision: str = "notifications_0008"
down_revision: str | None = "notifications_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Sorted as the API stores them (by code point), each type once.
SHORTEN = sa.text(
    r"""
    UPDATE webhook_subscriptions s SET event_types = CAST(n.event_types AS varchar(200)[])
    FROM (
        SELECT id, array_agg(t ORDER BY t COLLATE "C") AS event_types
        FROM (SELECT DISTINCT id, regexp_replace(t, '^com\.b2b\.', '') AS t
              FROM webhook_subscriptions, unnest(event_types) AS t) AS each_type
        GROUP BY id
    ) AS n
    WHERE n.id = s.id
      AND EXISTS (SELECT 1 FROM unnest(s.event_types) AS t WHERE t LIKE 'com.b2b.%')
    """
)


def upgrade() -> None:
    connection = op.get_bind()
    shortened = connection.execute(SHORTEN).rowcount
    if shortened:
        log.info("webhook subscriptions with event types made short: %d", shortened)
    published = published_types(all_contracts())
    stored = connection.execute(
        sa.text("SELECT id, company_id, event_types FROM webhook_subscriptions ORDER BY id")
    )
    for subscription, company, event_types in stored:
        never = [
            t
            for t in event_types
            if t != "*" and (t not in published or (company is not None and not published[t]))
        ]
        if never:
            log.warning(
                "webhook subscription %s keeps event types it never receives: %s",
                subscription,
                ", ".join(never),
            )


def downgrade() -> None:
    """Nothing: the long spellings never matched anything."""

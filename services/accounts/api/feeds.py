"""ERP and CRM feeds of accounts: clients (companies), receivables, contacts and interactions,
on the kernel's feed machinery."""

from __future__ import annotations

import polars as pl

from services.accounts.domain.contacts import (
    BUYING_ROLES,
    CHANNELS,
    EARLIEST_BIRTHDAY,
    EMAIL,
    INTERACTION_KINDS,
    PHONE,
)
from services.accounts.store import contact_feeds
from services.accounts.store import feeds as sql
from shared.clock import today, utcnow
from shared.feeds import Column, ColumnType, FeedSpec
from shared.feeds.router import job_examples
from shared.feeds.spec import FrameCheck
from shared.feeds.validation import rejections
from shared.fields import CLOCK_SKEW

CURRENCY = r"[A-Z]{3}"

CLIENTS = FeedSpec(
    kind="clients",
    title="ERP client feed: upsert companies by external_id",
    description=(
        "Creates or updates companies matched by their ERP id. An empty cell keeps the current "
        "value. `scope=full` blocks ERP clients the file leaves out."
    ),
    columns=[
        Column("external_id", required=True, max_length=100, description="The client's id in ERP."),
        Column("legal_name", required=True, max_length=300),
        Column("tax_id", max_length=32),
        Column("industry", max_length=100),
        Column("client_type", max_length=64, description="Code of a client type."),
        Column("client_group", max_length=64, description="Code of a client group."),
        Column("sales_manager_email", max_length=320, description="A staff user's email."),
        Column("currency", ColumnType.CURRENCY, description="ISO 4217; default EUR."),
        Column("credit_limit_minor", ColumnType.INTEGER, minimum=0, description="Minor units."),
        Column("payment_terms_days", ColumnType.INTEGER, minimum=0, maximum=365),
        Column("status", choices=("active", "blocked")),
        Column(
            "preferred_warehouse",
            max_length=64,
            description="Catalog's code of the warehouse the client's orders take stock from "
            "first.",
        ),
    ],
    key=["external_id"],
    apply=sql.apply_clients,
    database_checks=[sql.check_client_references],
    supports_full=True,
)


def _overdue_needs_a_date(frame: pl.DataFrame) -> pl.DataFrame:
    return rejections(
        frame,
        (pl.col("overdue_minor") > 0) & pl.col("oldest_overdue_date").is_null(),
        "oldest_overdue_date",
        "is required when overdue_minor is above 0",
    )


RECEIVABLES = FeedSpec(
    kind="receivables",
    title="ERP receivables feed: each company's debt and purchase limit",
    description=(
        "Replaces each listed company's receivables. A row older (`as_of`) than what is stored "
        "is skipped, so a late retry never overwrites newer figures."
    ),
    columns=[
        Column("external_id", required=True, max_length=100),
        Column("currency", ColumnType.CURRENCY, required=True),
        Column(
            "balance_minor",
            ColumnType.INTEGER,
            required=True,
            description="Owed now; negative = prepaid.",
        ),
        Column("overdue_minor", ColumnType.INTEGER, required=True, minimum=0),
        Column("oldest_overdue_date", ColumnType.DATE),
        Column("purchase_limit_minor", ColumnType.INTEGER, minimum=0),
        Column(
            "as_of", ColumnType.DATETIME, description="When ERP computed the figures; default now."
        ),
    ],
    key=["external_id"],
    apply=sql.apply_receivables,
    frame_checks=[_overdue_needs_a_date],
    database_checks=[sql.check_receivable_companies],
)


def _happened(*columns: str) -> FrameCheck:
    """A check that these times are not later than now (by the clock, a day's skew allowed)."""

    def check(frame: pl.DataFrame) -> pl.DataFrame:
        latest = utcnow() + CLOCK_SKEW
        return pl.concat(
            [rejections(frame, pl.col(c) > latest, c, "is in the future") for c in columns]
        )

    return check


def _birthdays(frame: pl.DataFrame) -> pl.DataFrame:
    """A birthday is a real day, not in the future (by the clock) and not before 1900."""
    day = pl.col("birthday").str.to_date("%Y-%m-%d", strict=False)
    return pl.concat(
        [
            rejections(
                frame,
                pl.col("birthday").is_not_null() & day.is_null(),
                "birthday",
                "is not a date (YYYY-MM-DD)",
            ),
            rejections(frame, day > today(), "birthday", "is in the future"),
            rejections(
                frame, day < EARLIEST_BIRTHDAY, "birthday", f"is before {EARLIEST_BIRTHDAY}"
            ),
        ]
    )


CONTACTS = FeedSpec(
    kind="contacts",
    title="CRM/ERP contacts feed: upsert the people of clients",
    description=(
        "Creates or updates contacts matched by the client's `client_external_id` and the "
        "contact's `external_id`. An empty cell keeps the current value; a row that changes "
        "nothing is left alone (no new version, no event). `notes` are internal."
    ),
    columns=[
        Column("client_external_id", required=True, max_length=100, description="The client."),
        Column("external_id", required=True, max_length=100, description="The contact's id."),
        Column("name", required=True, max_length=200),
        Column("buying_role", choices=BUYING_ROLES, description="Default other."),
        Column("phone", max_length=40, pattern=PHONE, description="+, country code, number."),
        Column("email", max_length=320, pattern=EMAIL),
        Column("birthday", description="YYYY-MM-DD, not in the future."),
        Column("preferred_channel", choices=CHANNELS),
        Column("consents_to_messages", ColumnType.BOOLEAN),
        Column("consent_given_at", ColumnType.DATETIME, description="Default: when first sent."),
        Column("email_bounced_at", ColumnType.DATETIME, description="Mail to `email` bounced."),
        Column("notes", max_length=4000, multiline=True, description="Internal: staff only."),
        Column("user_email", max_length=320, description="A portal user of the same client."),
    ],
    key=["client_external_id", "external_id"],
    apply=contact_feeds.apply_contacts,
    frame_checks=[_birthdays, _happened("consent_given_at", "email_bounced_at")],
    database_checks=[contact_feeds.check_contact_references],
)


def _next_steps(frame: pl.DataFrame) -> pl.DataFrame:
    """The next step comes after the interaction; a goal's year goes with its code."""
    return pl.concat(
        [
            rejections(
                frame,
                pl.col("next_step_date") < pl.col("occurred_at").dt.date(),
                "next_step_date",
                "is before the interaction",
            ),
            rejections(
                frame,
                pl.col("goal_year").is_not_null() & pl.col("goal_code").is_null(),
                "goal_code",
                "is required with goal_year",
            ),
        ]
    )


INTERACTIONS = FeedSpec(
    kind="interactions",
    title="CRM interactions feed: the managers' calls, meetings, e-mails and visits",
    description=(
        "Records interactions matched by the client's `client_external_id` and the "
        "interaction's `external_id`; a row sent again changes nothing, a changed row replaces "
        "the interaction. `goal_code` (of `goal_year`, default the interaction's year) marks "
        "that knowledge goal of the client achieved. The manager defaults to the client's."
    ),
    columns=[
        Column("client_external_id", required=True, max_length=100, description="The client."),
        Column("external_id", required=True, max_length=100, description="The CRM's id."),
        Column("kind", required=True, choices=INTERACTION_KINDS),
        Column("occurred_at", ColumnType.DATETIME, required=True),
        Column("contact_external_id", max_length=100, description="A contact of the client."),
        Column("manager_email", max_length=320, description="Default: the client's manager."),
        Column("outcome", max_length=4000, multiline=True),
        Column("next_step", max_length=300),
        Column("next_step_date", ColumnType.DATE),
        Column("goal_code", max_length=64, description="A knowledge goal of the client."),
        Column("goal_year", ColumnType.INTEGER, minimum=2000, maximum=2100),
    ],
    key=["client_external_id", "external_id"],
    apply=contact_feeds.apply_interactions,
    frame_checks=[_happened("occurred_at"), _next_steps],
    database_checks=[contact_feeds.check_interaction_references],
)

SPECS = [CLIENTS, RECEIVABLES, CONTACTS, INTERACTIONS]

# A client feed as ERP sees it: accepted, then done with its one bad row skipped.
job_examples(
    "accounts",
    {
        "id": "6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0",
        "kind": "clients",
        "mode": "skip_bad_rows",
        "size_bytes": 18734,
        "content_sha256": "df12c45cae08b3a2aa65b1f801e722db3f3aed337424ac773cdcfd96f597d4d2",
        "created_at": "2026-11-23T06:00:02Z",
    },
    {
        "state": "succeeded",
        "rows_total": 240,
        "rows_rejected": 1,
        "rows_applied": 239,
        "result": {"created": 3, "updated": 17, "unchanged": 219, "blocked": 0, "events": 20},
        "started_at": "2026-11-23T06:00:03Z",
        "finished_at": "2026-11-23T06:00:04Z",
        "rejections_url": "/api/v1/accounts/feeds/6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0/rejections",
    },
)

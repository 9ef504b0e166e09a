"""ERP feeds of accounts: clients (companies) and receivables, on the kernel's feed machinery."""

from __future__ import annotations

import polars as pl

from services.accounts.store import feeds as sql
from shared.feeds import Column, ColumnType, FeedSpec
from shared.feeds.router import job_examples
from shared.feeds.validation import ROW

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
    return frame.filter(
        (pl.col("overdue_minor") > 0) & pl.col("oldest_overdue_date").is_null()
    ).select(
        ROW,
        pl.lit("oldest_overdue_date").alias("field"),
        pl.lit("is required when overdue_minor is above 0").alias("reason"),
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

SPECS = [CLIENTS, RECEIVABLES]

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

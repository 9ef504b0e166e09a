"""ERP feeds of accounts: clients (companies) and receivables, on the kernel's feed machinery."""

from __future__ import annotations

import polars as pl

from services.accounts.store import feeds as sql
from shared.feeds import Column, ColumnType, FeedSpec
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

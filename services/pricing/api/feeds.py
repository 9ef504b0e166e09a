"""The ERP price feed: list entries and client prices, on the kernel's feed jobs."""

from __future__ import annotations

import polars as pl

from services.pricing.api.policy_schemas import MAX_QTY
from services.pricing.usecases.price_feeds import process_prices
from shared.auth import Role
from shared.feeds import Column, ColumnType, FeedSpec
from shared.feeds.router import job_examples
from shared.feeds.validation import rejections


def _one_target(frame: pl.DataFrame) -> pl.DataFrame:
    both = pl.col("list").is_not_null() & pl.col("client").is_not_null()
    neither = pl.col("list").is_null() & pl.col("client").is_null()
    return pl.concat(
        [
            rejections(frame, both, "client", "give either list or client, not both"),
            rejections(frame, neither, "list", "give a list code or a client ERP id"),
        ]
    )


def _price_for_upserts(frame: pl.DataFrame) -> pl.DataFrame:
    upsert = pl.col("action").fill_null("upsert") == "upsert"
    return pl.concat(
        [
            rejections(
                frame, upsert & pl.col("price_minor").is_null(), "price_minor", "is required"
            ),
            rejections(
                frame, upsert & (pl.col("price_minor") <= 0), "price_minor", "must be above 0"
            ),
        ]
    )


def _sane_window(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        [
            rejections(
                frame,
                (pl.col("valid_to") <= pl.col("valid_from")).fill_null(False),
                "valid_to",
                "must be after valid_from",
            ),
        ]
    )


PRICES = FeedSpec(
    kind="prices",
    title="ERP price feed: list entries and client prices (the matrix)",
    description=(
        "Each row prices a SKU either in a price list (`list`) or for one client (`client`, "
        "its ERP id). `scope=delta` upserts the rows (`action=delete` removes one); "
        "`scope=full` replaces every list and every client the file names: send the whole "
        "SKU x client matrix and it is stored factored (shared price vectors as derived lists, "
        "exceptions as contract rows), answering exactly what the file said. Streams: "
        "100 M-row files are fine."
    ),
    columns=[
        Column("list", max_length=64, description="Price list code (or give client)"),
        Column("client", max_length=100, description="Client's ERP id (or give list)"),
        Column("sku", required=True, max_length=64),
        Column(
            "min_qty",
            ColumnType.DECIMAL,
            positive=True,
            maximum=MAX_QTY,
            description="Tier; default 1",
        ),
        Column("price_minor", ColumnType.INTEGER, description="Unit price, minor units, > 0"),
        Column("currency", ColumnType.CURRENCY, required=True),
        Column("valid_from", ColumnType.DATE, description="First day; default always"),
        Column("valid_to", ColumnType.DATE, description="First day it no longer applies"),
        Column("action", choices=("upsert", "delete"), description="Default upsert"),
    ],
    key=(),  # a row's identity needs the ids; the processor checks duplicates on those
    frame_checks=[_one_target, _price_for_upserts, _sane_window],
    supports_full=True,
    supports_dry_run=True,
    roles=frozenset({Role.INTEGRATOR, Role.ADMIN, Role.PRICING_MANAGER}),
    process=process_prices,
)

SPECS = [PRICES]

# A price feed as ERP sees it: accepted, then applied as price version 42.
job_examples(
    "pricing",
    {
        "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "kind": "prices",
        "size_bytes": 153,
        "content_sha256": "acbeb64d183938683ce1faf0946f08a57262169888d82ffebeeb8ec1a384ccc0",
        "created_at": "2026-12-01T05:00:01Z",
    },
    {
        "state": "succeeded",
        "rows_total": 3,
        "rows_rejected": 0,
        "rows_applied": 3,
        "result": {
            "version": 42,
            "list_entries_written": 3,
            "list_entries_deleted": 0,
            "contract_rows": 0,
            "cells": 0,
            "diff": {
                "rows_added": 3,
                "rows_changed": 0,
                "rows_removed": 0,
                "change_percent": {"min": None, "max": None, "mean": None, "buckets": []},
                "lists": [{"list_code": "BASE", "rows": 3, "max_change_percent": None}],
                "top_skus": [
                    {"sku": "CE-200", "rows": 2, "max_change_percent": None},
                    {"sku": "KN-100", "rows": 1, "max_change_percent": None},
                ],
                "top_clients": [],
            },
        },
        "started_at": "2026-12-01T05:00:02Z",
        "finished_at": "2026-12-01T05:00:02Z",
    },
)

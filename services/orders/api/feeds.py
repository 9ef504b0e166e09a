"""ERP feeds of orders: delivery tariffs, on the kernel's feed machinery."""

from __future__ import annotations

import polars as pl

from services.orders.store.delivery import TARIFF_KEY, apply_tariffs
from shared.feeds import Column, ColumnType, FeedSpec
from shared.feeds.validation import rejections

MAX_BAND = 100_000  # kg or m3 per shipment: a train, not a truck


def _one_destination(frame: pl.DataFrame) -> pl.DataFrame:
    both = pl.col("postal_prefix").is_not_null() & pl.col("region").is_not_null()
    return rejections(frame, both, "region", "give a postal prefix or a region, not both")


DELIVERY_TARIFFS = FeedSpec(
    kind="delivery-tariffs",
    title="ERP delivery tariffs: the price and transit days of a shipment, by destination and size",
    description=(
        "One row per destination and band: a country, narrowed by a postal code prefix or a "
        "region (or neither: the whole country), and a shipment up to a weight and a volume. "
        "The most specific destination wins (longest prefix, then region, then country), then "
        "the smallest band that carries the shipment. Rows are upserted by destination, band "
        "and currency; `scope=full` drops the tariffs the file leaves out. Pickup from a "
        "warehouse is free and needs no tariff."
    ),
    columns=[
        Column("zone", required=True, max_length=64, description="ERP's name of the zone."),
        Column(
            "country",
            required=True,
            pattern=r"[A-Za-z]{2}",
            upper=True,
            description="ISO 3166-1 alpha-2.",
        ),
        Column(
            "postal_prefix",
            pattern=r"[A-Za-z0-9]{1,20}",
            upper=True,
            description="Postal codes starting with it (letters and digits only).",
        ),
        Column(
            "region",
            max_length=100,
            pattern=r"\S+( \S+)*",
            upper=True,
            description="The address's region, as accounts stores it (compared in upper case).",
        ),
        Column("max_weight_kg", ColumnType.DECIMAL, required=True, positive=True, maximum=MAX_BAND),
        Column("max_volume_m3", ColumnType.DECIMAL, required=True, positive=True, maximum=MAX_BAND),
        Column(
            "price_minor",
            ColumnType.INTEGER,
            required=True,
            minimum=0,
            description="Per shipment, minor units.",
        ),
        Column("currency", ColumnType.CURRENCY, required=True),
        Column("transit_days", ColumnType.INTEGER, required=True, minimum=0, maximum=365),
    ],
    key=list(TARIFF_KEY),
    apply=apply_tariffs,
    frame_checks=[_one_destination],
    supports_full=True,
)

SPECS = [DELIVERY_TARIFFS]

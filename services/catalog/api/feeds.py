"""ERP feeds of the catalog, on the kernel's feed machinery."""

from __future__ import annotations

import polars as pl

from services.catalog.domain.attributes import ATTRIBUTE_NAME, AttributeType
from services.catalog.domain.supply import (
    MAX_LEAD_TIME_DAYS,
    MAX_VOLUME_M3,
    MAX_WEIGHT_KG,
    Supply,
)
from services.catalog.store import attributes, categories
from services.catalog.store import feeds as sql
from services.catalog.usecases import feeds as usecase
from shared.feeds import Column, ColumnType, FeedSpec
from shared.feeds.validation import rejections

# pack=12;pallet=480: unit names, and how many base units one holds (3 decimals at most).
UNITS = r"^[A-Za-z][A-Za-z0-9_.-]{0,15}=\d{1,12}(\.\d{1,3})?(;[A-Za-z][A-Za-z0-9_.-]{0,15}=\d{1,12}(\.\d{1,3})?)*$"


# https://cdn.example.com/kn-100.jpg https://...: URLs, the main image first.
IMAGES = r"^\s*https?://[^\s/]+\S*(\s+https?://[^\s/]+\S*)*\s*$"
MAX_IMAGES = 10


def _product_rules(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        [
            rejections(
                frame,
                pl.col("replacement_sku") == pl.col("sku"),
                "replacement_sku",
                "cannot be the product itself",
            ),
            rejections(
                frame,
                ~pl.col("units").str.contains(UNITS),
                "units",
                "must list unit=factor pairs like pack=12;pallet=480",
            ),
            rejections(frame, pl.col("unit_precision") > 3, "unit_precision", "must be 0 to 3"),
            rejections(
                frame,
                pl.col("cost_minor").is_null() != pl.col("cost_currency").is_null(),
                "cost_currency",
                "cost_minor and cost_currency go together",
            ),
            rejections(
                frame,
                pl.col("images").str.count_matches(r"\S+") > MAX_IMAGES,
                "images",
                f"takes {MAX_IMAGES} URLs at most",
            ),
            rejections(
                frame,
                ~pl.col("images").str.contains(IMAGES),
                "images",
                "must be http(s) URLs separated by spaces",
            ),
        ]
    )


CATALOG = FeedSpec(
    kind="catalog",
    title="ERP catalog feed: upsert products by SKU",
    description=(
        "Creates or updates products matched by SKU. An empty cell keeps the current value. "
        "`scope=full` discontinues the active products the file leaves out."
    ),
    columns=[
        Column("sku", required=True, max_length=64, pattern=r"[A-Za-z0-9][A-Za-z0-9._/-]*"),
        Column("name", max_length=300, description="Required for a new product."),
        Column("description", max_length=10_000, multiline=True),
        Column("brand", max_length=100),
        Column("category", max_length=100, description="Category code."),
        Column("unit", max_length=16, description="Base unit of measure; default pcs."),
        Column("min_order_qty", ColumnType.DECIMAL, positive=True, description="Default 1."),
        Column("order_multiple", ColumnType.DECIMAL, positive=True, description="Default 1."),
        Column("status", choices=("active", "discontinued")),
        Column("replacement_sku", max_length=64, description="What to buy instead."),
        Column(
            "attributes",
            max_length=20_000,
            multiline=True,
            description=(
                'A JSON object of declared attributes, e.g. {"color": "red", "width_mm": 100}; '
                "merged into the product's, a null value removes one."
            ),
        ),
        Column(
            "units",
            max_length=1_000,
            description=(
                "Alternative units and how many base units one holds: pack=12;pallet=480. "
                "Replaces the product's list."
            ),
        ),
        Column(
            "images",
            max_length=10_000,
            description=(
                f"Image URLs (http or https), the main one first, separated by spaces; up to "
                f"{MAX_IMAGES}. Replaces the product's list."
            ),
        ),
        Column(
            "unit_precision",
            ColumnType.INTEGER,
            minimum=0,
            description="Decimals a base quantity may have: 0 for pieces, up to 3; default 3.",
        ),
        Column(
            "cost_minor",
            ColumnType.INTEGER,
            minimum=0,
            description="Cost of goods per base unit, in minor units (never shown to buyers).",
        ),
        Column("cost_currency", ColumnType.CURRENCY, description="ISO 4217 code of the cost."),
        Column(
            "supply",
            choices=tuple(s.value for s in Supply),
            description=(
                "stock (default), made_to_order or both (stock first, the rest produced)."
            ),
        ),
        Column(
            "lead_time_days",
            ColumnType.INTEGER,
            minimum=0,
            maximum=MAX_LEAD_TIME_DAYS,
            description="Production lead time in days; required when the SKU can be made to order.",
        ),
        Column(
            "min_batch",
            ColumnType.DECIMAL,
            positive=True,
            scale=3,
            description="Smallest quantity produced at once, in the base unit; default none.",
        ),
        Column(
            "batch_multiple",
            ColumnType.DECIMAL,
            positive=True,
            scale=3,
            description=(
                "Production quantities are multiples of it, in the base unit; default any "
                "quantity the base unit's decimals can express."
            ),
        ),
        Column(
            "weight_kg",
            ColumnType.DECIMAL,
            positive=True,
            scale=3,
            maximum=MAX_WEIGHT_KG,
            description="Weight of one base unit in kg, for delivery.",
        ),
        Column(
            "volume_m3",
            ColumnType.DECIMAL,
            positive=True,
            scale=6,
            maximum=MAX_VOLUME_M3,
            description="Volume of one base unit in cubic metres, for delivery.",
        ),
    ],
    key=["sku"],
    apply=usecase.apply_products,
    frame_checks=[_product_rules],
    database_checks=[sql.check_products, sql.check_units, attributes.check_product_attributes],
    supports_full=True,
)

STOCK = FeedSpec(
    kind="stock",
    title="ERP stock feed: on-hand quantity per SKU and warehouse",
    description=(
        "Sets each (SKU, warehouse) on-hand quantity in the SKU's base unit; reservations stay. "
        "A row older (`as_of`) than the stored figure is skipped, so a late retry never "
        "overwrites newer stock. `scope=full` sets to 0 what the file leaves out of the "
        "warehouses it names. Unknown warehouses are created (ERP is their master)."
    ),
    columns=[
        Column("sku", required=True, max_length=64),
        Column("warehouse", required=True, max_length=64),
        Column("on_hand", ColumnType.DECIMAL, required=True, scale=3, minimum=0),
        Column("as_of", ColumnType.DATETIME, description="When ERP counted it; default now."),
    ],
    key=["sku", "warehouse"],
    apply=usecase.apply_stock,
    database_checks=[sql.check_stock],
    supports_full=True,
)


def _category_rules(frame: pl.DataFrame) -> pl.DataFrame:
    return rejections(
        frame, pl.col("parent") == pl.col("code"), "parent", "cannot be the category itself"
    )


CATEGORY_CODE = r"[A-Za-z0-9][A-Za-z0-9._/-]*"

CATEGORIES = FeedSpec(
    kind="categories",
    title="ERP categories feed: the category tree, upserted by code",
    description=(
        "Creates or updates categories matched by code. A row is the whole truth of its "
        "category: an empty `parent` makes it a top-level category. A parent must exist or "
        "come in the same file, and no category may end up under itself. Products name their "
        "category by code in the catalog feed."
    ),
    columns=[
        Column("code", required=True, max_length=100, pattern=CATEGORY_CODE),
        Column("name", required=True, max_length=200),
        Column("parent", max_length=100, description="Parent category code; empty: top level."),
    ],
    key=["code"],
    apply=usecase.apply_categories,
    frame_checks=[_category_rules],
    database_checks=[categories.check_categories],
)

ATTRIBUTES = FeedSpec(
    kind="attributes",
    title="ERP attributes feed: declare product attributes and their types",
    description=(
        "Declares the attributes products may carry in the catalog feed's `attributes` "
        "column, matched by name: `number`, `text` or `bool`. A type changes only while no "
        "product holds a value of the old type."
    ),
    columns=[
        Column("name", required=True, max_length=64, pattern=ATTRIBUTE_NAME),
        Column("type", required=True, choices=tuple(t.value for t in AttributeType)),
        Column("label", max_length=200, description="Shown to buyers; default the name."),
        Column("unit", max_length=16, description="Unit of a number, e.g. mm."),
    ],
    key=["name"],
    apply=usecase.apply_attributes,
    database_checks=[attributes.check_definitions],
)

SPECS = [CATALOG, STOCK, CATEGORIES, ATTRIBUTES]

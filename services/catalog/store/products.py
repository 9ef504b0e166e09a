"""Product search: the one place that turns a product filter into SQL, for pages and facets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, Text, cast, func, literal_column, or_
from sqlalchemy.dialects.postgresql import JSONPATH

from services.catalog.domain.attributes import AttributeCondition, AttributeType
from services.catalog.store.categories import subtree
from services.catalog.store.models import Product

MAX_WORDS = 8


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    category: str | None = None  # this category and every category under it
    brand: str | None = None
    status: str | None = "active"
    attributes: tuple[AttributeCondition, ...] = ()

    @property
    def words(self) -> list[str]:
        return (self.q or "").split()[:MAX_WORDS]


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(stmt: Select[Any], where: ProductFilter) -> Select[Any]:
    """`stmt` (over products) narrowed to what `where` asks for."""
    if where.words:
        # Every word must appear in the SKU or the name; the trigram index on exactly this
        # expression serves each ILIKE, SKU fragments included.
        searched = Product.sku.op("||")(literal_column("' '")).op("||")(Product.name)
        for word in where.words:
            stmt = stmt.where(searched.ilike(f"%{_escaped(word)}%"))
    if where.category:
        stmt = stmt.where(
            or_(Product.category == where.category, Product.category.in_(subtree(where.category)))
        )
    if where.brand:
        stmt = stmt.where(Product.brand == where.brand)
    if where.status:
        stmt = stmt.where(Product.status == where.status)
    for condition in where.attributes:
        stmt = stmt.where(attribute_matches(condition))
    return stmt


def attribute_matches(condition: AttributeCondition) -> ColumnElement[bool]:
    if condition.type != AttributeType.NUMBER:
        # Containment (@>) is what the GIN index on attributes serves.
        return or_(*(Product.attributes.contains({condition.name: v}) for v in condition.values))
    # The name is a checked identifier (ATTRIBUTE_NAME), so it may stand in the path; the
    # bounds go as variables. A value of another JSON type never matches.
    tests = []
    bounds: dict[str, Any] = {}
    if condition.low is not None:
        tests.append("@ >= $low")
        bounds["low"] = condition.low
    if condition.high is not None:
        tests.append("@ <= $high")
        bounds["high"] = condition.high
    path = f'$."{condition.name}" ? ({" && ".join(tests)})'
    variables = func.jsonb_build_object(
        *(part for key, value in bounds.items() for part in (cast(key, Text), cast(value, Numeric)))
    )
    return func.jsonb_path_exists(Product.attributes, cast(path, JSONPATH), variables)

"""Product search: the one place that turns a product filter into SQL, for pages and facets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, literal_column, or_

from services.catalog.store.categories import subtree
from services.catalog.store.models import Product

MAX_WORDS = 8


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    category: str | None = None  # this category and every category under it
    brand: str | None = None
    status: str | None = "active"

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
    return stmt

"""Product search: the one place that turns a product filter into SQL, for pages and facets."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Double,
    Numeric,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.attributes import AttributeCondition, AttributeType
from services.catalog.store.categories import subtree
from services.catalog.store.models import AttributeDefinition, Category, Product, StockLevel
from shared.pagination import PageParams, decode_cursor, encode_cursor
from shared.problems import FieldError, Unprocessable

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


def prefix_query(text_: str) -> str | None:
    """A tsquery matching every word of `text_` as a word prefix: `'tile':* & 'glu':*`."""
    tokens = re.findall(r"\w+", text_.lower())
    return " & ".join(f"'{t}':*" for t in tokens) or None


def sku_like(word: str) -> bool:
    """Three characters or more with a digit or a sign in them: a SKU fragment, not a word."""
    return len(word) >= 3 and not word.isalpha()


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(stmt: Select[Any], where: ProductFilter) -> Select[Any]:
    """`stmt` (over products) narrowed to what `where` asks for."""
    # Every word must be a word prefix in name, brand, description or attribute values (the
    # GIN tsvector index). A word that looks like a piece of a SKU ("KN-1", "0012") may also
    # appear anywhere in SKU or name (the trigram index on exactly that expression);
    # PostgreSQL ORs the two bitmaps. Plain words skip the trigram: "board" would match a
    # fifth of a million-product catalog there, and under three characters it cannot use it.
    searched = Product.sku.op("||")(literal_column("' '")).op("||")(Product.name)
    for word in where.words:
        typed = searched.ilike(f"%{_escaped(word)}%")
        words = prefix_query(word)
        if words is None:
            stmt = stmt.where(typed)
        elif sku_like(word):
            stmt = stmt.where(or_(typed, Product.search_vector.op("@@")(_tsquery(words))))
        else:
            stmt = stmt.where(Product.search_vector.op("@@")(_tsquery(words)))
    if where.category:
        # One IN over the code and its descendants: a semi-join the category index serves
        # (an OR with the subtree made PostgreSQL filter every row the other conditions found).
        codes = subtree(where.category).union(select(literal(where.category)))
        stmt = stmt.where(Product.category.in_(codes))
    if where.brand:
        stmt = stmt.where(Product.brand == where.brand)
    if where.status:
        stmt = stmt.where(Product.status == where.status)
    for condition in where.attributes:
        stmt = stmt.where(attribute_matches(condition))
    return stmt


def _tsquery(query: str) -> ColumnElement[Any]:
    return func.to_tsquery(literal_column("'simple'"), query)


def relevance(where: ProductFilter) -> ColumnElement[float]:
    """Higher is better: word matches weighted by field (name first), and a SKU starting with
    what was typed above any word match."""
    words = prefix_query(" ".join(where.words))
    rank: ColumnElement[Any] = (
        func.ts_rank(Product.search_vector, _tsquery(words)) if words else literal(0.0)
    )
    sku_hit = case((Product.sku.ilike(f"{_escaped(where.q or '')}%"), 1.0), else_=0.0)
    return cast(rank + sku_hit, Double)


@dataclass(frozen=True)
class SortKey:
    expression: ColumnElement[Any]
    descending: bool = False
    parse: Callable[[Any], Any] = str  # a cursor value back to its Python type


Sort = Literal["relevance", "name", "sku", "-updated_at"]


def sort_keys(where: ProductFilter, sort: Sort) -> list[SortKey]:
    """The order of a page; the SKU last, so every order is total and a cursor exact."""
    sku = SortKey(Product.sku)
    if sort == "relevance" and where.words:
        return [SortKey(relevance(where), descending=True, parse=float), sku]
    if sort == "name":
        return [SortKey(Product.name), sku]
    if sort == "-updated_at":
        return [SortKey(Product.updated_at, descending=True, parse=datetime.fromisoformat), sku]
    return [sku]


async def search_page(
    session: AsyncSession, where: ProductFilter, sort: Sort, params: PageParams
) -> tuple[list[Product], str | None]:
    """One page of products in `sort` order from the cursor on (keyset: no OFFSET)."""
    keys = sort_keys(where, sort)
    stmt = filtered(select(Product, *(k.expression for k in keys)), where)
    if params.cursor:
        stmt = stmt.where(_after(keys, sort, decode_cursor(params.cursor)))
    stmt = stmt.order_by(*(k.expression.desc() if k.descending else k.expression for k in keys))
    rows = (await session.execute(stmt.limit(params.limit + 1))).all()
    cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        cursor = encode_cursor([sort, *rows[-1][1:]])
    return [r[0] for r in rows], cursor


def _after(keys: list[SortKey], sort: Sort, cursor: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor's in the order of `keys` (mixed directions allowed)."""
    if len(cursor) != len(keys) + 1 or cursor[0] != sort:
        raise Unprocessable(
            "The cursor belongs to another search order.",
            errors=[FieldError(field="cursor", message=f"does not fit sort={sort}")],
        )
    try:
        values = [k.parse(v) for k, v in zip(keys, cursor[1:], strict=True)]
    except (TypeError, ValueError) as exc:
        raise Unprocessable(
            "The cursor is not valid.", errors=[FieldError(field="cursor", message=str(exc))]
        ) from exc
    later = []
    for i, key in enumerate(keys):
        same = [k.expression == v for k, v in zip(keys[:i], values[:i], strict=True)]
        beyond = key.expression < values[i] if key.descending else key.expression > values[i]
        later.append(and_(*same, beyond))
    return or_(*later)


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


async def facet_rows(session: AsyncSession, where: ProductFilter) -> list[Any]:
    """Counts of the products matching `where` by brand, by category and by attribute value,
    with the total: one query over the matched set.

    Rows are (facet, name, value, label, type, count): facet is total, brand, category or
    attribute; name is the attribute's; value is JSON (a brand, a category code, a value).
    """
    matched = filtered(select(Product.brand, Product.category, Product.attributes), where).cte(
        "matched"
    )
    pair = func.jsonb_each(matched.c.attributes).table_valued("key", "value").alias("pair")
    none = literal(None, Text)
    total = select(
        literal("total"), none, cast(literal(None), JSONB), none, none, func.count()
    ).select_from(matched)
    brands = (
        select(literal("brand"), none, func.to_jsonb(matched.c.brand), none, none, func.count())
        .where(matched.c.brand.is_not(None))
        .group_by(matched.c.brand)
    )
    categories = (
        select(
            literal("category"),
            none,
            func.to_jsonb(matched.c.category),
            func.min(Category.name),
            none,
            func.count(),
        )
        .select_from(matched)
        .outerjoin(Category, Category.code == matched.c.category)
        .where(matched.c.category.is_not(None))
        .group_by(matched.c.category)
    )
    attributes = (
        select(
            literal("attribute"),
            pair.c.key,
            pair.c.value,
            func.min(AttributeDefinition.label),
            func.min(AttributeDefinition.type),
            func.count(),
        )
        .select_from(matched)
        .join(pair, true())
        .outerjoin(AttributeDefinition, AttributeDefinition.name == pair.c.key)
        .group_by(pair.c.key, pair.c.value)
    )
    return list((await session.execute(union_all(total, brands, categories, attributes))).all())


async def by_skus(session: AsyncSession, skus: list[str]) -> dict[str, Product]:
    """The products of these SKUs, in one query."""
    found = await session.scalars(select(Product).where(Product.sku.in_(sorted(set(skus)))))
    return {p.sku: p for p in found}


async def available_by_sku(session: AsyncSession, skus: list[str]) -> dict[str, Decimal]:
    """Stock available now per SKU (on hand less reserved, over all warehouses), one query."""
    rows = await session.execute(
        select(
            StockLevel.sku,
            func.sum(func.greatest(StockLevel.on_hand - StockLevel.reserved, 0)),
        )
        .where(StockLevel.sku.in_(sorted(set(skus))))
        .group_by(StockLevel.sku)
    )
    return {sku: available for sku, available in rows.all()}

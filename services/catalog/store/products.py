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
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union,
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
SEARCH_WORK_MEM = "32MB"  # an exact bitmap of every page of some 16 M products


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


def prefix_terms(text_: str) -> str | None:
    """The same words as exact terms (`'tile' & 'glu'`), for the index of word prefixes."""
    tokens = re.findall(r"\w+", text_.lower())
    return " & ".join(f"'{t}'" for t in tokens) or None


def sku_like(word: str) -> bool:
    """Three characters or more with a digit or a sign in them: a SKU fragment, not a word."""
    return len(word) >= 3 and not word.isalpha()


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_match(word: str) -> ColumnElement[bool]:
    """`word` is a word prefix in name, brand, description or attribute values: checked on
    the row's tsvector, a microsecond a row, and no index serves it."""
    return Product.search_vector.op("@@")(_tsquery(prefix_query(word)))


def _indexed_prefix_match(word: str, guarded: bool) -> ColumnElement[bool]:
    """The same, through the GIN index of word prefixes.

    That index holds every prefix of every word as an exact term, so a word typed in part is
    one GIN key. Its expression costs some 25 us a row when PostgreSQL filters rows with it
    instead of using the index, which it may when another index is a way in (a category or
    brand, an attribute, a sort order): `guarded` then puts the tsvector match beside it,
    which such a filter checks first. Without another way in, that check would only repeat
    the index's answer on every row found (a third of a common word's search).
    """
    indexed = func.catalog_word_prefixes(Product.search_vector).op("@@")(
        _tsquery(prefix_terms(word))
    )
    return and_(_prefix_match(word), indexed) if guarded else indexed


def _text_branches(words: list[str], guarded: bool) -> list[list[ColumnElement[bool]]]:
    """The conditions of the words, as alternatives whose union is what they match.

    Every word must be a word prefix in name, brand, description or attribute values. A word
    that looks like a piece of a SKU ("KN-1", "0012") may instead appear anywhere in SKU or
    name (the trigram index on exactly that expression). Plain words skip the trigram:
    "board" would match a fifth of a million-product catalog there, and under three
    characters it cannot use it. An OR of the two indexes made PostgreSQL check the other
    words with the costly prefix expression row by row, so the first SKU-like word splits
    the search in two: its prefix match through the prefix index, or its trigram match with
    the other words checked on the tsvector. Further SKU-like words are checked either way
    on the rows found.
    """
    searched = Product.sku.op("||")(literal_column("' '")).op("||")(Product.name)
    fragment = next((i for i, w in enumerate(words) if prefix_query(w) and sku_like(w)), None)

    def conditions(fragment_typed: bool) -> list[ColumnElement[bool]]:
        found = []
        for i, word in enumerate(words):
            typed = searched.ilike(f"%{_escaped(word)}%")
            if prefix_query(word) is None:
                found.append(typed)
            elif i == fragment:
                found.append(typed if fragment_typed else _indexed_prefix_match(word, guarded))
            elif sku_like(word):
                found.append(or_(typed, _prefix_match(word)))
            else:
                found.append(
                    _prefix_match(word) if fragment_typed else _indexed_prefix_match(word, guarded)
                )
        return found

    return [conditions(False)] if fragment is None else [conditions(False), conditions(True)]


async def search_branches(
    session: AsyncSession, where: ProductFilter, ordered: bool = False
) -> list[list[ColumnElement[bool]]]:
    """What `where` asks for, as conditions on products: one list, or two whose union it is
    (see `_text_branches`). `ordered`: the rows are wanted in an order an index gives (SKU,
    name, last update). One query reads a category's subtree."""
    # For this transaction, in one round trip:
    # - the best plan depends on the words and the category (a common word ranks 20,000
    #   rows, a rare one 20): plan each search for its values, not once for the statement
    #   as PostgreSQL does after a prepared statement's fifth run;
    # - the bitmap of a common word's rows must stay exact: a lossy page is checked row by
    #   row with the costly prefix expression (4 MB holds about 2 M products' pages).
    await session.execute(
        text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
            " set_config('work_mem', :work_mem, true)"
        ).bindparams(work_mem=SEARCH_WORK_MEM)
    )
    common: list[ColumnElement[bool]] = []
    if where.category:
        # The code and its descendants, read first and passed as values: the planner then
        # knows how many products they hold (as a subquery it guessed, and walked the whole
        # SKU index for a category page).
        codes = {where.category, *(await session.scalars(subtree(where.category)))}
        common.append(Product.category.in_(sorted(codes)))
    if where.brand:
        common.append(Product.brand == where.brand)
    if where.status:
        common.append(Product.status == where.status)
    common += [attribute_matches(condition) for condition in where.attributes]
    guarded = ordered or bool(where.category or where.brand or where.attributes)
    return [[*text, *common] for text in _text_branches(where.words, guarded)]


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


# A page's products as plain rows, every column but the search vector: building ORM objects
# only to copy them into the answer cost more than the query.
PAGE_COLUMNS = [c for c in Product.__table__.c if c.name != "search_vector"]


async def search_page(
    session: AsyncSession, where: ProductFilter, sort: Sort, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of products (column name to value) in `sort` order from the cursor on (keyset:
    no OFFSET)."""
    keys = sort_keys(where, sort)
    # The page is chosen over narrow rows (id and sort keys), then only its products are read
    # whole: a relevance page ranks every match, and carrying every match's full row through
    # the sort cost as much as the ranking. With two branches each gives its own first page
    # and the union is ordered again.
    after = [_after(keys, sort, decode_cursor(params.cursor))] if params.cursor else []
    branches = [
        select(Product.id, *(k.expression.label(f"key{i}") for i, k in enumerate(keys)))
        .where(*conditions, *after)
        .order_by(*_ordered(keys, [k.expression for k in keys]))
        .limit(params.limit + 1)
        for conditions in await search_branches(session, where, ordered=sort != "relevance")
    ]
    if len(branches) == 1:
        chosen = branches[0].subquery("page")
    else:
        found = union(*branches).subquery("found")
        chosen = (
            select(found)
            .order_by(*_ordered(keys, [found.c[f"key{i}"] for i in range(len(keys))]))
            .limit(params.limit + 1)
            .subquery("page")
        )
    columns = [chosen.c[f"key{i}"] for i in range(len(keys))]
    stmt = (
        select(*PAGE_COLUMNS, *columns)
        .join(chosen, chosen.c.id == Product.id)
        .order_by(*_ordered(keys, columns))
    )
    rows = (await session.execute(stmt)).all()
    cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        cursor = encode_cursor([sort, *rows[-1][len(PAGE_COLUMNS) :]])
    return [dict(r._mapping) for r in rows], cursor


def _ordered(keys: list[SortKey], columns: list[Any]) -> list[Any]:
    """`columns` (the keys' values in some query) ordered as `keys` say."""
    return [c.desc() if k.descending else c for k, c in zip(keys, columns, strict=True)]


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
    branches = await search_branches(session, where)
    found: Any = and_(*branches[0])
    if len(branches) > 1:
        found = Product.id.in_(union(*(select(Product.id).where(*b) for b in branches)))
    matched = (
        select(Product.brand, Product.category, Product.attributes).where(found).cte("matched")
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


async def by_sku(session: AsyncSession, sku: str) -> Product | None:
    return await session.scalar(select(Product).where(Product.sku == sku))


async def stock_levels(session: AsyncSession, sku: str) -> list[StockLevel]:
    """The SKU's stock per warehouse, by warehouse code."""
    levels = await session.scalars(
        select(StockLevel).where(StockLevel.sku == sku).order_by(StockLevel.warehouse)
    )
    return list(levels)

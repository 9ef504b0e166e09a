"""Carts and requisition lists: every write is one statement over all its lines."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lines import MAX_LINES, OrderingRules
from services.orders.store.models import (
    Cart,
    CartLine,
    Product,
    RequisitionList,
    RequisitionListLine,
)
from shared.clock import utcnow
from shared.fields import MAX_QUANTITY
from shared.problems import Conflict, FieldError, Unprocessable

UPSERT = """
    INSERT INTO {table} ({owner}, sku, quantity)
    SELECT :owner_id, sku, quantity
    FROM unnest(CAST(:skus AS text[]), CAST(:quantities AS numeric[])) AS l(sku, quantity)
    ON CONFLICT ({owner}, sku) DO UPDATE SET quantity = {new_quantity}
"""


async def put_lines(
    session: AsyncSession,
    owner_id: uuid.UUID,
    quantities: dict[str, Decimal],
    *,
    add: bool,
    requisition: bool = False,
) -> None:
    """Set (or, with `add`, add to) the quantity of each SKU; refuses to grow past MAX_LINES."""
    if not quantities:
        return
    table, owner = (
        ("requisition_list_lines", "list_id") if requisition else ("cart_lines", "cart_id")
    )
    new_quantity = f"{table}.quantity + EXCLUDED.quantity" if add else "EXCLUDED.quantity"
    await session.execute(
        text(UPSERT.format(table=table, owner=owner, new_quantity=new_quantity)),
        {"owner_id": owner_id, "skus": list(quantities), "quantities": list(quantities.values())},
    )
    line = RequisitionListLine if requisition else CartLine
    key = line.list_id if requisition else line.cart_id  # type: ignore[attr-defined]
    count, largest = (
        await session.execute(
            select(func.count(), func.max(line.quantity)).select_from(line).where(key == owner_id)
        )
    ).one()
    if count and count > MAX_LINES:
        raise Conflict(f"A list holds at most {MAX_LINES} lines; this would make {count}.")
    if largest is not None and largest > MAX_QUANTITY:
        raise Unprocessable(
            "Added up, a line would hold more than the largest quantity; nothing was changed.",
            errors=[
                FieldError(field="lines.quantity", message=f"must be at most {MAX_QUANTITY:,}")
            ],
        )
    if not requisition:
        await session.execute(update(Cart).where(Cart.id == owner_id).values(updated_at=utcnow()))


async def remove_lines(session: AsyncSession, cart_id: uuid.UUID, skus: list[str]) -> None:
    await session.execute(
        delete(CartLine).where(CartLine.cart_id == cart_id, CartLine.sku.in_(skus))
    )


async def cart_lines(
    session: AsyncSession, cart_id: uuid.UUID
) -> list[tuple[str, Decimal, str | None, str | None]]:
    """(sku, quantity, name, unit) in the order the lines came in."""
    rows = await session.execute(
        select(CartLine.sku, CartLine.quantity, Product.name, Product.unit)
        .outerjoin(Product, Product.sku == CartLine.sku)
        .where(CartLine.cart_id == cart_id)
        .order_by(CartLine.position)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def lines_to_order(
    session: AsyncSession, cart_id: uuid.UUID
) -> tuple[list[tuple[str, Decimal, str | None]], dict[str, OrderingRules]]:
    """(sku, quantity, name) in the order the lines came in, and the ordering rules of the
    SKUs orders knows, in one query: what checkout checks again before it orders."""
    rows = (
        await session.execute(
            select(
                CartLine.sku,
                CartLine.quantity,
                Product.name,
                Product.unit,
                Product.min_order_qty,
                Product.order_multiple,
                Product.sellable,
                Product.replacement_sku,
            )
            .outerjoin(Product, Product.sku == CartLine.sku)
            .where(CartLine.cart_id == cart_id)
            .order_by(CartLine.position)
        )
    ).all()
    rules = {row.sku: OrderingRules(*row[3:]) for row in rows if row.unit is not None}
    return [(row.sku, row.quantity, row.name) for row in rows], rules


async def line_counts(session: AsyncSession, cart_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(CartLine.cart_id, func.count())
        .where(CartLine.cart_id.in_(cart_ids))
        .group_by(CartLine.cart_id)
    )
    return {cart_id: count for cart_id, count in rows}


async def carts_of(
    session: AsyncSession, narrow: Any, owner: str, company_id: uuid.UUID | None
) -> list[Cart]:
    """The owner's carts by name, for one client or every client `narrow` lets it reach."""
    stmt = select(Cart).where(Cart.owner == owner).order_by(Cart.name)
    if company_id is not None:
        stmt = stmt.where(Cart.company_id == company_id)
    return list(await session.scalars(narrow(stmt, Cart.company_id)))


async def empty(session: AsyncSession, cart_id: uuid.UUID) -> None:
    await session.execute(delete(CartLine).where(CartLine.cart_id == cart_id))


async def lists_of(session: AsyncSession, company_id: uuid.UUID) -> list[RequisitionList]:
    """The company's requisition lists by name."""
    found = await session.scalars(
        select(RequisitionList)
        .where(RequisitionList.company_id == company_id)
        .order_by(RequisitionList.name)
    )
    return list(found)


async def list_lines(
    session: AsyncSession, list_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, Decimal]]]:
    """Each list's (sku, quantity) by SKU, in one query however many lists there are."""
    lines: dict[uuid.UUID, list[tuple[str, Decimal]]] = {x: [] for x in list_ids}
    rows = await session.execute(
        select(RequisitionListLine.list_id, RequisitionListLine.sku, RequisitionListLine.quantity)
        .where(RequisitionListLine.list_id.in_(list_ids))
        .order_by(RequisitionListLine.list_id, RequisitionListLine.sku)
    )
    for list_id, sku, quantity in rows:
        lines[list_id].append((sku, quantity))
    return lines

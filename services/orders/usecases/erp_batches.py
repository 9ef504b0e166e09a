"""A batch of ERP rows about orders (status updates, shipments), applied with the kernel's
per-row batches: the orders locked in a fixed order, the rows of one order in time order (a
batch may carry a whole journey), each row in a savepoint so a refused one changes nothing;
all or nothing unless ERP asked to skip the bad rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lifecycle import TransitionRefused
from services.orders.domain.shipments import ShipmentRefused
from services.orders.store import order_queries
from services.orders.store.models import Order
from shared.batches import Batch, Mode, RowRefused, apply_each


class OrderRow(Protocol):
    order: str  # our number or ERP's
    at: datetime


Row = TypeVar("Row", bound=OrderRow)


async def apply_rows(
    session: AsyncSession,
    rows: Sequence[Row],
    apply: Callable[[Order, Row], Awaitable[bool]],
    *,
    mode: Mode,
    field_name: str,
    what: str,
) -> Batch:
    """`apply` changes an order by one row (False: the row changed nothing) or raises
    TransitionRefused/ShipmentRefused. With `all_or_nothing`, any refused row is a 422 naming
    each (`field_name`, the row) and the caller's transaction rolls back."""
    orders = await order_queries.locked_by_reference(session, [r.order for r in rows])

    async def apply_one(item: Row) -> bool:
        order = orders.get(item.order)
        if order is None:
            raise RowRefused("unknown order")
        return await apply(order, item)

    batch = await apply_each(
        session,
        rows,
        apply_one,
        key=lambda r: r.order,
        field_name=field_name,
        refused=(ShipmentRefused, TransitionRefused),
        order=lambda r: (r.order, r.at),
    )
    return batch.settle(mode, f"Some {what} cannot be applied; nothing was changed.", keyed=True)

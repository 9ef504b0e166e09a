"""A batch of ERP rows about orders (status updates, shipments), applied with a result per
row: the orders locked in a fixed order, the rows of one order in time order (a batch may
carry a whole journey), each row in a savepoint so a refused one changes nothing; all or
nothing unless ERP asked to skip the bad rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.lifecycle import TransitionRefused
from services.orders.domain.shipments import ShipmentRefused
from services.orders.store import order_queries
from services.orders.store.models import Order
from shared.problems import FieldError, Unprocessable

Mode = Literal["all_or_nothing", "skip_bad_rows"]


class OrderRow(Protocol):
    order: str  # our number or ERP's
    at: datetime


Row = TypeVar("Row", bound=OrderRow)


@dataclass(frozen=True)
class Rejection:
    row: int
    order: str
    reason: str


@dataclass
class BatchResult:
    applied: int = 0
    unchanged: int = 0  # rows that repeated what is known
    rejected: list[Rejection] = field(default_factory=list)


async def apply_rows(
    session: AsyncSession,
    rows: Sequence[Row],
    apply: Callable[[Order, Row], Awaitable[bool]],
    *,
    mode: Mode,
    field_name: str,
    what: str,
) -> BatchResult:
    """`apply` changes an order by one row (False: the row changed nothing) or raises
    TransitionRefused/ShipmentRefused. With `all_or_nothing`, any refused row is a 422 naming
    each (`field_name`, the row) and the caller's transaction rolls back."""
    orders = await order_queries.locked_by_reference(session, [r.order for r in rows])
    result = BatchResult()
    for row, item in sorted(enumerate(rows, 1), key=lambda x: (x[1].order, x[1].at)):
        order = orders.get(item.order)
        if order is None:
            result.rejected.append(Rejection(row, item.order, "unknown order"))
            continue
        try:
            async with session.begin_nested():
                changed = await apply(order, item)
        except (ShipmentRefused, TransitionRefused) as exc:
            result.rejected.append(Rejection(row, item.order, str(exc)))
            continue
        result.applied += changed
        result.unchanged += not changed
    result.rejected.sort(key=lambda r: r.row)
    if result.rejected and mode == "all_or_nothing":
        raise Unprocessable(
            f"Some {what} cannot be applied; nothing was changed.",
            errors=[
                FieldError(field=field_name, message=f"{r.order}: {r.reason}", row=r.row)
                for r in result.rejected
            ],
        )
    return result

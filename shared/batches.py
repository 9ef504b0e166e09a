"""Batches of rows sent in one request (an ERP posting updates, an integrator setting many
things at once), answered row by row.

Every row gets an outcome: applied (or a finer word a service uses, such as created or
updated), unchanged (it repeats what is known: a batch sent again changes nothing), or
rejected with the field and why. `apply_each` applies each row in its own savepoint, so a
refused row changes nothing while the others stand. In `all_or_nothing` mode one bad row
refuses the batch: a 422 naming every bad row, and the caller's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.problems import FieldError, Unprocessable

Mode = Literal["all_or_nothing", "skip_bad_rows"]
ALL_OR_NOTHING = "all_or_nothing"

APPLIED = "applied"
UNCHANGED = "unchanged"
REJECTED = "rejected"

Row = TypeVar("Row")


class RowRefused(Exception):
    """Raised by a row's apply step: the row cannot be applied, for the reason given."""


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was rejected: the row's field and why."""

    field: str
    message: str


@dataclass(frozen=True)
class RowOutcome:
    row: int  # 1 = the first row sent
    key: str  # what the row is about (an order's number, a code), as sent
    status: str  # APPLIED, UNCHANGED, REJECTED or a finer word for applied
    problems: list[RowProblem] = field(default_factory=list)


class Batch:
    """The outcomes of a batch's rows, in any order; read back in row order."""

    def __init__(self) -> None:
        self._outcomes: list[RowOutcome] = []
        self._first_row: dict[Hashable, int] = {}

    def add(
        self,
        key: str,
        status: str,
        problems: Iterable[tuple[str, str]] = (),
        *,
        row: int | None = None,
        unique_field: str | None = None,
    ) -> bool:
        """Record a row (by default the next one); rejected when it has problems (field, why),
        or when `unique_field` is given and an earlier row had the same key. True when the
        row stands."""
        row = len(self._outcomes) + 1 if row is None else row
        errors = [RowProblem(f, m) for f, m in problems]
        if unique_field is not None:
            first = self._first_row.setdefault(key, row)
            if first != row:
                errors.append(RowProblem(unique_field, f"repeats row {first}"))
        self._outcomes.append(RowOutcome(row, key, REJECTED if errors else status, errors))
        return not errors

    def repeats(self, key: str) -> bool:
        """Whether an earlier row (added with `unique_field`) had this key."""
        return key in self._first_row

    @property
    def outcomes(self) -> list[RowOutcome]:
        return sorted(self._outcomes, key=lambda o: o.row)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.status == REJECTED]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def settle(self, mode: str, detail: str, *, keyed: bool = False) -> Batch:
        """In all_or_nothing mode, a rejected row refuses the batch: a 422 naming each problem
        with its row (and, `keyed`, the row's key before the reason); else the batch stands."""
        rejected = self.rejected
        if rejected and mode == ALL_OR_NOTHING:
            raise Unprocessable(
                detail,
                errors=[
                    FieldError(
                        field=p.field,
                        message=f"{o.key}: {p.message}" if keyed else p.message,
                        row=o.row,
                    )
                    for o in rejected
                    for p in o.problems
                ],
            )
        return self


async def apply_each(
    session: AsyncSession,
    rows: Sequence[Row],
    apply: Callable[[Row], Awaitable[bool]],
    *,
    key: Callable[[Row], str],
    field_name: str,
    refused: tuple[type[Exception], ...] = (),
    order: Callable[[Row], Any] | None = None,
) -> Batch:
    """Apply each row in its own savepoint, in `order` when given (else as sent). `apply`
    answers whether the row changed anything, or raises RowRefused (or one of `refused`):
    the row's changes are undone and it is rejected on `field_name` with the reason."""
    batch = Batch()
    numbered = list(enumerate(rows, 1))
    if order is not None:
        numbered.sort(key=lambda pair: order(pair[1]))
    for row, item in numbered:
        try:
            async with session.begin_nested():
                changed = await apply(item)
        except (RowRefused, *refused) as exc:
            batch.add(key(item), REJECTED, [(field_name, str(exc))], row=row)
            continue
        batch.add(key(item), APPLIED if changed else UNCHANGED, row=row)
    return batch

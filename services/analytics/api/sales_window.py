"""The question every sales view answers about money: whose clients (a sales manager sees
the ones assigned to them), in which currency, over which period (up to three years)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.api.deps import SettingsDep
from services.analytics.settings import Settings
from services.analytics.store import sales as store
from services.analytics.usecases.sales import Window
from shared.auth import Principal, PrincipalDep
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import BusinessDate, CurrencyCode
from shared.problems import FieldError, Unprocessable

Currency = Annotated[CurrencyCode, Query(description="The money figures' currency")]
From = Annotated[
    BusinessDate | None, Query(alias="from", description="First day (default: 90 days ago)")
]
To = Annotated[
    BusinessDate | None, Query(alias="to", description="Last day, included (default: today)")
]


def scope_of(principal: Principal, currency: str | None = None) -> store.Scope:
    """A sales manager (who is not also a head) sees the clients assigned to them."""
    return store.Scope(principal, currency)


def period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    end = end or utcnow().date()
    start = start or end - timedelta(days=89)
    if start > end or (end - start).days > 3 * 366:
        raise Unprocessable(
            "Choose a period of up to three years, `from` before `to`.",
            errors=[FieldError(field="to", message="must be on or after from, within 3 years")],
        )
    first = datetime.combine(start, time(), UTC)
    return first, datetime.combine(end + timedelta(days=1), time(), UTC)


async def money_window(
    principal: PrincipalDep, currency: Currency, start: From = None, end: To = None
) -> Window:
    since, until = period(start, end)
    return Window(scope_of(principal, currency), since, until)


MoneyWindow = Annotated[Window, Depends(money_window)]


@dataclass(frozen=True)
class Asked:
    """A money view's question with what answering it takes: the request's session and the
    service's settings."""

    session: AsyncSession
    settings: Settings
    window: Window


async def money_question(session: SessionDep, settings: SettingsDep, w: MoneyWindow) -> Asked:
    return Asked(session, settings, w)


MoneyQuestion = Annotated[Asked, Depends(money_question)]

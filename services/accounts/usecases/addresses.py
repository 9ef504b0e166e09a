"""A company's addresses: its own people may read them, its admins and the staff who reach it
keep them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store import companies as store
from services.accounts.store.models import Address
from services.accounts.usecases.access import administered_company, visible_company
from shared.auth import Principal
from shared.pagination import PageParams
from shared.problems import NotFound


async def addresses(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, page: PageParams
) -> tuple[list[Address], str | None]:
    await visible_company(session, principal, company_id)
    return await store.addresses(session, company_id, page)


async def add_address(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, values: dict[str, Any]
) -> Address:
    await administered_company(session, principal, company_id)
    address = Address(company_id=company_id, **values)
    session.add(address)
    await session.flush()
    return address


async def remove_address(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, address_id: uuid.UUID
) -> None:
    await administered_company(session, principal, company_id)
    address = await store.address(session, company_id, address_id)
    if address is None:
        raise NotFound("No such address.")
    await session.delete(address)
    await session.flush()

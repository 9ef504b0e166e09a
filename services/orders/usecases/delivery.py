"""Delivery costs: what a shipment to an address costs and how long it travels (ERP's
tariffs, `domain/delivery.py`); the tariffs as loaded."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.domain.delivery import DeliveryQuote, Destination, quote
from services.orders.store import delivery as store
from services.orders.store.delivery import DeliveryTariff
from shared.pagination import PageParams, paginate


async def delivery_quote(
    session: AsyncSession,
    destination: Destination,
    weight_kg: Decimal,
    volume_m3: Decimal,
    currency: str,
) -> DeliveryQuote:
    tariffs = await store.tariffs_of(session, destination.country)
    return quote(tariffs, destination, weight_kg, volume_m3, currency)


async def tariffs(
    session: AsyncSession, page: PageParams
) -> tuple[list[DeliveryTariff], str | None]:
    keys = [getattr(DeliveryTariff, k) for k in store.TARIFF_KEY]
    return await paginate(session, select(DeliveryTariff), keys, page)

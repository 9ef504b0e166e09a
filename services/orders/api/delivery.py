"""Delivery: what a shipment costs to an address (a buyer before ordering, a manager on the
phone), and the tariffs ERP loaded (`POST /feeds/delivery-tariffs`)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.orders.api.feeds import MAX_BAND
from services.orders.domain.delivery import Destination
from services.orders.usecases import delivery as usecase
from services.orders.usecases.access import SHOPPERS
from shared.auth import allow
from shared.db import SessionDep
from shared.fields import CurrencyCode, code, decimal
from shared.pagination import Page, PageDep

router = APIRouter(tags=["delivery"])
pages = APIRouter(tags=["delivery"])
Load = decimal(places=3, ge=0, le=MAX_BAND)


class DeliveryQuestion(BaseModel):
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    postal_code: code(20) | None = None
    region: code(100) | None = None
    weight_kg: Load = Field(description="Of the whole shipment")
    volume_m3: Load = Field(Decimal(0), description="Of the whole shipment")
    currency: CurrencyCode


class Band(BaseModel):
    max_weight_kg: Decimal
    max_volume_m3: Decimal


class DeliveryQuoteRead(BaseModel):
    zone: str
    price_minor: int = Field(description="Per shipment, minor units")
    currency: str
    transit_days: int
    band: Band


class TariffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    zone: str
    country: str
    postal_prefix: str = Field(description='"" when the tariff is not narrowed by one')
    region: str = Field(description='"" when the tariff is not narrowed by one')
    max_weight_kg: Decimal
    max_volume_m3: Decimal
    price_minor: int
    currency: str
    transit_days: int


@router.post(
    "/delivery/quote",
    summary="What a shipment of this weight and volume costs to an address, and its transit days",
    responses={422: {"description": "No tariff reaches the address, or none carries the load"}},
)
async def quote_delivery(
    body: DeliveryQuestion, session: SessionDep, principal: allow(*SHOPPERS)
) -> DeliveryQuoteRead:
    destination = Destination(body.country.upper(), body.postal_code, body.region)
    found = await usecase.delivery_quote(
        session, destination, body.weight_kg, body.volume_m3, body.currency
    )
    tariff = found.tariff
    return DeliveryQuoteRead(
        zone=tariff.zone,
        price_minor=tariff.price_minor,
        currency=tariff.currency,
        transit_days=tariff.transit_days,
        band=Band(max_weight_kg=tariff.max_weight_kg, max_volume_m3=tariff.max_volume_m3),
    )


@pages.get("/delivery/tariffs", summary="The delivery tariffs ERP loaded, by destination and band")
async def list_tariffs(
    session: SessionDep, principal: allow(*SHOPPERS), page: PageDep
) -> Page[TariffRead]:
    return Page.of(await usecase.tariffs(session, page), TariffRead.model_validate)

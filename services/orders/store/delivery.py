"""Delivery tariffs from ERP: the table, the feed's set-based apply, and the reading of the
tariffs of one country (a country holds tens to hundreds of rows; the domain picks one)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Numeric, SmallInteger, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.orders.domain.delivery import Tariff
from services.orders.store.models import Base
from shared.feeds.models import FeedJob, FeedScope

TARIFF_FIELDS = [f.name for f in fields(Tariff)]
# A destination and band: one row of the feed, one price
TARIFF_KEY = ("country", "postal_prefix", "region", "currency", "max_weight_kg", "max_volume_m3")


class DeliveryTariff(Base):
    __tablename__ = "delivery_tariffs"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    postal_prefix: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" for none
    region: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" for none
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    max_weight_kg: Mapped[Decimal] = mapped_column(Numeric(12, 3), primary_key=True)
    max_volume_m3: Mapped[Decimal] = mapped_column(Numeric(12, 3), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    transit_days: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("max_weight_kg > 0 AND max_volume_m3 > 0", name="band_not_empty"),
        CheckConstraint("transit_days BETWEEN 0 AND 365", name="transit_days_bounded"),
    )


async def tariffs_of(session: AsyncSession, country: str) -> list[Tariff]:
    rows = await session.scalars(
        select(DeliveryTariff).where(DeliveryTariff.country == country.upper())
    )
    return [Tariff(**{name: getattr(r, name) for name in TARIFF_FIELDS}) for r in rows]


async def apply_tariffs(session: AsyncSession, staging: str, job: FeedJob) -> dict[str, Any]:
    """Upsert the tariffs by destination and band; a `full` feed also drops those it leaves
    out. The feed's columns already hold prefixes and regions as the domain compares them."""
    keyed = f"""
        SELECT s.country, coalesce(s.postal_prefix, '') AS postal_prefix,
               coalesce(s.region, '') AS region, s.currency, s.max_weight_kg, s.max_volume_m3,
               s.zone, s.price_minor, s.transit_days
        FROM {staging} s
    """
    upserted = await session.execute(
        text(
            f"""
            INSERT INTO delivery_tariffs AS t ({", ".join(TARIFF_KEY)}, zone, price_minor,
                                               transit_days)
            SELECT {", ".join(TARIFF_KEY)}, zone, price_minor, transit_days FROM ({keyed}) k
            ON CONFLICT ({", ".join(TARIFF_KEY)}) DO UPDATE
            SET zone = excluded.zone, price_minor = excluded.price_minor,
                transit_days = excluded.transit_days
            WHERE (t.zone, t.price_minor, t.transit_days)
                  IS DISTINCT FROM (excluded.zone, excluded.price_minor, excluded.transit_days)
            """
        )
    )
    dropped = 0
    if job.scope == FeedScope.FULL:
        result = await session.execute(
            text(
                f"""
                DELETE FROM delivery_tariffs t
                WHERE ({", ".join("t." + k for k in TARIFF_KEY)}) NOT IN
                      (SELECT {", ".join(TARIFF_KEY)} FROM ({keyed}) k)
                """
            )
        )
        dropped = result.rowcount  # type: ignore[attr-defined]
    return {"upserted": upserted.rowcount, "dropped": dropped}  # type: ignore[attr-defined]

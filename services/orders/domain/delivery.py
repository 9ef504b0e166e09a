"""Delivery tariffs: what a shipment of some weight and volume costs to an address, and how
many days it travels. ERP owns the tariffs (the `delivery-tariffs` feed); pure rules here.

A tariff row covers a destination (a country, narrowed by a postal code prefix or a region)
and a band (a shipment up to `max_weight_kg` and `max_volume_m3`). The most specific
destination wins: the longest postal prefix the address starts with, else its region, else
the country as a whole. Within it, the smallest band that carries the shipment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.problems import FieldError, Unprocessable


@dataclass(frozen=True)
class Tariff:
    zone: str
    country: str
    postal_prefix: str  # "" for none
    region: str  # "" for none
    max_weight_kg: Decimal
    max_volume_m3: Decimal
    price_minor: int
    currency: str
    transit_days: int


@dataclass(frozen=True)
class Destination:
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class DeliveryQuote:
    tariff: Tariff

    @property
    def price_minor(self) -> int:
        return self.tariff.price_minor

    @property
    def transit_days(self) -> int:
        return self.tariff.transit_days


def postal_key(postal_code: str | None) -> str:
    """A postal code as tariffs compare it: no spaces or dashes, upper case."""
    return "".join(ch for ch in (postal_code or "") if ch.isalnum()).upper()


def region_key(region: str | None) -> str:
    return " ".join((region or "").split()).upper()


def _specificity(tariff: Tariff, destination: Destination) -> int | None:
    """How closely a tariff's destination fits the address; None: not at all."""
    if tariff.country != destination.country.upper():
        return None
    if tariff.postal_prefix:
        fits = postal_key(destination.postal_code).startswith(tariff.postal_prefix)
        return 1000 + len(tariff.postal_prefix) if fits else None
    if tariff.region:
        return 100 if region_key(destination.region) == tariff.region else None
    return 0


def quote(
    tariffs: list[Tariff],
    destination: Destination,
    weight_kg: Decimal,
    volume_m3: Decimal,
    currency: str,
) -> DeliveryQuote:
    """The tariff of one shipment; a problem naming what is missing when there is none."""
    fitting = [
        (fit, t)
        for t in tariffs
        if t.currency == currency and (fit := _specificity(t, destination)) is not None
    ]
    if not fitting:
        raise Unprocessable(
            f"No delivery tariff in {currency} reaches this address: ask for pickup, or for the "
            "tariffs to be loaded.",
            errors=[
                FieldError(
                    field="postal_code" if destination.postal_code else "country",
                    message=f"no tariff for {destination.country} {destination.postal_code or ''}"
                    f"{' ' + destination.region if destination.region else ''}".strip(),
                )
            ],
        )
    best = max(fit for fit, _ in fitting)
    zone = [t for fit, t in fitting if fit == best]
    carrying = [t for t in zone if weight_kg <= t.max_weight_kg and volume_m3 <= t.max_volume_m3]
    if not carrying:
        heaviest = max(zone, key=lambda t: (t.max_weight_kg, t.max_volume_m3))
        raise Unprocessable(
            "No delivery tariff of this address's zone carries a shipment this large: split "
            "it, or ask for pickup.",
            errors=[
                FieldError(
                    field="weight_kg" if weight_kg > heaviest.max_weight_kg else "volume_m3",
                    message=f"zone {heaviest.zone} carries up to {heaviest.max_weight_kg} kg "
                    f"and {heaviest.max_volume_m3} m3",
                )
            ],
        )
    return DeliveryQuote(
        min(carrying, key=lambda t: (t.max_weight_kg, t.max_volume_m3, t.price_minor))
    )

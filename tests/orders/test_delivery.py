"""Delivery tariffs from ERP, and what a shipment costs to an address."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import polars as pl
import pytest

from services.orders.api.feeds import SPECS
from services.orders.domain.delivery import Destination, Tariff, quote
from shared.auth import Role
from shared.problems import Unprocessable
from shared.testing.fixtures import as_role, client
from tests.orders.world import ERP, post_feed

HEADER = "zone,country,postal_prefix,region,max_weight_kg,max_volume_m3,price_minor,currency,transit_days\n"
TARIFFS = HEADER + (
    "DE-ALL,DE,,,100,1,5000,EUR,4\n"
    "DE-ALL,DE,,,1000,10,15000,EUR,5\n"
    "BERLIN,de,10,,100,1,2500,EUR,1\n"
    "BAVARIA,DE,,Bayern,100,1,4000,EUR,2\n"
)


async def load(shop, body: str = TARIFFS, expect: str = "succeeded", **params) -> dict:
    return await post_feed(shop.orders, SPECS, "delivery-tariffs", body, expect=expect, **params)


async def ask(shop, **question):
    async with shop.as_buyer() as http:
        return await http.post("/delivery/quote", json={"currency": "EUR", **question})


@pytest.mark.parametrize(
    ("where", "weight", "zone", "price", "days"),
    [
        ({"postal_code": "101 15"}, "50", "BERLIN", 2500, 1),  # the longest prefix
        ({"postal_code": "80331", "region": " bayern "}, "50", "BAVARIA", 4000, 2),  # region
        ({"postal_code": "50667"}, "50", "DE-ALL", 5000, 4),  # the country as a whole
        ({"postal_code": "50667"}, "500", "DE-ALL", 15000, 5),  # the band that carries it
    ],
)
async def test_the_most_specific_destination_and_smallest_band_price_a_shipment(
    shop, where, weight, zone, price, days
):
    await load(shop)
    answer = await ask(shop, country="de", weight_kg=weight, volume_m3="0.5", **where)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["zone"], found["price_minor"], found["transit_days"]) == (zone, price, days)
    assert found["currency"] == "EUR"


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({"country": "FR", "postal_code": "75001", "weight_kg": "5"}, "postal_code"),
        ({"country": "FR", "weight_kg": "5"}, "country"),
        ({"country": "DE", "postal_code": "10115", "weight_kg": "500"}, "weight_kg"),
        ({"country": "DE", "weight_kg": "50", "volume_m3": "20"}, "volume_m3"),
        ({"country": "DE", "weight_kg": "50", "currency": "USD"}, "country"),
    ],
)
async def test_an_address_or_load_without_a_tariff_is_a_clear_problem_not_a_zero_price(
    shop, question, field
):
    await load(shop)
    answer = await ask(shop, **question)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_a_resent_feed_changes_nothing_and_a_full_one_drops_what_it_leaves_out(shop):
    assert (await load(shop))["result"]["upserted"] == 4
    assert (await load(shop))["result"] == {"upserted": 0, "dropped": 0}
    full = HEADER + "DE-ALL,DE,,,100,1,5500,EUR,4\n"
    assert (await load(shop, full, scope="full"))["result"] == {"upserted": 1, "dropped": 3}
    async with shop.as_buyer() as http:
        page = (await http.get("/v2/delivery/tariffs", params={"limit": 10})).json()
        whole = (await http.get("/delivery/tariffs")).json()
    assert [(t["zone"], t["price_minor"]) for t in page["items"]] == [("DE-ALL", 5500)]
    assert whole == page["items"]


async def test_bad_tariff_rows_are_named_and_nothing_is_applied(shop):
    body = HEADER + (
        "DE-ALL,DE,,,100,1,5000,EUR,4\n"
        "X,DE,10,Berlin,100,1,5000,EUR,4\n"  # row 2: a prefix and a region
        "X,DEU,,,0,1,-5,EUR,400\n"  # row 3: country, weight, price, days
        "X,DE,1 0,,100,1,5000,EURO,4\n"  # row 4: prefix, currency
    )
    job = await load(shop, body, expect="rejected")
    async with client(shop.orders, ERP) as http:
        report = pl.read_csv(io.BytesIO((await http.get(job["rejections_url"])).content))
    async with shop.as_buyer() as http:
        listed = (await http.get("/delivery/tariffs")).json()
    assert report.select("row", "field").rows() == [
        (2, "region"),
        (3, "country"),
        (3, "max_weight_kg"),
        (3, "price_minor"),
        (3, "transit_days"),
        (4, "currency"),
        (4, "postal_prefix"),
    ]
    assert listed == []


async def test_only_erp_loads_tariffs_and_only_people_quote(shop):
    async with client(shop.orders, {**shop.buyer, "Content-Type": "text/csv"}) as http:
        assert (await http.post("/feeds/delivery-tariffs", content=TARIFFS)).status_code == 403
    partner = as_role(Role.PARTNER, kind="api_key", subject="marketplace", partner_code="shop")
    async with client(shop.orders, partner) as http:
        refused = await http.post(
            "/delivery/quote", json={"country": "DE", "weight_kg": "1", "currency": "EUR"}
        )
    assert refused.status_code == 403
    other_company = as_role(Role.BUYER, company_id=uuid.uuid4())
    await load(shop)
    async with client(shop.orders, other_company) as http:
        asked = await http.post(
            "/delivery/quote", json={"country": "DE", "weight_kg": "1", "currency": "EUR"}
        )
    assert asked.status_code == 200  # tariffs are the seller's public terms, not a client's data


def test_a_zone_s_own_bands_bound_it_rather_than_the_country_s_larger_ones():
    def tariff(prefix: str, kg: str, price: int) -> Tariff:
        return Tariff("Z" + prefix, "DE", prefix, "", Decimal(kg), Decimal(10), price, "EUR", 2)

    tariffs = [tariff("", "1000", 9000), tariff("1", "100", 3000), tariff("10", "100", 2000)]
    berlin = Destination("DE", "10-115")
    assert quote(tariffs, berlin, Decimal(100), Decimal(1), "EUR").price_minor == 2000
    with pytest.raises(Unprocessable) as refused:
        quote(tariffs, berlin, Decimal("100.001"), Decimal(1), "EUR")
    assert refused.value.errors[0].field == "weight_kg"

"""Per-client partner feeds: a marketplace pulls each registered client's own prices."""

from __future__ import annotations

import uuid

import polars as pl

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.pricing.world import add_list, feed, seed_client, seed_skus

HEADER = "list,client,sku,min_qty,price_minor,currency,valid_from,valid_to,action\n"
OZON = as_role(Role.PARTNER, kind="api_key", subject="ozon-key", partner_code="ozon")
WB = as_role(Role.PARTNER, kind="api_key", subject="wb-key", partner_code="wb")


async def test_a_partner_pulls_each_registered_clients_own_prices_with_an_etag(start_app):
    app = await start_app("pricing")
    await seed_skus(app, [("S1", None, None), ("S2", None, None)])
    await add_list(app, "BASE", base=True)
    acme = await seed_client(app, external_id="ACME", partners=["ozon"])
    beta = await seed_client(app, external_id="BETA", partners=["wb"])
    prices = HEADER + "BASE,,S1,1,1000,EUR,,,\nBASE,,S2,1,500,EUR,,,\n,ACME,S1,1,900,EUR,,,\n"
    assert (await feed(app, prices))["state"] == "succeeded"

    async with client(app, OZON) as http:
        listed = (await http.get("/feeds/partners/ozon/clients")).json()
        assert [c["company_id"] for c in listed["clients"]] == [str(acme)]
        url = listed["clients"][0]["prices_url"]
        first = await http.get(url)
        assert first.status_code == 200, first.text
        table = pl.read_csv(first.content).sort("sku")
        assert table.select("sku", "unit_price_minor").rows() == [("S1", 900), ("S2", 500)]
        etag = first.headers["ETag"]
        unchanged = await http.get(url, headers={"If-None-Match": etag})
        assert (unchanged.status_code, unchanged.content) == (304, b"")
        # Another partner's client, or another partner's feed: not found.
        assert (await http.get(f"/feeds/partners/ozon/clients/{beta}/prices")).status_code == 404
        assert (await http.get("/feeds/partners/wb/clients")).status_code == 404
    async with client(app, as_role(Role.BUYER, company_id=acme)) as http:
        assert (await http.get(url)).status_code == 403

    assert (await feed(app, HEADER + ",ACME,S1,1,880,EUR,,,\n"))["state"] == "succeeded"
    async with client(app, OZON) as http:
        changed = await http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "S1,880," in changed.text
    async with client(app, WB) as http:
        assert (
            await http.get(f"/feeds/partners/wb/clients/{uuid.uuid4()}/prices")
        ).status_code == 404

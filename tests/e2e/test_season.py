"""A season of a small distributor through the gateway only (demo/season.py, as `make demo`
plays it), every service in process with its relay and consumers on the real broker, email to
a real SMTP server and webhooks to a real HTTP receiver. Each step checks the business
outcome: prices, stock, orders, refusals, deliveries, segments and messages."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime

import orjson
import pytest

from demo.season import (
    ALFA_QUICK_ORDER,
    CLIENTS,
    DELTA_LINES,
    EPS_LINES,
    ZETA_LINES,
    Season,
    eventually,
)
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import Settings
from shared.testing.fixtures import RoutingTransport, client, running
from tests.notifications.world import Receiver, SmtpServer

ACCEPT_LINK = re.compile(r"/invitations/([A-Za-z0-9_-]{20,100})")


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def stock(season: Season, sku: str, expected: tuple[str, str]) -> bool:
    """(reserved, available) of the SKU reaches `expected`: releases follow events."""

    async def level() -> bool:
        answer = await season.http.get(
            f"/api/v1/catalog/products/{sku}/stock", headers=season.buyers["C-ALFA"]
        )
        first = answer.json()[0]
        return (first["reserved"], first["available"]) == expected

    return await eventually(level, within=20)


async def test_a_season_of_a_small_distributor(start_app, notification_rules, smtp):
    receiver = Receiver()
    await receiver.start()
    accounts = await start_app("accounts", run_workers=True, from_now=True)
    catalog = await start_app("catalog", run_workers=True, from_now=True)
    pricing = await start_app("pricing", run_workers=True, from_now=True)
    core = {"accounts": accounts, "catalog": catalog, "pricing": pricing}
    orders = await start_app("orders", run_workers=True, from_now=True, upstreams=core)
    analytics = await start_app(
        "analytics", run_workers=True, from_now=True, upstreams={**core, "orders": orders}
    )
    notifications = await start_app(
        "notifications",
        run_workers=True,
        from_now=True,
        smtp_port=smtp.port,
        delivery_poll_seconds=0.2,
        throttle_per_recipient=1000,
        webhook_allow_private_urls=True,  # the partner's receiver listens on 127.0.0.1
    )
    apps = {**core, "orders": orders, "analytics": analytics, "notifications": notifications}
    gateway = create_gateway(
        Settings(environment="test", log_json=False, **{f"{n}_url": f"http://{n}" for n in apps}),
        transport=RoutingTransport(apps),
    )
    try:
        async with running(gateway), client(gateway) as http:
            http.timeout = 60

            async def emailed_token(invitation: dict) -> str:
                """The token of the accept link notifications mailed (a test run is no
                development: the answer holds none)."""

                async def link():
                    for message in smtp.mailbox.to(invitation["email"]):
                        found = ACCEPT_LINK.search(message.get_content())
                        if found:
                            return found.group(1)
                    return None

                return await eventually(link)

            season = Season(http, emailed_token=emailed_token)
            await season.sign_in()

            # ERP loads the world: every client, the catalog with costs, stock, prices.
            await season.load_master_data()
            alfa, beta = season.companies["C-ALFA"], season.companies["C-BETA"]
            # A partner system listens to Alfa's orders through a signed webhook.
            subscribed = await http.post(
                "/api/v1/notifications/webhooks",
                headers=season.admin,
                json={
                    "url": receiver.url,
                    "company_id": alfa,
                    "event_types": ["order.placed.v1", "order.delivered.v1"],
                },
            )
            assert subscribed.status_code == 201, subscribed.text
            alfa_hook = subscribed.json()["secret"]
            resolved = await http.post(
                "/api/v1/pricing/prices/resolve",
                headers=season.admin,
                json={"client_id": alfa, "currency": "EUR", "lines": [{"sku": "CE-11"}]},
            )
            beta_price = await http.post(
                "/api/v1/pricing/prices/resolve",
                headers=season.admin,
                json={"client_id": beta, "currency": "EUR", "lines": [{"sku": "CE-11"}]},
            )
            assert resolved.json()["lines"][0]["unit_price_minor"] == 790  # Alfa's contract
            assert beta_price.json()["lines"][0]["unit_price_minor"] == 890  # the base list

            # Five months of orders taken by phone: 5 + 5 + 3 + 2 + 3.
            assert await season.load_history() == 18
            assert await season.load_history() == 0  # ERP retries: nothing twice
            await season.load_receivables()
            await season.invite_buyers()
            assert set(season.buyers) == {c.external_id for c in CLIENTS} - {"C-GAMMA"}

            # Alfa's buyer orders from a CSV at its contract prices; an unknown SKU is reported.
            cart, quick = await season.quick_order("C-ALFA", ALFA_QUICK_ORDER)
            assert quick["added"] == 4
            assert [p["sku"] for p in quick["problems"]] == ["XX-404"]
            priced = await season.cart("C-ALFA", cart["id"])
            assert {x["sku"]: x["unit_price_minor"] for x in priced["lines"]} == {
                "CE-11": 790,
                "KN-GKB": 450,
                "KN-CD": 310,
                "KN-SC": 950,
            }
            order = await season.place("C-ALFA", cart["id"])
            assert order["total_minor"] == 120 * 790 + 400 * 450 + 250 * 310 + 12 * 950
            again = await season.checkout("C-ALFA", cart["id"])  # a retried request
            assert again.json()["id"] == order["id"]
            assert await stock(season, "CE-11", ("120.000", "780.000"))

            # Beta repeats last month's phone order in two clicks.
            cart, repeat = await season.reorder_last("C-BETA")
            assert repeat["added"] == 3 and repeat["problems"] == []
            order = await season.place("C-BETA", cart["id"])
            assert order["total_minor"] == 20 * 4200 + 15 * 2700 + 5 * 2100

            # Epsilon's overdue debt stops its order, with the reason; nothing is reserved.
            refused = await season.checkout("C-EPS", (await season.fill("C-EPS", EPS_LINES))["id"])
            assert refused.status_code in (402, 409, 422), refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert "overdue" in refused.text.lower()
            assert await stock(season, "RW-LB", ("0.000", "600.000"))

            # Delta orders, then cancels: its stock comes back.
            await season.place("C-DELTA", (await season.fill("C-DELTA", DELTA_LINES))["id"])
            assert await stock(season, "CE-11", ("135.000", "765.000"))
            cancelled = await season.cancel("C-DELTA", "ordered twice by mistake")
            assert cancelled["status"] == "cancelled"
            assert await stock(season, "CE-11", ("120.000", "780.000"))

            # Zeta, new this month, places its first order.
            zeta = await season.place("C-ZETA", (await season.fill("C-ZETA", ZETA_LINES))["id"])
            assert zeta["total_minor"] == 30 * 4200 + 40 * 2350 + 4 * 950

            # ERP delivers: Alfa and Zeta on time, Beta three days late.
            assert await season.fulfil("C-ALFA", promised_in_days=3, delivered_in_days=2) == 3
            assert await season.fulfil("C-BETA", promised_in_days=1, delivered_in_days=4) == 3
            assert await season.fulfil("C-ZETA", promised_in_days=5, delivered_in_days=5) == 3
            late = (
                await http.get(
                    f"/api/v1/orders/orders/{season.orders['C-BETA']['id']}",
                    headers=season.buyers["C-BETA"],
                )
            ).json()
            assert late["status"] == "delivered"
            delivered_on = datetime.fromisoformat(late["delivered_at"]).date()
            assert delivered_on > date.fromisoformat(late["promised_to"])
            assert await stock(season, "CE-11", ("0.000", "780.000"))  # shipped, gone

            # Buyers rate their deliveries.
            assert (await season.rate("C-ALFA", 9, 5, "On time"))["nps"] == 9
            assert (await season.rate("C-BETA", 4, 2, "Late"))["csat"] == 2

            # Analytics segments the base from what happened.
            async def everyone_counted():
                rows = await season.segments()
                return rows if len(rows) == len(CLIENTS) else None

            segments = await eventually(everyone_counted)
            assert segments["C-ALFA"]["abc_revenue"] == "A"
            assert segments["C-ALFA"]["regularity"] == "regular"
            assert segments["C-BETA"]["regularity"] == "regular"
            assert segments["C-GAMMA"]["churn_raised"] is True  # quiet for three months
            assert segments["C-ALFA"]["churn_raised"] is False
            assert segments["C-ZETA"]["regularity"] == "one_off"

            async def beta_profile():
                profile = await http.get(
                    f"/api/v1/analytics/clients/{beta}/profile", headers=season.admin
                )
                body = profile.json()
                return body if body["metrics"].get("nps_average") is not None else None

            profile = await eventually(beta_profile)
            assert profile["metrics"]["otif_rate"] == 0.0  # its one promised delivery was late
            late_delivery = profile["metrics"]["satisfaction"][0]
            assert (late_delivery["nps"], late_delivery["csat"]) == (-100.0, 0.0)

            # The buyers were told by email; Alfa's partner system got signed webhooks.
            async def confirmations():
                mails = smtp.mailbox.to("buyer@c-alfa.example")
                return (
                    mails
                    if any(season.orders["C-ALFA"]["number"] in m["Subject"] for m in mails)
                    else None
                )

            assert await eventually(confirmations)
            assert not any(
                season.orders["C-ALFA"]["number"] in m["Subject"]
                for m in smtp.mailbox.to("buyer@c-beta.example")
            )

            async def hooks():
                types = {orjson.loads(c.body)["type"] for c in receiver.calls}
                return types if "com.b2b.order.delivered.v1" in types else None

            assert await eventually(hooks) == {
                "com.b2b.order.placed.v1",
                "com.b2b.order.delivered.v1",
            }
            for call in receiver.calls:
                event = orjson.loads(call.body)
                assert event["data"]["company_id"] == alfa  # never another company's orders
                mac = hmac.new(
                    alfa_hook.encode(),
                    call.headers["x-b2b-timestamp"].encode() + b"." + call.body,
                    hashlib.sha256,
                ).hexdigest()
                assert call.headers["x-b2b-signature"] == f"v1={mac}"
    finally:
        await receiver.stop()

"""A season of a small building-materials distributor, played through the gateway only.

ERP loads clients, the catalog, stock and prices, and five months of orders taken before the
portal (offline orders); then this month the buyers use the portal: a quick order from a CSV,
a reorder, a credit refusal, a cancellation, a first order; ERP confirms, ships and delivers
(one delivery late); buyers rate their deliveries; analytics segments the base.

`make demo` plays it into a running stack (`python -m demo`); tests/e2e/test_season.py plays
it in process and checks the business outcome after each step. Every call is a plain HTTP call
a portal, an ERP connector or an admin would make.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from shared.clock import today, utcnow

CURRENCY = "EUR"
WAREHOUSE = "MAIN"
PASSWORD = "season-password-1"
MANAGER_EMAIL = "olga.manager@distributor.example"


@dataclass(frozen=True)
class Sku:
    sku: str
    name: str
    brand: str
    category: str
    unit: str
    price_minor: int
    cost_minor: int
    on_hand: int


SKUS = [
    Sku("CE-11", "Ceresit CM 11 tile adhesive 25 kg", "Ceresit", "adhesives", "bag", 890, 610, 900),
    Sku(
        "CE-17",
        "Ceresit CM 17 flexible tile adhesive 25 kg",
        "Ceresit",
        "adhesives",
        "bag",
        1450,
        1020,
        400,
    ),
    Sku(
        "KN-FL",
        "Knauf Flachendicht waterproofing 5 kg",
        "Knauf",
        "adhesives",
        "pail",
        2100,
        1500,
        200,
    ),
    Sku("KN-GKB", "Knauf GKB plasterboard 12.5 mm", "Knauf", "boards", "pcs", 480, 330, 3000),
    Sku(
        "KN-GKBI",
        "Knauf GKBI moisture-resistant plasterboard 12.5 mm",
        "Knauf",
        "boards",
        "pcs",
        620,
        430,
        1500,
    ),
    Sku("KN-AQ", "Knauf Aquapanel cement board 12.5 mm", "Knauf", "boards", "pcs", 2350, 1700, 300),
    Sku("RW-LB", "Rockwool Light Batts 50 mm", "Rockwool", "insulation", "pack", 1890, 1300, 600),
    Sku("RW-FB", "Rockwool Facade Butts 100 mm", "Rockwool", "insulation", "pack", 4200, 3000, 250),
    Sku("IS-KT", "Isover KT40 insulation roll", "Isover", "insulation", "roll", 2700, 1900, 400),
    Sku("KN-CD", "Knauf CD 60 ceiling profile 3 m", "Knauf", "profiles", "pcs", 310, 200, 5000),
    Sku("KN-UD", "Knauf UD 28 edge profile 3 m", "Knauf", "profiles", "pcs", 190, 120, 5000),
    Sku("KN-SC", "Knauf drywall screws TN 25, 1000 pcs", "Knauf", "profiles", "box", 950, 640, 800),
]
PRICE = {s.sku: s.price_minor for s in SKUS}


@dataclass(frozen=True)
class Client:
    external_id: str
    legal_name: str
    industry: str
    credit_limit_minor: int
    # Quantities of its usual offline order, and the months (before this one) it ordered in.
    usual: dict[str, int]
    months: tuple[int, ...]

    @property
    def buyer_email(self) -> str:
        return f"buyer@{self.external_id.lower()}.example"


CLIENTS = [
    # The key account: every month, a large regular order.
    Client(
        "C-ALFA",
        "Alfa Build LLC",
        "general contractor",
        60_000_00,
        {"CE-11": 200, "KN-GKB": 600, "KN-CD": 400, "KN-UD": 200, "KN-SC": 20},
        (5, 4, 3, 2, 1),
    ),
    # Regular, smaller: roofs and facades.
    Client(
        "C-BETA",
        "Beta Roofing",
        "roofing",
        20_000_00,
        {"RW-FB": 20, "IS-KT": 15, "KN-FL": 5},
        (5, 4, 3, 2, 1),
    ),
    # Used to buy every month, then went quiet three months ago.
    Client(
        "C-GAMMA",
        "Gamma Interiors",
        "interior finishing",
        10_000_00,
        {"KN-GKBI": 150, "CE-17": 30, "KN-CD": 120},
        (5, 4, 3),
    ),
    # Now and then, small.
    Client("C-DELTA", "Delta Repairs", "repairs", 5_000_00, {"CE-11": 20, "KN-GKB": 40}, (4, 1)),
    # Buys, but pays late: its overdue debt stops the portal order.
    Client("C-EPS", "Epsilon Trade", "retail", 8_000_00, {"RW-LB": 20, "KN-GKB": 100}, (3, 2, 1)),
    # New this month: its first order is a portal order.
    Client("C-ZETA", "Zeta Facades", "facades", 15_000_00, {}, ()),
]
BY_ID = {c.external_id: c for c in CLIENTS}
# Alfa's contract prices, below the base list.
CONTRACT = {("C-ALFA", "CE-11"): 790, ("C-ALFA", "KN-GKB"): 450}


def unit_price(client: str, sku: str) -> int:
    return CONTRACT.get((client, sku), PRICE[sku])


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class SeasonError(RuntimeError):
    """The stack answered something a real portal or ERP would not accept."""


def _ok(answer: httpx.Response, *expected: int) -> Any:
    if answer.status_code not in (expected or (200, 201)):
        raise SeasonError(
            f"{answer.request.method} {answer.request.url.path}: "
            f"{answer.status_code} {answer.text[:500]}"
        )
    return answer.json() if answer.content else None


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 60.0) -> Any:
    """Events take a moment to reach the other services: poll until `check` answers."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise SeasonError(f"the stack did not settle within {within:.0f}s ({check.__name__})")
        await asyncio.sleep(0.2)


@dataclass
class Season:
    """The season, step by step; each step returns what it made so a caller can check it."""

    http: httpx.AsyncClient  # base URL = the gateway
    admin_email: str = "admin@example.com"
    admin_password: str = "admin"
    today: date = field(default_factory=lambda: today())
    admin: dict[str, str] = field(default_factory=dict)
    erp: dict[str, str] = field(default_factory=dict)
    manager: dict[str, str] = field(default_factory=dict)
    companies: dict[str, str] = field(default_factory=dict)  # ERP id -> company id
    buyers: dict[str, dict[str, str]] = field(default_factory=dict)  # ERP id -> headers
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # ERP id -> this month's order
    # Where an invitation's token comes from: a development stack (`make run`) answers it; any
    # other sends it only by e-mail, and the caller reads it there (the e2e test's SMTP server).
    emailed_token: Callable[[dict[str, Any]], Awaitable[str]] | None = None

    # -- set-up ---------------------------------------------------------------------------------

    async def sign_in(self) -> None:
        login = await self.http.post(
            "/api/v1/accounts/auth/login",
            json={"email": self.admin_email, "password": self.admin_password},
        )
        self.admin = _bearer(_ok(login)["access_token"])
        manager = await self.http.post(
            "/api/v1/accounts/users",
            headers=self.admin,
            json={
                "email": MANAGER_EMAIL,
                "name": "Olga Petrova",
                "password": PASSWORD,
                "staff_role": "sales_manager",
            },
        )
        _ok(manager, 201, 409)  # 409: a second run of the demo finds her
        self.manager = _bearer(
            _ok(
                await self.http.post(
                    "/api/v1/accounts/auth/login",
                    json={"email": MANAGER_EMAIL, "password": PASSWORD},
                )
            )["access_token"]
        )
        key = await self.http.post(
            "/api/v1/accounts/api-keys",
            headers=self.admin,
            json={"name": f"ERP connector {uuid.uuid4().hex[:6]}", "role": "integrator"},
        )
        self.erp = {"X-API-Key": _ok(key, 201)["key"]}

    async def feed(self, path: str, body: str, **params: str) -> dict[str, Any]:
        """Post an ERP feed and wait for its job; a rejected feed stops the season."""
        posted = await self.http.post(
            path, headers={**self.erp, "Content-Type": "text/csv"}, content=body, params=params
        )
        job = _ok(posted, 202)
        job_url = f"{path.rsplit('/feeds/', 1)[0]}/feeds/{job['id']}"

        async def finished() -> dict[str, Any] | None:
            state = _ok(await self.http.get(job_url, headers=self.erp))
            return state if state["state"] in ("succeeded", "rejected", "failed") else None

        done = await eventually(finished)
        if done["state"] != "succeeded":
            raise SeasonError(f"feed {path} {done['state']}: {done}")
        return done

    # -- ERP loads the world --------------------------------------------------------------------

    async def load_master_data(self) -> None:
        await self.feed(
            "/api/v1/accounts/feeds/clients",
            _csv(
                [
                    "external_id",
                    "legal_name",
                    "industry",
                    "currency",
                    "credit_limit_minor",
                    "payment_terms_days",
                    "sales_manager_email",
                ],
                [
                    [
                        c.external_id,
                        c.legal_name,
                        c.industry,
                        CURRENCY,
                        c.credit_limit_minor,
                        30,
                        MANAGER_EMAIL,
                    ]
                    for c in CLIENTS
                ],
            ),
        )
        await self.feed(
            "/api/v1/catalog/feeds/catalog",
            _csv(
                [
                    "sku",
                    "name",
                    "brand",
                    "category",
                    "unit",
                    "min_order_qty",
                    "order_multiple",
                    "cost_minor",
                    "cost_currency",
                ],
                [
                    [s.sku, s.name, s.brand, s.category, s.unit, 1, 1, s.cost_minor, CURRENCY]
                    for s in SKUS
                ],
            ),
        )
        await self.feed(
            "/api/v1/catalog/feeds/stock",
            _csv(["sku", "warehouse", "on_hand"], [[s.sku, WAREHOUSE, s.on_hand] for s in SKUS]),
        )
        base = await self.http.post(
            "/api/v1/pricing/price-lists",
            headers=self.admin,
            json={"code": "BASE", "name": "Base prices", "currency": CURRENCY, "is_base": True},
        )
        _ok(base, 201, 409)

        async def all_companies() -> dict[str, str] | None:
            page = _ok(
                await self.http.get(
                    "/api/v1/accounts/companies", headers=self.admin, params={"limit": 200}
                )
            )
            found = {c["external_id"]: c["id"] for c in page["items"] if c["external_id"] in BY_ID}
            return found if len(found) == len(CLIENTS) else None

        self.companies = await eventually(all_companies)
        await eventually(self._pricing_knows_everyone)
        await eventually(self._orders_knows_everyone)
        await self.feed(
            "/api/v1/pricing/feeds/prices",
            _csv(
                ["list", "client", "sku", "min_qty", "price_minor", "currency"],
                [["BASE", "", s.sku, 1, s.price_minor, CURRENCY] for s in SKUS]
                + [
                    ["", client, sku, 1, price, CURRENCY]
                    for (client, sku), price in CONTRACT.items()
                ],
            ),
        )

    async def _pricing_knows_everyone(self) -> bool:
        for company_id in self.companies.values():
            answer = await self.http.post(
                "/api/v1/pricing/prices/resolve",
                headers=self.admin,
                json={
                    "client_id": company_id,
                    "currency": CURRENCY,
                    "lines": [{"sku": s.sku} for s in SKUS],
                },
            )
            if answer.status_code != 200 or any(
                x["rule"] == "unknown sku" for x in answer.json()["lines"]
            ):
                return False
        return True

    async def _orders_knows_everyone(self) -> bool:
        """A probe cart on behalf of a client takes every SKU once orders has the catalog."""
        cart = await self.http.post(
            "/api/v1/orders/carts",
            headers=self.manager,
            json={"name": f"probe {uuid.uuid4().hex[:6]}", "company_id": self.companies["C-ALFA"]},
        )
        if cart.status_code != 201:
            return False
        cart_url = f"/api/v1/orders/carts/{cart.json()['id']}"
        try:
            probe = await self.http.put(
                f"{cart_url}/lines",
                headers=self.manager,
                json={"lines": [{"sku": s.sku, "quantity": "1"} for s in SKUS]},
            )
            return probe.status_code == 200
        finally:
            await self.http.delete(cart_url, headers=self.manager)

    async def load_history(self) -> int:
        """Five months of orders ERP took by phone, delivered; what analytics learns from."""
        orders = []
        for client in CLIENTS:
            for month in client.months:
                placed = datetime.combine(
                    self.today - timedelta(days=30 * month), datetime.min.time(), UTC
                ) + timedelta(hours=10)
                orders.append(
                    {
                        "external_id": f"ERP-{client.external_id}-{month}",
                        "client": client.external_id,
                        "placed_at": placed.isoformat(),
                        "currency": CURRENCY,
                        "status": "delivered",
                        "lines": [
                            {
                                "sku": sku,
                                "quantity": str(qty),
                                "unit_price_minor": unit_price(client.external_id, sku),
                            }
                            for sku, qty in client.usual.items()
                        ],
                    }
                )
        result = _ok(
            await self.http.post(
                "/api/v1/orders/erp/offline-orders", headers=self.erp, json={"orders": orders}
            )
        )
        return int(result["created"])

    async def load_receivables(self) -> None:
        """Epsilon owes money that fell due three weeks ago."""
        await self.feed(
            "/api/v1/accounts/feeds/receivables",
            _csv(
                [
                    "external_id",
                    "currency",
                    "balance_minor",
                    "overdue_minor",
                    "oldest_overdue_date",
                ],
                [
                    [
                        "C-EPS",
                        CURRENCY,
                        9_500_00,
                        4_200_00,
                        (self.today - timedelta(days=21)).isoformat(),
                    ],
                    ["C-ALFA", CURRENCY, 12_000_00, 0, ""],
                ],
            ),
        )

    # -- this month, in the portal --------------------------------------------------------------

    async def invite_buyers(self) -> None:
        for client in CLIENTS:
            if client.external_id == "C-GAMMA":
                continue  # gone quiet: nobody logs in
            known = await self.http.post(
                "/api/v1/accounts/auth/login",
                json={"email": client.buyer_email, "password": PASSWORD},
            )
            if known.status_code == 200:  # the demo played before on this stack
                self.buyers[client.external_id] = _bearer(known.json()["access_token"])
                continue
            company_id = self.companies[client.external_id]
            invitation = _ok(
                await self.http.post(
                    f"/api/v1/accounts/companies/{company_id}/invitations",
                    headers=self.admin,
                    json={"email": client.buyer_email, "role": "buyer"},
                ),
                201,
            )
            token = invitation["token"]
            if token is None:
                if self.emailed_token is None:
                    raise SeasonError("The stack sends invitations by e-mail only: no token.")
                token = await self.emailed_token(invitation)
            accepted = _ok(
                await self.http.post(
                    f"/api/v1/accounts/invitations/{token}/accept",
                    json={"name": f"Buyer of {client.legal_name}", "password": PASSWORD},
                )
            )
            self.buyers[client.external_id] = _bearer(accepted["access_token"])

    async def new_cart(self, client: str, name: str) -> dict[str, Any]:
        # Cart names are unique per buyer: the time keeps a second play on the same stack apart.
        named = f"{name}, {utcnow():%d.%m %H:%M:%S}"
        cart = await self.http.post(
            "/api/v1/orders/carts", headers=self.buyers[client], json={"name": named}
        )
        return _ok(cart, 201)

    async def cart(self, client: str, cart_id: str) -> dict[str, Any]:
        return _ok(
            await self.http.get(f"/api/v1/orders/carts/{cart_id}", headers=self.buyers[client])
        )

    async def checkout(self, client: str, cart_id: str) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/orders/carts/{cart_id}/checkout",
            headers={**self.buyers[client], "Idempotency-Key": f"checkout-{cart_id}"},
            json={},
        )

    async def quick_order(self, client: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        cart = await self.new_cart(client, "Site 12, floors 3-5")
        result = _ok(
            await self.http.post(
                f"/api/v1/orders/carts/{cart['id']}/quick-order",
                headers=self.buyers[client],
                files={"file": ("order.csv", text.encode(), "text/csv")},
            )
        )
        return cart, result

    async def place(self, client: str, cart_id: str) -> dict[str, Any]:
        order = _ok(await self.checkout(client, cart_id), 201)
        self.orders[client] = order
        return order

    async def reorder_last(self, client: str) -> tuple[dict[str, Any], dict[str, Any]]:
        history = _ok(
            await self.http.get(
                "/api/v1/orders/orders", headers=self.buyers[client], params={"limit": 1}
            )
        )
        cart = await self.new_cart(client, "Same as last month")
        result = _ok(
            await self.http.post(
                f"/api/v1/orders/orders/{history['items'][0]['id']}/reorder",
                headers=self.buyers[client],
                json={"cart_id": cart["id"]},
            )
        )
        return cart, result

    async def fill(self, client: str, lines: dict[str, int]) -> dict[str, Any]:
        cart = await self.new_cart(client, "Portal order")
        _ok(
            await self.http.put(
                f"/api/v1/orders/carts/{cart['id']}/lines",
                headers=self.buyers[client],
                json={"lines": [{"sku": sku, "quantity": str(q)} for sku, q in lines.items()]},
            )
        )
        return cart

    async def cancel(self, client: str, reason: str) -> dict[str, Any]:
        order = self.orders[client]
        return _ok(
            await self.http.post(
                f"/api/v1/orders/orders/{order['id']}/cancel",
                headers=self.buyers[client],
                json={"reason": reason},
            )
        )

    async def fulfil(self, client: str, promised_in_days: int, delivered_in_days: int) -> int:
        """ERP confirms with a promised date, ships now and delivers `delivered_in_days` later."""
        order = self.orders[client]
        now = utcnow()
        updates = [
            {
                "order": order["number"],
                "status": "confirmed",
                "at": now.isoformat(),
                "promised_to": (self.today + timedelta(days=promised_in_days)).isoformat(),
            },
            {"order": order["number"], "status": "shipped", "at": now.isoformat()},
            {
                "order": order["number"],
                "status": "delivered",
                "at": (now + timedelta(days=delivered_in_days)).isoformat(),
            },
        ]
        moved = _ok(
            await self.http.post(
                "/api/v1/orders/erp/order-updates", headers=self.erp, json={"updates": updates}
            )
        )
        return int(moved["applied"])

    async def rate(self, client: str, nps: int, csat: int, comment: str) -> dict[str, Any]:
        """The buyer rates the delivery of its order; analytics takes a rating only of an
        order it has heard of, so a busy stack is given a moment."""

        async def analytics_knows_the_order() -> dict[str, Any] | None:
            rated = await self.http.post(
                "/api/v1/analytics/feedback",
                headers=self.buyers[client],
                json={
                    "touchpoint": "delivery",
                    "order_id": self.orders[client]["id"],
                    "nps": nps,
                    "csat": csat,
                    "comment": comment,
                },
            )
            return None if rated.status_code == 422 else _ok(rated, 201)

        return await eventually(analytics_knows_the_order)

    async def segments(self) -> dict[str, dict[str, Any]]:
        """Analytics' segments of the season's clients, by ERP id, after a full recompute."""
        _ok(await self.http.post("/api/v1/analytics/recompute", headers=self.admin))
        page = _ok(
            await self.http.get(
                "/api/v1/analytics/segments/clients", headers=self.admin, params={"limit": 200}
            )
        )
        by_company = {row["client_id"]: row for row in page["items"]}
        return {
            erp_id: by_company[cid] for erp_id, cid in self.companies.items() if cid in by_company
        }


ALFA_QUICK_ORDER = "sku,quantity\nCE-11,120\nKN-GKB,400\nKN-CD,250\nKN-SC,12\nXX-404,3\n"
DELTA_LINES = {"CE-11": 15, "KN-GKB": 30}
ZETA_LINES = {"RW-FB": 30, "KN-AQ": 40, "KN-SC": 4}
EPS_LINES = {"RW-LB": 20, "KN-GKB": 100}


async def play(season: Season, say: Callable[[str], None] = print) -> None:
    """The whole season, as `make demo` runs it."""
    await season.sign_in()
    await season.load_master_data()
    say(f"ERP loaded {len(CLIENTS)} clients, {len(SKUS)} SKUs, stock and prices")
    say(f"ERP imported {await season.load_history()} past orders")
    await season.load_receivables()
    await season.invite_buyers()
    cart, _ = await season.quick_order("C-ALFA", ALFA_QUICK_ORDER)
    say(f"Alfa ordered {(await season.place('C-ALFA', cart['id']))['number']} from a CSV")
    cart, _ = await season.reorder_last("C-BETA")
    say(f"Beta reordered last month: {(await season.place('C-BETA', cart['id']))['number']}")
    refused = await season.checkout("C-EPS", (await season.fill("C-EPS", EPS_LINES))["id"])
    say(f"Epsilon's checkout was refused: {refused.json().get('detail')}")
    await season.place("C-DELTA", (await season.fill("C-DELTA", DELTA_LINES))["id"])
    await season.cancel("C-DELTA", "ordered twice by mistake")
    say("Delta cancelled its order")
    await season.place("C-ZETA", (await season.fill("C-ZETA", ZETA_LINES))["id"])
    say("Zeta placed its first order")
    await season.fulfil("C-ALFA", promised_in_days=3, delivered_in_days=2)
    await season.fulfil("C-BETA", promised_in_days=1, delivered_in_days=4)
    await season.fulfil("C-ZETA", promised_in_days=5, delivered_in_days=5)
    say("ERP delivered Alfa's and Zeta's orders on time, Beta's three days late")
    await season.rate("C-ALFA", 9, 5, "On time, as always")
    await season.rate("C-BETA", 4, 2, "Three days late, the crew waited")
    for erp_id, row in (await season.segments()).items():
        say(
            f"{BY_ID[erp_id].legal_name}: ABC {row['abc_revenue']}, {row['regularity']}, "
            f"RFM {row['rfm_segment']}, churn risk {'raised' if row['churn_raised'] else 'low'}"
        )

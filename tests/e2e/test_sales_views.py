"""The sales views through the gateway: people log in, a sales manager sees the key accounts
and team results of its own clients, the head of sales everyone's, a buyer none."""

from __future__ import annotations

from services.gateway.app import create_app as create_gateway
from services.gateway.settings import SERVICES, Settings
from shared.testing.fixtures import RoutingTransport, client, running
from tests.accounts.factories import add_user
from tests.analytics.world import company, deliver, placed

CLOSED = "http://127.0.0.1:1"


async def test_a_manager_sees_its_clients_and_the_head_of_sales_all(start_app):
    accounts = await start_app("accounts")
    analytics = await start_app("analytics", recompute_interval_seconds=0)
    apps = {"accounts": accounts, "analytics": analytics}
    urls = {f"{n}_url": (f"http://{n}" if n in apps else CLOSED) for n in SERVICES}
    gateway = create_gateway(
        Settings(environment="test", log_json=False, **urls), transport=RoutingTransport(apps)
    )
    olga = await add_user(accounts, "olga@example.com", staff_role="sales_manager")
    ivan = await add_user(accounts, "ivan@example.com", staff_role="sales_manager")
    await add_user(accounts, "head@example.com", staff_role="head_of_sales")
    a, b = company(manager=olga), company(manager=ivan)
    await deliver(analytics, a, b)
    await deliver(analytics, placed(a.company_id, 3), placed(b.company_id, 4))
    async with running(gateway), client(gateway) as http:

        async def token(email: str) -> dict[str, str]:
            login = await http.post(
                "/api/accounts/auth/login", json={"email": email, "password": "secret-password"}
            )
            assert login.status_code == 200, login.text
            return {"Authorization": f"Bearer {login.json()['access_token']}"}

        olga_sees = (
            await http.get(
                "/api/analytics/sales/key-accounts", headers=await token("olga@example.com")
            )
        ).json()
        head = await token("head@example.com")
        head_sees = (await http.get("/api/analytics/sales/key-accounts", headers=head)).json()
        team = await http.get("/api/analytics/sales/team?currency=EUR", headers=head)
        nobody = await http.get("/api/analytics/sales/key-accounts")
    assert [c["client_id"] for c in olga_sees["clients"]] == [str(a.company_id)]
    assert {c["client_id"] for c in head_sees["clients"]} == {str(a.company_id), str(b.company_id)}
    assert {t["manager_id"] for t in team.json()} == {str(olga), str(ivan)}
    assert nobody.status_code == 401

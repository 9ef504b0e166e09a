"""The sales pipeline: configurable stages, a lead with its source, moves by hand and by the
quotes and orders that reach a stage by themselves, each move an event with its time."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from services.accounts.events import CONSUMERS
from shared.auth import Role
from shared.contracts.orders import OrderPlacedV1, QuoteRequestedV1
from shared.events.consumer import Outcome
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import ADMIN, add_company, add_manager, add_staff
from tests.events import consumer_of, envelope, order_placed

MANAGER = as_role(Role.SALES_MANAGER)


async def apply(app, *events) -> list[Outcome]:
    consumer = consumer_of(app, "accounts.accounts", CONSUMERS["accounts"])
    return [await consumer.apply(e) for e in events]


def placed(company_id, adds_to=None) -> OrderPlacedV1:
    return order_placed(company_id, 100, adds_to_order_id=adds_to)


async def stage_events(app) -> list[tuple[str | None, str, int, str]]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT payload FROM outbox WHERE type LIKE '%stage_changed%' ORDER BY seq")
        )
        return [
            (d["from_stage"], d["to_stage"], d["position"], d["source"])
            for d in (r[0]["data"] for r in rows)
        ]


async def test_a_lead_moves_by_hand_then_by_its_quote_first_order_and_a_repeat(start_app):
    app = await start_app("accounts")
    manager, mine = await add_manager(app)
    company_id = uuid.UUID((await add_company(app, sales_manager_id=str(manager)))["id"])
    async with client(app, mine) as http:
        lead = await http.put(f"/companies/{company_id}/pipeline", json={"source": "expo"})
        assert lead.status_code == 200, lead.text
        assert (lead.json()["stage"], lead.json()["source"]) == ("lead", "expo")
        wrong = await http.put(f"/companies/{company_id}/pipeline", json={"stage": "won"})
        assert wrong.status_code == 422 and "stage" in wrong.text
        moved = await http.put(f"/companies/{company_id}/pipeline", json={"stage": "qualified"})
        assert moved.json()["stage"] == "qualified"
    quote = envelope(
        QuoteRequestedV1(
            quote_id=uuid.uuid4(), company_id=company_id, number="Q-1", actor="u", currency="EUR"
        )
    )
    first = placed(company_id)
    add_on = placed(company_id, adds_to=first.order_id)
    first_env = envelope(first)
    outcomes = await apply(app, quote, first_env, first_env, envelope(add_on))
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DUPLICATE, Outcome.APPLIED]
    async with client(app, mine) as http:
        standing = (await http.get(f"/companies/{company_id}/pipeline")).json()
    assert standing["stage"] == "first_order"  # the add-on is no repeat
    await apply(app, envelope(placed(company_id)))
    assert await stage_events(app) == [
        (None, "lead", 1, "expo"),
        ("lead", "qualified", 2, "expo"),
        ("qualified", "first_quote", 3, "expo"),
        ("first_quote", "first_order", 4, "expo"),
        ("first_order", "repeat", 5, "expo"),
    ]
    async with client(app, mine) as http:
        history = (await http.get(f"/companies/{company_id}/pipeline")).json()["history"]
    assert [h["actor"] for h in history][-3:] == ["system", "system", "system"]


async def test_admins_configure_the_stages_and_bad_pipelines_change_nothing(start_app):
    app = await start_app("accounts")
    async with client(app, MANAGER) as http:
        default = (await http.get("/pipeline/stages")).json()
        assert [s["code"] for s in default] == [
            "lead",
            "qualified",
            "first_quote",
            "first_order",
            "repeat",
        ]
        refused = await http.put("/pipeline/stages", json={"stages": default})
        assert refused.status_code == 403
    wanted = [
        {"code": "lead", "name": "Lead"},
        {"code": "demo", "name": "Demo done"},
        {"code": "won", "name": "Won", "reached_on": "first_order"},
    ]
    async with client(app, as_role(Role.HEAD_OF_SALES)) as http:
        bad = await http.put(
            "/pipeline/stages",
            json={
                "stages": [*wanted, {"code": "won", "name": "Again", "reached_on": "first_order"}]
            },
        )
        assert bad.status_code == 422
        assert {(e["field"], e["row"]) for e in bad.json()["errors"]} == {
            ("code", 4),
            ("reached_on", 4),
        }
        assert [s["code"] for s in (await http.get("/pipeline/stages")).json()] == [
            s["code"] for s in default
        ]
        put = await http.put("/pipeline/stages", json={"stages": wanted})
        assert [(s["code"], s["position"]) for s in put.json()] == [
            ("lead", 1),
            ("demo", 2),
            ("won", 3),
        ]
    company_id = uuid.UUID((await add_company(app))["id"])
    await apply(app, envelope(placed(company_id)))
    async with client(app, ADMIN) as http:
        assert (await http.get(f"/companies/{company_id}/pipeline")).json()["stage"] == "won"
        # a stage a company stands in cannot be dropped
        dropped = await http.put("/pipeline/stages", json={"stages": wanted[:2]})
        assert dropped.status_code == 422 and "won" in dropped.text
    async with client(app, as_role(Role.BUYER, company_id=company_id)) as http:
        assert (await http.get(f"/companies/{company_id}/pipeline")).status_code == 403


async def test_a_head_of_sales_is_a_staff_role_that_can_be_created(start_app):
    app = await start_app("accounts")
    await add_staff(app, "head@example.com", "head_of_sales", "secret-password")
    async with client(app) as http:
        login = await http.post(
            "/auth/login", json={"email": "head@example.com", "password": "secret-password"}
        )
    assert login.status_code == 200

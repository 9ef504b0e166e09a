"""The client-terms and policy-rule use cases called directly with a session, no HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.pricing.store import policy as store
from services.pricing.usecases import client_terms, policy_rules
from shared.problems import NotFound, Unprocessable
from tests.pricing.world import seed_client, seed_skus


async def test_a_repeated_discount_is_refused_before_the_client_is_looked_up(pricing):
    looked_up: list[bool] = []

    async def client_to_change():
        looked_up.append(True)
        raise AssertionError("the client is not needed to refuse the body")

    discounts = [
        {"scope": "brand", "value": "Acme", "percent": Decimal(5)},
        {"scope": "category", "value": "Acme", "percent": Decimal(3)},
        {"scope": "brand", "value": "Acme", "percent": Decimal(7)},
    ]
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await client_terms.replace_discounts(session, client_to_change, discounts)
    assert refused.value.errors[0].field == "discounts[2].value"
    assert looked_up == []


async def test_discounts_replace_the_whole_set(pricing):
    company_id = await seed_client(pricing, external_id="C-TERMS")
    async with pricing.state.sessionmaker() as session, session.begin():
        client = await store.get_client(session, company_id)

        async def client_to_change():
            return client

        first = [{"scope": "brand", "value": "Acme", "percent": Decimal(5)}]
        rows = await client_terms.replace_discounts(session, client_to_change, first)
        assert [(r.scope, r.value, r.percent) for r in rows] == [("brand", "Acme", Decimal(5))]
        assert await client_terms.replace_discounts(session, client_to_change, []) == []


async def test_removing_what_is_not_there_is_not_found(pricing):
    company_id = await seed_client(pricing, external_id="C-RULES")
    await seed_skus(pricing, [("S-1", "Acme", "Tools")])
    async with pricing.state.sessionmaker() as session, session.begin():
        client = await store.get_client(session, company_id)
        with pytest.raises(NotFound):
            await policy_rules.remove_floor(session, "S-1", "EUR")
        await policy_rules.set_floor(session, "S-1", "EUR", 1_000)
        await policy_rules.remove_floor(session, "S-1", "EUR")
        with pytest.raises(NotFound):
            await policy_rules.unassign_ladder(session, client)
        with pytest.raises(NotFound):
            await policy_rules.remove_promotion(session, "NO-SUCH")

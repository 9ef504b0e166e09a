"""Problem details, signed principals and Idempotency-Key, through a real app and database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.exceptions import RequestValidationError
from sqlalchemy import text

from shared.app import asyncpg_dsn
from shared.auth import PRINCIPAL_HEADER, Role
from shared.clock import utcnow
from shared.problems import validation_errors
from shared.testing.fixtures import as_role, client, principal, running, signed
from tests.kernel.widgets import create_widget_tables, widget_app


@pytest.fixture
async def widgets(service_settings, database_urls):
    settings = service_settings("catalog")
    await create_widget_tables(asyncpg_dsn(database_urls["catalog"]))
    app = widget_app(settings)
    async with running(app):
        yield app


async def widget_count(app, name: str) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(
            text("SELECT count(*) FROM widgets WHERE name = :n").bindparams(n=name)
        )


async def test_invalid_body_is_a_problem_naming_the_field(widgets):
    async with client(widgets, as_role(Role.ADMIN)) as http:
        response = await http.post("/widgets", json={"name": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == "name"
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_missing_forged_and_wrong_role_principals_are_refused(widgets):
    admin = signed(principal(Role.ADMIN))
    forged = {
        **admin,
        PRINCIPAL_HEADER: signed(principal(Role.ADMIN))[PRINCIPAL_HEADER][:-4] + "AAAA",
    }
    async with client(widgets) as http:
        missing = await http.post("/widgets", json={"name": "a"})
        tampered = await http.post("/widgets", json={"name": "a"}, headers=forged)
        buyer = await http.post("/widgets", json={"name": "a"}, headers=as_role(Role.BUYER))
        wrong_secret = await http.post(
            "/widgets", json={"name": "a"}, headers=signed(principal(Role.ADMIN), secret="other")
        )
    assert [missing.status_code, tampered.status_code, wrong_secret.status_code] == [401, 401, 401]
    assert buyer.status_code == 403
    assert await widget_count(widgets, "a") == 0


async def test_same_key_same_body_replays_the_first_answer(widgets):
    headers = {**as_role(Role.ADMIN, subject="integrator-1"), "Idempotency-Key": "k-1"}
    async with client(widgets, headers) as http:
        first = await http.post("/widgets", json={"name": "once"})
        again = await http.post("/widgets", json={"name": "once"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await widget_count(widgets, "once") == 1


async def test_same_key_other_body_is_422_and_changes_nothing(widgets):
    headers = {**as_role(Role.ADMIN, subject="integrator-1"), "Idempotency-Key": "k-2"}
    async with client(widgets, headers) as http:
        await http.post("/widgets", json={"name": "first"})
        other = await http.post("/widgets", json={"name": "second"})
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert await widget_count(widgets, "second") == 0


async def test_keys_are_scoped_to_the_caller(widgets):
    async with client(widgets) as http:
        a = await http.post(
            "/widgets",
            json={"name": "a1"},
            headers={**as_role(Role.ADMIN, subject="a"), "Idempotency-Key": "shared"},
        )
        b = await http.post(
            "/widgets",
            json={"name": "b1"},
            headers={**as_role(Role.ADMIN, subject="b"), "Idempotency-Key": "shared"},
        )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_a_refused_request_does_not_pin_its_key(widgets):
    """A 4xx changed nothing: the same key runs again (no replay), and once the request is
    fixed the same key creates; from then on that success is what the key replays."""
    headers = {**as_role(Role.ADMIN, subject="c"), "Idempotency-Key": "k-3"}
    refused = {"name": "bad", "fail_after_write": True}
    async with client(widgets, headers) as http:
        first = await http.post("/widgets", json=refused)
        again = await http.post("/widgets", json=refused)
        fixed = await http.post("/widgets", json={"name": "bad"})
        replayed = await http.post("/widgets", json={"name": "bad"})
        other = await http.post("/widgets", json={"name": "other"})
    assert first.status_code == again.status_code == 409
    assert "idempotent-replayed" not in again.headers
    assert fixed.status_code == replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == fixed.json()
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    assert await widget_count(widgets, "bad") == 1


async def test_keys_older_than_a_day_are_pruned_when_another_request_finishes(widgets):
    """Recording an answer also forgets keys past their day; a fresh key stays replayable."""
    async with client(widgets, as_role(Role.ADMIN, subject="d")) as http:
        await http.post("/widgets", json={"name": "old"}, headers={"Idempotency-Key": "k-old"})
        async with widgets.state.sessionmaker() as session, session.begin():
            await session.execute(
                text("UPDATE idempotency_keys SET created_at = :old WHERE key = 'k-old'"),
                {"old": utcnow() - timedelta(hours=25)},
            )
        await http.post("/widgets", json={"name": "new"}, headers={"Idempotency-Key": "k-new"})
        again = await http.post(
            "/widgets", json={"name": "new"}, headers={"Idempotency-Key": "k-new"}
        )
    assert again.headers["idempotent-replayed"] == "true"
    async with widgets.state.sessionmaker() as session:
        keys = set(await session.scalars(text("SELECT key FROM idempotency_keys")))
    assert keys == {"k-new"}


def test_a_bad_element_of_a_list_is_counted_from_row_1():
    """The first element sent is row 1, as the first record of a feed is; the field path
    keeps JSON's index from 0."""
    errors = validation_errors(
        RequestValidationError(
            [
                {"loc": ("body", "lines", 0, "qty"), "msg": "too small", "type": "x"},
                {"loc": ("body", "lines", 2, "sku"), "msg": "missing", "type": "y"},
            ]
        )
    )
    assert [(e.field, e.row) for e in errors] == [("lines[0].qty", 1), ("lines[2].sku", 3)]

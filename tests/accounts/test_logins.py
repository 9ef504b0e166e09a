"""Failed passwords lock a login for a growing while (429 with Retry-After, problem+json), per
email whether or not it has an account, in the database: every process sees the same count,
and a burst of guesses sent at once cannot outrun it. A right password resets the count."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.accounts.domain.logins import lockout_seconds
from services.accounts.store.models import LoginFailures
from shared.clock import moved_to, utcnow
from tests.accounts.factories import ADMIN, accept, add_company, add_user, invite, login

FAST = {"login_free_attempts": 3, "login_lockout_seconds": 30, "login_lockout_max_seconds": 90}


def later(seconds: float):
    """The clock moved on by `seconds` (the lock-out reads it)."""
    return moved_to(utcnow() + timedelta(seconds=seconds))


def test_the_lockout_doubles_after_the_free_attempts_up_to_a_ceiling():
    waits = [lockout_seconds(n, free=5, first=30, longest=900) for n in range(1, 12)]
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]


async def _codes(app, email: str, *passwords: str) -> list[int]:
    return [(await login(app, email, p)).status_code for p in passwords]


async def test_wrong_passwords_lock_the_login_longer_each_time_and_a_right_one_resets(start_app):
    accounts = await start_app("accounts", **FAST)
    await add_user(accounts, "anna@client.example", password="right-password")

    assert await _codes(accounts, "anna@client.example", "w1", "w2", "w3") == [401, 401, 401]
    locked = await login(accounts, "Anna@Client.example", "right-password")  # even the right one
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert 25 < int(locked.headers["retry-after"]) <= 30
    with later(31):
        assert await _codes(accounts, "anna@client.example", "w4", "right-password") == [401, 429]
        locked_longer = await login(accounts, "anna@client.example", "right-password")
        assert 55 < int(locked_longer.headers["retry-after"]) <= 60  # twice as long
        with later(61):
            assert await _codes(accounts, "anna@client.example", "right-password") == [200]
            # the count starts again after a success
            codes = await _codes(accounts, "anna@client.example", "w5", "w6", "right-password")
            assert codes == [401, 401, 200]


async def test_unknown_emails_lock_out_alike_so_the_answer_tells_nothing(start_app):
    accounts = await start_app("accounts", **FAST)
    codes = await _codes(accounts, "nobody@nowhere.example", "a", "b", "c", "d")
    assert codes == [401, 401, 401, 429]


async def test_guesses_sent_at_once_get_no_more_tries_than_guesses_sent_in_turn(start_app):
    accounts = await start_app("accounts", **FAST)
    await add_user(accounts, "boris@client.example", password="right-password")
    codes = await asyncio.gather(
        *(login(accounts, "boris@client.example", f"guess-{n}") for n in range(12))
    )
    assert sorted(r.status_code for r in codes) == [401] * 3 + [429] * 9


async def test_the_lock_holds_in_every_process(start_app):
    """Two accounts processes (replicas behind any gateway) share one count."""
    first = await start_app("accounts", **FAST)
    second = await start_app("accounts", **FAST)
    await add_user(first, "vera@client.example", password="right-password")
    assert await _codes(first, "vera@client.example", "w1", "w2") == [401, 401]
    assert await _codes(second, "vera@client.example", "w3", "right-password") == [401, 429]


async def test_failures_a_day_old_are_deleted_by_later_attempts_but_a_lock_they_hold_stays(
    start_app,
):
    long_lock = 2 * 24 * 3600.0  # outlasts the day the failures count
    accounts = await start_app(
        "accounts",
        login_free_attempts=2,
        login_lockout_seconds=long_lock,
        login_lockout_max_seconds=long_lock,
    )
    with moved_to(utcnow() - timedelta(days=1, minutes=1)):
        await _codes(accounts, "once@client.example", "w1")
        await _codes(accounts, "locked@client.example", "w1", "w2")
    with moved_to(utcnow() - timedelta(hours=23)):
        await _codes(accounts, "lately@client.example", "w1")
    await _codes(accounts, "now@client.example", "w1")
    async with accounts.state.sessionmaker() as session:
        kept = set(await session.scalars(select(LoginFailures.email)))
    assert kept == {"locked@client.example", "lately@client.example", "now@client.example"}
    assert await _codes(accounts, "locked@client.example", "w3") == [429]


@pytest.mark.parametrize("right", [False, True])
async def test_accepting_an_invitation_with_an_existing_login_counts_its_password(start_app, right):
    accounts = await start_app("accounts", **FAST)
    await add_user(accounts, "gleb@client.example", password="right-password")
    company = await add_company(accounts)
    await _codes(accounts, "gleb@client.example", "w1", "w2", "w3")
    invitation = await invite(accounts, ADMIN, company["id"], "gleb@client.example")
    password = "right-password" if right else f"guess-{uuid.uuid4()}"
    accepted = await accept(accounts, invitation, "Gleb", password)
    assert accepted.status_code == 429

"""Password attempts and their lock-out. An attempt is counted as a failure before its password
is checked and forgotten once the password proves right, so a burst of guesses sent at once
cannot outrun the lock; a locked login answers 429 with Retry-After, whatever the password."""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain.logins import FORGOTTEN_AFTER, lockout_seconds
from services.accounts.settings import Settings
from services.accounts.store import people
from shared.clock import utcnow
from shared.problems import TooManyRequests


async def password_attempt(request: Request, email: str) -> None:
    """Counts an attempt of `email`'s password, or refuses it while the login is locked."""
    settings: Settings = request.app.state.settings
    email, now = email.strip().lower(), utcnow()
    # Its own transaction: the count must stay when the request fails with a wrong password.
    async with request.app.state.sessionmaker() as session, session.begin():
        failures, locked_until = await people.count_login_attempt(
            session, email, now, now - FORGOTTEN_AFTER
        )
        if locked_until is not None and locked_until > now:
            wait = math.ceil((locked_until - now).total_seconds())
            raise TooManyRequests(
                f"Too many wrong passwords for this login; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        lock = lockout_seconds(
            failures,
            settings.login_free_attempts,
            settings.login_lockout_seconds,
            settings.login_lockout_max_seconds,
        )
        if lock:  # lifted at once if this password proves right
            await people.lock_login(session, email, now + timedelta(seconds=lock))


async def password_proved(session: AsyncSession, email: str) -> None:
    await people.forget_login_failures(session, email.strip().lower())

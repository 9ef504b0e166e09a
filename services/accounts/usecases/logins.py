"""Logging in and the tokens it gives. A password attempt is counted as a failure before its
password is checked and forgotten once the password proves right, so a burst of guesses sent
at once cannot outrun the lock; a locked login answers 429 with Retry-After, whatever the
password."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain import secrets
from services.accounts.domain.logins import FORGOTTEN_AFTER, lockout_seconds
from services.accounts.store import people
from services.accounts.store.models import User
from services.accounts.usecases.context import Collaborators
from shared.auth import Role
from shared.clock import utcnow
from shared.problems import NotFound, TooManyRequests, Unauthorized
from shared.tokens import issue_access_token


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int
    company_id: uuid.UUID | None
    memberships: list[dict[str, Any]] = field(default_factory=list)


async def password_attempt(ctx: Collaborators, email: str) -> None:
    """Counts an attempt of `email`'s password, or refuses it while the login is locked."""
    settings = ctx.settings
    email, now = email.strip().lower(), utcnow()
    # Its own transaction: the count must stay when the request fails with a wrong password.
    async with ctx.sessionmaker() as session, session.begin():
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


async def prove_password(
    session: AsyncSession, ctx: Collaborators, user: User | None, email: str, password: str
) -> bool:
    """Whether `password` is `user`'s, counted as an attempt of `email` (an unknown email
    too, so the answer says nothing of who has an account)."""
    await password_attempt(ctx, email)
    if not secrets.verify_password(user.password_hash if user else None, password):
        return False
    await people.forget_login_failures(session, email.strip().lower())
    return True


def roles_of(user: User, member_role: str | None) -> set[Role]:
    roles = {Role(user.staff_role)} if user.staff_role else set()
    if member_role == Role.COMPANY_ADMIN:
        roles |= {Role.COMPANY_ADMIN, Role.BUYER}  # a company's admin also buys
    elif member_role == Role.BUYER:
        roles.add(Role.BUYER)
    return roles


async def token_for(
    session: AsyncSession, ctx: Collaborators, user: User, company_id: uuid.UUID | None
) -> Token:
    """A token acting for `company_id` (the user's first company if None); only the active
    companies it is a member of may be named."""
    memberships = await people.memberships(session, user.id)
    if company_id is None and memberships and not user.staff_role:
        company_id = memberships[0]["company_id"]
    current = next((m for m in memberships if m["company_id"] == company_id), None)
    if company_id is not None and current is None:
        raise NotFound("No such company.")
    settings = ctx.settings
    token = issue_access_token(
        settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        roles=roles_of(user, current["role"] if current else None),
        company_id=company_id,
        companies=[m["company_id"] for m in memberships],
        name=user.name,
        ttl_seconds=settings.access_token_ttl_seconds,
        generation=user.access_generation,
    )
    return Token(token, settings.access_token_ttl_seconds, company_id, memberships)


async def login(session: AsyncSession, ctx: Collaborators, email: str, password: str) -> Token:
    user = await people.user_by_email(session, email)
    if not await prove_password(session, ctx, user, email, password):
        raise Unauthorized("Wrong email or password.")
    assert user is not None
    if not user.active:
        raise Unauthorized("This user is deactivated.")
    return await token_for(session, ctx, user, None)


async def switch_company(
    session: AsyncSession, ctx: Collaborators, user_id: uuid.UUID, company_id: uuid.UUID
) -> Token:
    """A token for another of the person's companies, without logging in again."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("This user is no longer active.")
    return await token_for(session, ctx, user, company_id)

"""Queries on users, memberships, invitations and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store.models import (
    ApiKey,
    Company,
    Invitation,
    LoginFailures,
    Membership,
    User,
    columns_for,
)
from shared.clock import utcnow
from shared.contracts.accounts import PersonChangedV1, PersonMembership
from shared.events.outbox import record_event
from shared.pagination import PageParams, paginate


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def memberships(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The companies a user may act for, by legal name: the first is the default at login."""
    rows = await session.execute(
        select(Membership.company_id, Company.legal_name, Membership.role)
        .join(Company, Company.id == Membership.company_id)
        .where(Membership.user_id == user_id, Company.status == "active")
        .order_by(Company.legal_name, Company.id)
    )
    return [row._asdict() for row in rows]


async def membership(
    session: AsyncSession, user_id: uuid.UUID, company_id: uuid.UUID
) -> Membership | None:
    return await session.get(Membership, (user_id, company_id))


async def members(session: AsyncSession, company_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            User.id.label("user_id"),
            User.email,
            User.name,
            Membership.role,
            Membership.created_at.label("joined_at"),
        )
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id)
        .order_by(User.email)
    )
    return [row._asdict() for row in rows]


async def admins_count(session: AsyncSession, company_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.company_id == company_id, Membership.role == "company_admin")
        )
        or 0
    )


async def invitation_by_token(session: AsyncSession, token_sha256: str) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(Invitation.token_sha256 == token_sha256).with_for_update()
    )


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


async def api_keys(session: AsyncSession, page: PageParams) -> tuple[list[ApiKey], str | None]:
    return await paginate(session, select(ApiKey), [ApiKey.created_at, ApiKey.id], page)


async def staff(
    session: AsyncSession, staff_role: str | None, page: PageParams
) -> tuple[list[User], str | None]:
    stmt = select(User).where(User.staff_role.is_not(None))
    if staff_role:
        stmt = stmt.where(User.staff_role == staff_role)
    return await paginate(session, stmt, [User.email, User.id], page)


async def record_person_changed(session: AsyncSession, user: User) -> None:
    """Tell other services (notifications) who the person is and where they belong, now."""
    await session.flush()
    rows = await session.execute(
        select(Membership.company_id, Membership.role).where(Membership.user_id == user.id)
    )
    record_event(
        session,
        PersonChangedV1.model_validate(
            {
                **columns_for(PersonChangedV1, user),
                "user_id": user.id,
                "memberships": [PersonMembership(company_id=c, role=r) for c, r in rows],
                "changed_at": utcnow(),
            }
        ),
    )


# Password attempts ----------------------------------------------------------------------------


# Forgotten rows an attempt deletes at most: more than one attempt adds, so the table holds only
# the emails that failed within a day, and no attempt does much work.
PRUNED_PER_ATTEMPT = 100


async def count_login_attempt(
    session: AsyncSession, email: str, now: datetime, forget_before: datetime
) -> tuple[int, datetime | None]:
    """Counts an attempt as a failure until its password proves right, unless the login is
    locked (then nothing changes). Returns the failures in a row and the lock found.

    Then deletes other emails' failures that no longer count and lock nothing."""
    f = LoginFailures.__table__
    locked = f.c.locked_until > now
    stmt = insert(LoginFailures).values(email=email, failures=1, last_failed_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[f.c.email],
        set_={
            "failures": case(
                (locked, f.c.failures),
                (f.c.last_failed_at < forget_before, 1),
                else_=f.c.failures + 1,
            ),
            "last_failed_at": case((locked, f.c.last_failed_at), else_=now),
        },
    ).returning(f.c.failures, f.c.locked_until)
    row = (await session.execute(stmt)).one()
    # After the count, not in its statement: an attempt waits only for its own email's row, and
    # skips rows others hold, so two attempts never wait for each other (no deadlock).
    forgotten = (
        select(f.c.email)
        .where(
            f.c.last_failed_at < forget_before,
            or_(f.c.locked_until.is_(None), f.c.locked_until <= now),
        )
        .order_by(f.c.last_failed_at)
        .limit(PRUNED_PER_ATTEMPT)
        .with_for_update(skip_locked=True)
    )
    await session.execute(delete(f).where(f.c.email.in_(forgotten.scalar_subquery())))
    return row.failures, row.locked_until


async def lock_login(session: AsyncSession, email: str, until: datetime) -> None:
    await session.execute(
        update(LoginFailures).where(LoginFailures.email == email).values(locked_until=until)
    )


async def forget_login_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginFailures).where(LoginFailures.email == email))


# Revoked access ---------------------------------------------------------------------------------


async def revoke_access(session: AsyncSession, user_ids: list[uuid.UUID], now: datetime) -> None:
    """Every token these people hold stops working (the gateway asks within seconds)."""
    if user_ids:
        await session.execute(
            update(User)
            .where(User.id.in_(user_ids))
            .values(access_generation=User.access_generation + 1, access_revoked_at=now)
            .execution_options(synchronize_session="fetch")
        )


async def revocations(session: AsyncSession, since: datetime) -> dict[str, Any]:
    """Access revoked since `since`: people (with the generation a token needs), keys, and
    companies blocked since then and still blocked."""
    users = await session.execute(
        select(User.id, User.access_generation).where(User.access_revoked_at >= since)
    )
    keys = await session.scalars(select(ApiKey.id).where(ApiKey.revoked_at >= since))
    companies = await session.scalars(
        select(Company.id).where(Company.blocked_at >= since, Company.status == "blocked")
    )
    return {
        "users": [{"id": u.id, "generation": u.access_generation} for u in users],
        "api_keys": list(keys),
        "companies": list(companies),
    }

"""Queries on users, memberships, invitations and API keys."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store.models import ApiKey, Company, Invitation, Membership, User
from shared.clock import utcnow
from shared.contracts.accounts import PersonChangedV1, PersonMembership
from shared.events.outbox import record_event


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


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


async def staff(session: AsyncSession, staff_role: str | None) -> list[User]:
    stmt = select(User).where(User.staff_role.is_not(None))
    if staff_role:
        stmt = stmt.where(User.staff_role == staff_role)
    return list(await session.scalars(stmt.order_by(User.email)))


async def record_person_changed(session: AsyncSession, user: User) -> None:
    """Tell other services (notifications) who the person is and where they belong, now."""
    await session.flush()
    rows = await session.execute(
        select(Membership.company_id, Membership.role).where(Membership.user_id == user.id)
    )
    record_event(
        session,
        PersonChangedV1(
            user_id=user.id,
            email=user.email,
            name=user.name,
            staff_role=user.staff_role,
            active=user.active,
            memberships=[PersonMembership(company_id=c, role=r) for c, r in rows],
            changed_at=utcnow(),
        ),
    )

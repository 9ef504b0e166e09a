"""People: who I am, a company's members, invitations and their acceptance, removing a member,
and the seller's staff. Every change of where a person belongs is a `person.changed` event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain import secrets
from services.accounts.store import people
from services.accounts.store.models import Invitation, Membership, User, columns_for
from services.accounts.usecases.access import administered_company, user_id
from services.accounts.usecases.context import Collaborators
from services.accounts.usecases.logins import Token, prove_password, token_for
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.contracts.accounts import INVITATION_TOKEN, InvitationCreatedV1
from shared.events.outbox import record_event
from shared.pagination import PageParams, page_of
from shared.problems import Conflict, NotFound, Unauthorized
from shared.tokens import derived_token


@dataclass(frozen=True)
class Me:
    """Who the caller is, the company it acts for and the companies it may act for."""

    id: uuid.UUID
    email: str
    name: str
    staff_role: str | None
    company_id: uuid.UUID | None
    memberships: list[dict[str, Any]]


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str | None  # only in development: elsewhere the invitee gets it by e-mail alone


async def me(session: AsyncSession, principal: Principal) -> Me:
    user = await session.get(User, user_id(principal))
    if user is None:
        raise Unauthorized("This user no longer exists.")
    memberships = await people.memberships(session, user.id)
    return Me(user.id, user.email, user.name, user.staff_role, principal.company_id, memberships)


async def members(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    await administered_company(session, principal, company_id)
    return page_of(await people.members(session, company_id), lambda m: (m["email"],), page)


async def invite(
    session: AsyncSession,
    ctx: Collaborators,
    principal: Principal,
    company_id: uuid.UUID,
    email: str,
    role: str,
) -> NewInvitation:
    """The invitee gets the accept link by e-mail: notifications mails it on
    `invitation.created`. The token is in no event: both services derive it from the
    invitation's id and the secret they share; accounts keeps only its hash."""
    await administered_company(session, principal, company_id)
    settings = ctx.settings
    invitation = Invitation(
        id=uuid.uuid4(),
        company_id=company_id,
        email=email.lower(),
        role=role,
        invited_by=principal.user_id,
        expires_at=utcnow() + timedelta(hours=settings.invitation_ttl_hours),
    )
    token = derived_token(
        settings.internal_secret.get_secret_value(), INVITATION_TOKEN, str(invitation.id)
    )
    invitation.token_sha256 = secrets.sha256_hex(token)
    session.add(invitation)
    await session.flush()
    record_event(
        session,
        InvitationCreatedV1.model_validate(
            {"invitation_id": invitation.id, **columns_for(InvitationCreatedV1, invitation)}
        ),
    )
    return NewInvitation(invitation, token if settings.environment == "development" else None)


async def accept_invitation(
    session: AsyncSession, ctx: Collaborators, token: str, name: str, password: str
) -> Token:
    """Creates the user, or adds the company to an existing login once it gives its password."""
    invitation = await people.invitation_by_token(session, secrets.sha256_hex(token))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        raise NotFound("No such invitation, or it was used or has expired.")
    user = await people.user_by_email(session, invitation.email)
    if user is None:
        user = User(
            email=invitation.email, name=name, password_hash=secrets.hash_password(password)
        )
        session.add(user)
        await session.flush()
    # An existing user proves it is them before another company is added to their login.
    elif not await prove_password(session, ctx, user, user.email, password):
        raise Unauthorized("This email has an account: give its password to accept.")
    member = await people.membership(session, user.id, invitation.company_id)
    if member is None:
        session.add(
            Membership(user_id=user.id, company_id=invitation.company_id, role=invitation.role)
        )
    invitation.accepted_at = utcnow()
    await people.record_person_changed(session, user)
    return await token_for(session, ctx, user, invitation.company_id)


async def remove_member(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """Not the company's last admin. The tokens the member holds name this company: they stop
    working now, not in an hour."""
    await administered_company(session, principal, company_id)
    member = await people.membership(session, member_id, company_id)
    if member is None:
        raise NotFound("No such member.")
    if member.role == Role.COMPANY_ADMIN and await people.admins_count(session, company_id) <= 1:
        raise Conflict("This is the company's last admin; make another admin first.")
    await session.delete(member)
    await people.revoke_access(session, [member_id], utcnow())
    user = await session.get(User, member_id)
    if user is not None:
        await people.record_person_changed(session, user)


async def create_staff(
    session: AsyncSession, email: str, name: str, password: str, staff_role: str
) -> User:
    user = User(
        email=email.lower(),
        name=name,
        password_hash=secrets.hash_password(password),
        staff_role=staff_role,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("A user with this email exists.") from exc
    await people.record_person_changed(session, user)
    return user


async def staff(
    session: AsyncSession, staff_role: str | None, page: PageParams
) -> tuple[list[User], str | None]:
    return await people.staff(session, staff_role, page)


async def ensure_admin(session: AsyncSession, email: str, password: str) -> bool:
    """The first admin, so a fresh install can log in; nothing once the email has a user.
    Whether it was created."""
    if await people.user_by_email(session, email) is not None:
        return False
    session.add(
        User(
            email=email.lower(),
            name="Administrator",
            password_hash=secrets.hash_password(password),
            staff_role="admin",
        )
    )
    return True

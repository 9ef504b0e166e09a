"""People and keys: login and company switching, members and invitations, staff, API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.exc import IntegrityError

from services.accounts.api.access import PEOPLE, STAFF, administered_company, user_id
from services.accounts.api.logins import password_attempt, password_proved
from services.accounts.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    ApiKeyVerify,
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    Login,
    MemberRead,
    MembershipRead,
    MeRead,
    StaffCreate,
    StaffRole,
    SwitchCompany,
    TokenRead,
    UserRead,
)
from services.accounts.domain import secrets
from services.accounts.settings import Settings
from services.accounts.store import people
from services.accounts.store.models import ApiKey, Invitation, Membership, User
from shared.auth import Principal, Role, allow
from shared.clock import utcnow
from shared.contracts.accounts import INVITATION_TOKEN, InvitationCreatedV1
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import SINGLE_LINE
from shared.problems import Conflict, FieldError, NotFound, Unauthorized, Unprocessable
from shared.tokens import derived_token, issue_access_token

router = APIRouter()
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=SINGLE_LINE)]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _roles(user: User, member_role: str | None) -> set[Role]:
    roles = {Role(user.staff_role)} if user.staff_role else set()
    if member_role == Role.COMPANY_ADMIN:
        roles |= {Role.COMPANY_ADMIN, Role.BUYER}  # a company's admin also buys
    elif member_role == Role.BUYER:
        roles.add(Role.BUYER)
    return roles


async def _token(
    request: Request, session: SessionDep, user: User, company_id: uuid.UUID | None
) -> TokenRead:
    """A token acting for `company_id` (the user's first company if None)."""
    memberships = [MembershipRead(**m) for m in await people.memberships(session, user.id)]
    if company_id is None and memberships and not user.staff_role:
        company_id = memberships[0].company_id
    current = next((m for m in memberships if m.company_id == company_id), None)
    if company_id is not None and current is None:
        raise NotFound("No such company.")
    settings = _settings(request)
    token = issue_access_token(
        settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        roles=_roles(user, current.role if current else None),
        company_id=company_id,
        companies=[m.company_id for m in memberships],
        name=user.name,
        ttl_seconds=settings.access_token_ttl_seconds,
        generation=user.access_generation,
    )
    return TokenRead(
        access_token=token,
        expires_in=settings.access_token_ttl_seconds,
        company_id=company_id,
        memberships=memberships,
    )


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Log in with email and password; returns a bearer token",
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Locked after too many wrong passwords; see Retry-After"},
    },
)
async def login(body: Login, request: Request, session: SessionDep) -> TokenRead:
    await password_attempt(request, body.email)
    user = await people.user_by_email(session, body.email)
    if not secrets.verify_password(user.password_hash if user else None, body.password):
        raise Unauthorized("Wrong email or password.")
    assert user is not None
    await password_proved(session, body.email)
    if not user.active:
        raise Unauthorized("This user is deactivated.")
    return await _token(request, session, user, None)


@router.post(
    "/auth/switch-company",
    tags=["auth"],
    summary="Act for another legal entity of the holding without logging in again",
)
async def switch_company(
    body: SwitchCompany, request: Request, session: SessionDep, principal: allow(*PEOPLE)
) -> TokenRead:
    user = await session.get(User, user_id(principal))
    if user is None or not user.active:
        raise Unauthorized("This user is no longer active.")
    return await _token(request, session, user, body.company_id)


@router.get("/me", tags=["auth"], summary="Who I am and which companies I may act for")
async def me(session: SessionDep, principal: allow(*PEOPLE)) -> MeRead:
    user = await session.get(User, user_id(principal))
    if user is None:
        raise Unauthorized("This user no longer exists.")
    return MeRead(
        id=user.id,
        email=user.email,
        name=user.name,
        staff_role=user.staff_role,
        company_id=principal.company_id,
        memberships=[MembershipRead(**m) for m in await people.memberships(session, user.id)],
    )


# Members and invitations ---------------------------------------------------------------------


@router.get("/companies/{company_id}/members", tags=["members"], summary="The company's users")
async def list_members(
    company_id: uuid.UUID, session: SessionDep, principal: allow(Role.COMPANY_ADMIN, *STAFF)
) -> list[MemberRead]:
    await administered_company(session, principal, company_id)
    return [MemberRead(**m) for m in await people.members(session, company_id)]


@router.post(
    "/companies/{company_id}/invitations",
    status_code=201,
    tags=["members"],
    summary="Invite a person to buy for the company",
    description=(
        "Who may invite: the company's own admins, its assigned sales manager, the head of "
        "sales and admins (anyone else gets 404, as for an unknown company). The invitee gets "
        "the accept link by e-mail (notifications, on `invitation.created`); the answer "
        "carries the token only in development."
    ),
)
async def invite(
    company_id: uuid.UUID,
    body: InvitationCreate,
    request: Request,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> InvitationRead:
    await administered_company(session, principal, company_id)
    settings = _settings(request)
    invitation = Invitation(
        id=uuid.uuid4(),
        company_id=company_id,
        email=body.email.lower(),
        role=body.role,
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
        InvitationCreatedV1(
            invitation_id=invitation.id,
            company_id=company_id,
            email=invitation.email,
            role=invitation.role,
            invited_by=invitation.invited_by,
            expires_at=invitation.expires_at,
        ),
    )
    return InvitationRead(
        id=invitation.id,
        company_id=company_id,
        email=invitation.email,
        role=body.role,
        expires_at=invitation.expires_at,
        token=token if settings.environment == "development" else None,
    )


@router.post(
    "/invitations/{token}/accept",
    tags=["members"],
    summary="Accept an invitation (no login needed): creates the user or adds the company",
    responses={
        404: {"description": "Unknown, used or expired invitation"},
        429: {"description": "The existing login is locked after wrong passwords; see Retry-After"},
    },
)
async def accept_invitation(
    token: Token, body: InvitationAccept, request: Request, session: SessionDep
) -> TokenRead:
    invitation = await people.invitation_by_token(session, secrets.sha256_hex(token))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        raise NotFound("No such invitation, or it was used or has expired.")
    user = await people.user_by_email(session, invitation.email)
    if user is None:
        user = User(
            email=invitation.email,
            name=body.name,
            password_hash=secrets.hash_password(body.password),
        )
        session.add(user)
        await session.flush()
    else:
        # An existing user proves it is them before another company is added to their login.
        await password_attempt(request, user.email)
        if not secrets.verify_password(user.password_hash, body.password):
            raise Unauthorized("This email has an account: give its password to accept.")
        await password_proved(session, user.email)
    member = await people.membership(session, user.id, invitation.company_id)
    if member is None:
        session.add(
            Membership(user_id=user.id, company_id=invitation.company_id, role=invitation.role)
        )
    invitation.accepted_at = utcnow()
    await people.record_person_changed(session, user)
    return await _token(request, session, user, invitation.company_id)


@router.delete(
    "/companies/{company_id}/members/{member_id}",
    status_code=204,
    tags=["members"],
    summary="Remove a user from the company",
    responses={409: {"description": "The company's last admin cannot be removed"}},
)
async def remove_member(
    company_id: uuid.UUID,
    member_id: uuid.UUID,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> Response:
    await administered_company(session, principal, company_id)
    member = await people.membership(session, member_id, company_id)
    if member is None:
        raise NotFound("No such member.")
    if member.role == Role.COMPANY_ADMIN and await people.admins_count(session, company_id) <= 1:
        raise Conflict("This is the company's last admin; make another admin first.")
    await session.delete(member)
    # The tokens it holds name this company: they stop working now, not in an hour.
    await people.revoke_access(session, [member_id], utcnow())
    user = await session.get(User, member_id)
    if user is not None:
        await people.record_person_changed(session, user)
    return Response(status_code=204)


# Staff -------------------------------------------------------------------------------------


@router.post("/users", status_code=201, tags=["staff"], summary="Create a staff user")
async def create_staff(
    body: StaffCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> UserRead:
    user = User(
        email=body.email.lower(),
        name=body.name,
        password_hash=secrets.hash_password(body.password),
        staff_role=body.staff_role,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("A user with this email exists.") from exc
    await people.record_person_changed(session, user)
    return UserRead.model_validate(user)


@router.get("/users", tags=["staff"], summary="Staff users")
async def list_staff(
    session: SessionDep, principal: allow(*STAFF), staff_role: StaffRole | None = None
) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in await people.staff(session, staff_role)]


# API keys ----------------------------------------------------------------------------------


@router.post(
    "/api-keys", status_code=201, tags=["api-keys"], summary="Issue an API key (shown once)"
)
async def create_api_key(
    body: ApiKeyCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> ApiKeyCreated:
    if (body.role == "partner") != (body.partner_code is not None):
        raise Unprocessable(
            "A partner key needs a partner_code, and only a partner key has one.",
            errors=[
                FieldError(field="partner_code", message="required for, and only for, partner keys")
            ],
        )
    new = secrets.new_api_key()
    key = ApiKey(
        prefix=new.prefix,
        secret_sha256=new.secret_sha256,
        name=body.name,
        role=body.role,
        partner_code=body.partner_code,
        created_by=principal.user_id,
    )
    session.add(key)
    await session.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=new.key)


@router.get("/api-keys", tags=["api-keys"], summary="API keys (never their secrets)")
async def list_api_keys(session: SessionDep, principal: allow(Role.ADMIN)) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in await people.api_keys(session)]


@router.delete(
    "/api-keys/{key_id}", status_code=204, tags=["api-keys"], summary="Revoke an API key"
)
async def revoke_api_key(
    key_id: uuid.UUID, session: SessionDep, principal: allow(Role.ADMIN)
) -> Response:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key.")
    key.revoked_at = key.revoked_at or utcnow()
    return Response(status_code=204)


@router.post(
    "/internal/api-keys/verify",
    tags=["internal"],
    summary="The gateway checks an API key (service-to-service only)",
    responses={401: {"description": "Unknown or revoked key"}},
)
async def verify_api_key(
    body: ApiKeyVerify, session: SessionDep, principal: allow(Role.SYSTEM)
) -> Principal:
    parsed = secrets.parse_api_key(body.key)
    key = await people.api_key_by_prefix(session, parsed[0]) if parsed else None
    if parsed is None or key is None or not secrets.secret_matches(parsed[1], key.secret_sha256):
        raise Unauthorized("Unknown API key.")
    if key.revoked_at is not None:
        raise Unauthorized("This API key was revoked.")
    return Principal(
        kind="api_key",
        subject=key.id,
        roles=frozenset({Role(key.role)}),
        partner_code=key.partner_code,
        name=key.name,
    )

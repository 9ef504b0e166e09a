"""People and keys: login and company switching, members and invitations, staff, API keys.
The flows are in `usecases/logins.py`, `people.py` and `api_keys.py`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.accounts.api.deps import CollaboratorsDep
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
    MeRead,
    StaffCreate,
    StaffRole,
    SwitchCompany,
    TokenRead,
    UserRead,
)
from services.accounts.usecases import api_keys, logins
from services.accounts.usecases import people as usecase
from services.accounts.usecases.access import PEOPLE, STAFF, user_id
from shared.auth import Principal, Role, allow
from shared.db import SessionDep
from shared.fields import SINGLE_LINE
from shared.pagination import Page, PageDep

router = APIRouter()
pages = APIRouter()
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=SINGLE_LINE)]


def _token(token: logins.Token) -> TokenRead:
    return TokenRead.model_validate(token, from_attributes=True)


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Log in with email and password; returns a bearer token",
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Locked after too many wrong passwords; see Retry-After"},
    },
)
async def login(body: Login, session: SessionDep, ctx: CollaboratorsDep) -> TokenRead:
    return _token(await logins.login(session, ctx, body.email, body.password))


@router.post(
    "/auth/switch-company",
    tags=["auth"],
    summary="Act for another legal entity of the holding without logging in again",
    responses={404: {"description": "Not an active company this user is a member of"}},
)
async def switch_company(
    body: SwitchCompany, session: SessionDep, ctx: CollaboratorsDep, principal: allow(*PEOPLE)
) -> TokenRead:
    token = await logins.switch_company(session, ctx, user_id(principal), body.company_id)
    return _token(token)


@router.get("/me", tags=["auth"], summary="Who I am and which companies I may act for")
async def me(session: SessionDep, principal: allow(*PEOPLE)) -> MeRead:
    return MeRead.model_validate(await usecase.me(session, principal), from_attributes=True)


# Members and invitations ---------------------------------------------------------------------


@pages.get(
    "/companies/{company_id}/members", tags=["members"], summary="The company's users, by email"
)
async def list_members(
    company_id: uuid.UUID,
    session: SessionDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
    page: PageDep,
) -> Page[MemberRead]:
    found = await usecase.members(session, principal, company_id, page)
    return Page.of(found, lambda member: MemberRead(**member))


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
    session: SessionDep,
    ctx: CollaboratorsDep,
    principal: allow(Role.COMPANY_ADMIN, *STAFF),
) -> InvitationRead:
    new = await usecase.invite(session, ctx, principal, company_id, body.email, body.role)
    read = InvitationRead.model_validate(new.invitation, from_attributes=True)
    read.token = new.token
    return read


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
    token: Token, body: InvitationAccept, session: SessionDep, ctx: CollaboratorsDep
) -> TokenRead:
    return _token(await usecase.accept_invitation(session, ctx, token, body.name, body.password))


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
    await usecase.remove_member(session, principal, company_id, member_id)
    return Response(status_code=204)


# Staff -------------------------------------------------------------------------------------


@router.post(
    "/users",
    status_code=201,
    tags=["staff"],
    summary="Create a staff user",
    responses={409: {"description": "A user with this email exists"}},
)
async def create_staff(
    body: StaffCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> UserRead:
    user = await usecase.create_staff(
        session, body.email, body.name, body.password, body.staff_role
    )
    return UserRead.model_validate(user)


@pages.get("/users", tags=["staff"], summary="Staff users, by email")
async def list_staff(
    session: SessionDep,
    principal: allow(*STAFF),
    page: PageDep,
    staff_role: StaffRole | None = None,
) -> Page[UserRead]:
    return Page.of(await usecase.staff(session, staff_role, page), UserRead.model_validate)


# API keys ----------------------------------------------------------------------------------


@router.post(
    "/api-keys", status_code=201, tags=["api-keys"], summary="Issue an API key (shown once)"
)
async def create_api_key(
    body: ApiKeyCreate, session: SessionDep, principal: allow(Role.ADMIN)
) -> ApiKeyCreated:
    issued = await api_keys.issue(session, principal, body.name, body.role, body.partner_code)
    return ApiKeyCreated(**ApiKeyRead.model_validate(issued.key).model_dump(), key=issued.secret)


@pages.get("/api-keys", tags=["api-keys"], summary="API keys (never their secrets), oldest first")
async def list_api_keys(
    session: SessionDep, principal: allow(Role.ADMIN), page: PageDep
) -> Page[ApiKeyRead]:
    return Page.of(await api_keys.api_keys(session, page), ApiKeyRead.model_validate)


@router.delete(
    "/api-keys/{key_id}", status_code=204, tags=["api-keys"], summary="Revoke an API key"
)
async def revoke_api_key(
    key_id: uuid.UUID, session: SessionDep, principal: allow(Role.ADMIN)
) -> Response:
    await api_keys.revoke(session, key_id)
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
    return await api_keys.verify(session, body.key)

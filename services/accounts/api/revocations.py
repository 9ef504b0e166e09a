"""Taking access away within seconds. A person removed from a company or deactivated gets a
new access generation, and every token issued before it is refused; a revoked API key is
refused too, and so is a token acting for a company since blocked. The gateway asks
`GET /internal/revocations` every few seconds, so none of them waits for the token to expire
(an hour) or the gateway's key cache (30 s)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.accounts.settings import Settings
from services.accounts.store import people
from services.accounts.store.models import User
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.problems import Conflict, NotFound

router = APIRouter()
# Clocks of the gateway's replicas and ours may differ by this much.
CLOCK_MARGIN = timedelta(minutes=1)


class RevokedPerson(BaseModel):
    id: uuid.UUID
    generation: int = Field(description="Tokens issued at a lower access generation are void")


class Revocations(BaseModel):
    users: list[RevokedPerson]
    api_keys: list[uuid.UUID] = Field(description="Revoked keys")
    companies: list[uuid.UUID] = Field(
        description="Blocked companies: tokens acting for them are void, and they leave the "
        "`companies` a token lists"
    )


@router.get(
    "/internal/revocations",
    tags=["internal"],
    summary="Access revoked within a token's lifetime (the gateway asks every few seconds)",
)
async def revocations(
    request: Request, session: SessionDep, principal: allow(Role.SYSTEM)
) -> Revocations:
    settings: Settings = request.app.state.settings
    # Older revocations need no refusing: every token issued before them has expired.
    since = utcnow() - timedelta(seconds=settings.access_token_ttl_seconds) - CLOCK_MARGIN
    return Revocations.model_validate(await people.revocations(session, since))


@router.delete(
    "/users/{user_id}",
    status_code=204,
    tags=["staff"],
    summary="Deactivate a person (staff or a client's user): no more logins, and the tokens it "
    "holds stop working within seconds",
    responses={409: {"description": "An admin cannot deactivate itself"}},
)
async def deactivate_user(
    user_id: uuid.UUID, session: SessionDep, principal: allow(Role.ADMIN)
) -> Response:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    if user.id == principal.user_id:
        raise Conflict("You cannot deactivate yourself; ask another admin.")
    if user.active:
        user.active = False
        await people.revoke_access(session, [user.id], utcnow())
        await people.record_person_changed(session, user)
    return Response(status_code=204)

"""Taking access away within seconds: the list the gateway asks for every few seconds
(`GET /internal/revocations`) and deactivating a person; the rules are in
`usecases/revocations.py`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.accounts.api.deps import CollaboratorsDep
from services.accounts.usecases import revocations as usecase
from shared.auth import Role, allow
from shared.db import SessionDep

router = APIRouter()


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
    session: SessionDep, ctx: CollaboratorsDep, principal: allow(Role.SYSTEM)
) -> Revocations:
    ttl = ctx.settings.access_token_ttl_seconds
    return Revocations.model_validate(await usecase.revocations(session, ttl))


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
    await usecase.deactivate(session, principal, user_id)
    return Response(status_code=204)

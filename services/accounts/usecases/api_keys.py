"""API keys of ERP integrators and partner marketplaces: issued (the secret shown once),
listed, revoked, and checked by the gateway."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.domain import secrets
from services.accounts.store import people
from services.accounts.store.models import ApiKey
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.pagination import PageParams
from shared.problems import FieldError, NotFound, Unauthorized, Unprocessable


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the full key: shown this once, never again


async def issue(
    session: AsyncSession,
    principal: Principal,
    name: str,
    role: str,
    partner_code: str | None,
) -> IssuedKey:
    if (role == "partner") != (partner_code is not None):
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
        name=name,
        role=role,
        partner_code=partner_code,
        created_by=principal.user_id,
    )
    session.add(key)
    await session.flush()
    return IssuedKey(key, new.key)


async def api_keys(session: AsyncSession, page: PageParams) -> tuple[list[ApiKey], str | None]:
    return await people.api_keys(session, page)


async def revoke(session: AsyncSession, key_id: uuid.UUID) -> None:
    """Revoked once: revoking again keeps the first time."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key.")
    key.revoked_at = key.revoked_at or utcnow()


async def verify(session: AsyncSession, presented: str) -> Principal:
    """Who a key acts as, if it is known and not revoked."""
    parsed = secrets.parse_api_key(presented)
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

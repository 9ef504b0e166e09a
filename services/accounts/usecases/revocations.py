"""Taking access away within seconds. A person removed from a company or deactivated gets a
new access generation, and every token issued before it is refused; a revoked API key is
refused too, and so is a token acting for a company since blocked. The gateway asks for the
list every few seconds, so none of them waits for the token to expire (an hour) or the
gateway's key cache (30 s)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.store import people
from services.accounts.store.models import User
from shared.auth import Principal
from shared.clock import utcnow
from shared.problems import Conflict, NotFound

# Clocks of the gateway's replicas and ours may differ by this much.
CLOCK_MARGIN = timedelta(minutes=1)


async def revocations(session: AsyncSession, token_ttl_seconds: int) -> dict[str, Any]:
    """People (with the generation a token needs), keys and blocked companies."""
    # Older revocations need no refusing: every token issued before them has expired.
    since = utcnow() - timedelta(seconds=token_ttl_seconds) - CLOCK_MARGIN
    return await people.revocations(session, since)


async def deactivate(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> None:
    """No more logins, and the tokens the person holds stop working; not oneself."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    if user.id == principal.user_id:
        raise Conflict("You cannot deactivate yourself; ask another admin.")
    if user.active:
        user.active = False
        await people.revoke_access(session, [user.id], utcnow())
        await people.record_person_changed(session, user)

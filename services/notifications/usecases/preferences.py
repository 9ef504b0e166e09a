"""Preferences: which kinds of message on which channel a person and a company want; a
person's language, quiet hours and digest mode. The person's choice wins over the company's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store import directory
from services.notifications.store.models import Company, RecipientSettings
from services.notifications.usecases.access import managed_company, person
from shared.auth import Principal
from shared.clock import utcnow

Switches = dict[tuple[str, str], bool]  # (kind, channel) -> on


@dataclass(frozen=True)
class PersonSettings:
    locale: str | None = None
    timezone: str | None = None
    quiet_from: time | None = None
    quiet_to: time | None = None
    digest: bool = False
    preferences: Switches = field(default_factory=dict)


@dataclass(frozen=True)
class CompanySettings:
    locale: str | None
    preferences: Switches


async def mine(session: AsyncSession, principal: Principal) -> PersonSettings:
    user_id = person(principal)
    found = await session.get(RecipientSettings, user_id)
    prefs = (await directory.user_preferences(session, [user_id]))[user_id]
    if found is None:
        return PersonSettings(preferences=prefs)
    return PersonSettings(
        found.locale, found.timezone, found.quiet_from, found.quiet_to, found.digest, prefs
    )


async def set_mine(
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any],
    switches: list[tuple[str, str, bool]],
) -> PersonSettings:
    """Replace the person's settings (`values`: locale, timezone, quiet hours, digest); the
    switches listed are upserted, the others stay."""
    user_id = person(principal)
    await directory.set_recipient_settings(session, user_id, values, utcnow())
    await directory.set_user_preferences(session, user_id, switches)
    await session.flush()
    return await mine(session, principal)


async def of_company(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> CompanySettings:
    managed_company(principal, company_id)
    company = await session.get(Company, company_id)
    prefs = await directory.company_preferences(session, company_id)
    return CompanySettings(company.locale if company else None, prefs)


async def set_company(
    session: AsyncSession,
    principal: Principal,
    company_id: uuid.UUID,
    locale: str | None,
    switches: list[tuple[str, str, bool]],
) -> CompanySettings:
    managed_company(principal, company_id)
    company = await session.get(Company, company_id)
    if company is not None:
        company.locale = locale
    await directory.set_company_preferences(session, company_id, switches)
    await session.flush()
    return await of_company(session, principal, company_id)

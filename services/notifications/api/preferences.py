"""Preferences: which kinds of message on which channel, per person and per company; a
person's language, quiet hours and digest mode."""

from __future__ import annotations

import uuid
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.dialects.postgresql import insert

from services.notifications.api.access import COMPANY_MANAGERS, PEOPLE, managed_company, person
from services.notifications.domain.rules import CHANNELS, KINDS
from services.notifications.domain.templates import LOCALES
from services.notifications.store import directory
from services.notifications.store.models import Company, RecipientSettings
from shared.auth import allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.fields import LocalTime, line

router = APIRouter(tags=["preferences"])
Kind = Literal[KINDS]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
Locale = Literal[LOCALES]  # type: ignore[valid-type]


class Preference(BaseModel):
    kind: Kind
    channel: Channel
    enabled: bool


class MyPreferences(BaseModel):
    locale: Locale | None = None
    timezone: line(64) | None = Field(
        None, description="IANA zone of quiet hours, e.g. Europe/Moscow"
    )
    quiet_from: LocalTime | None = Field(None, description="No email from this local time ...")
    quiet_to: LocalTime | None = Field(None, description="... until this one (may pass midnight)")
    digest: bool = Field(False, description="One daily email instead of one per message")
    preferences: list[Preference] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError("unknown time zone") from exc
        return value


class CompanyPreferences(BaseModel):
    locale: Locale | None = Field(None, description="Language of its people who chose none")
    preferences: list[Preference] = Field(default_factory=list)


@router.get("/preferences/me", summary="My language, quiet hours, digest and channel choices")
async def get_mine(session: SessionDep, principal: allow(*PEOPLE)) -> MyPreferences:
    user_id = person(principal)
    found = await session.get(RecipientSettings, user_id)
    prefs = (await directory.user_preferences(session, [user_id]))[user_id]
    return MyPreferences(
        locale=found.locale if found else None,
        timezone=found.timezone if found else None,
        quiet_from=found.quiet_from if found else None,
        quiet_to=found.quiet_to if found else None,
        digest=found.digest if found else False,
        preferences=[
            Preference(kind=k, channel=c, enabled=e) for (k, c), e in sorted(prefs.items())
        ],
    )


@router.put("/preferences/me", summary="Replace my settings; listed choices are upserted")
async def put_mine(
    body: MyPreferences, session: SessionDep, principal: allow(*PEOPLE)
) -> MyPreferences:
    user_id = person(principal)
    values = body.model_dump(exclude={"preferences"})
    stmt = insert(RecipientSettings).values(user_id=user_id, updated_at=utcnow(), **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[RecipientSettings.user_id],
            set_={**values, "updated_at": utcnow()},
        )
    )
    await directory.set_user_preferences(
        session, user_id, [(p.kind, p.channel, p.enabled) for p in body.preferences]
    )
    await session.flush()
    return await get_mine(session, principal)


@router.get(
    "/companies/{company_id}/preferences", summary="The company's channel choices and language"
)
async def get_company(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> CompanyPreferences:
    managed_company(principal, company_id)
    company = await session.get(Company, company_id)
    prefs = await directory.company_preferences(session, company_id)
    return CompanyPreferences(
        locale=company.locale if company else None,
        preferences=[
            Preference(kind=k, channel=c, enabled=e) for (k, c), e in sorted(prefs.items())
        ],
    )


@router.put(
    "/companies/{company_id}/preferences",
    summary="Set the company's channel choices (its people may still choose for themselves)",
)
async def put_company(
    company_id: uuid.UUID,
    body: CompanyPreferences,
    session: SessionDep,
    principal: allow(*COMPANY_MANAGERS),
) -> CompanyPreferences:
    managed_company(principal, company_id)
    company = await session.get(Company, company_id)
    if company is not None:
        company.locale = body.locale
    await directory.set_company_preferences(
        session, company_id, [(p.kind, p.channel, p.enabled) for p in body.preferences]
    )
    await session.flush()
    return await get_company(company_id, session, principal)

"""Preferences: which kinds of message on which channel, per person and per company; a
person's language, quiet hours and digest mode."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from services.notifications.domain.rules import CHANNELS, KINDS
from services.notifications.domain.templates import LOCALES
from services.notifications.usecases import preferences as usecase
from services.notifications.usecases.access import COMPANY_MANAGERS, PEOPLE
from shared.auth import allow
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


def _switches(prefs: dict[tuple[str, str], bool]) -> list[Preference]:
    return [Preference(kind=k, channel=c, enabled=e) for (k, c), e in sorted(prefs.items())]


def _asked(body: MyPreferences | CompanyPreferences) -> list[tuple[str, str, bool]]:
    return [(p.kind, p.channel, p.enabled) for p in body.preferences]


def _mine(found: usecase.PersonSettings) -> MyPreferences:
    return MyPreferences(
        **{**dataclasses.asdict(found), "preferences": _switches(found.preferences)}
    )


def _company(found: usecase.CompanySettings) -> CompanyPreferences:
    return CompanyPreferences(locale=found.locale, preferences=_switches(found.preferences))


@router.get("/preferences/me", summary="My language, quiet hours, digest and channel choices")
async def get_mine(session: SessionDep, principal: allow(*PEOPLE)) -> MyPreferences:
    return _mine(await usecase.mine(session, principal))


@router.put("/preferences/me", summary="Replace my settings; listed choices are upserted")
async def put_mine(
    body: MyPreferences, session: SessionDep, principal: allow(*PEOPLE)
) -> MyPreferences:
    values = body.model_dump(exclude={"preferences"})
    return _mine(await usecase.set_mine(session, principal, values, _asked(body)))


@router.get(
    "/companies/{company_id}/preferences", summary="The company's channel choices and language"
)
async def get_company(
    company_id: uuid.UUID, session: SessionDep, principal: allow(*COMPANY_MANAGERS)
) -> CompanyPreferences:
    return _company(await usecase.of_company(session, principal, company_id))


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
    found = await usecase.set_company(session, principal, company_id, body.locale, _asked(body))
    return _company(found)

"""Who can receive what: companies, people and memberships as accounts and analytics told us,
and each person's settings and preferences."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store.models import (
    Company,
    CompanyPreference,
    Membership,
    Person,
    RecipientSettings,
    UserPreference,
)
from shared.clock import utcnow
from shared.db import upsert


async def upsert_company(session: AsyncSession, data: dict[str, Any]) -> None:
    values = {
        "id": data["company_id"],
        "legal_name": data["legal_name"],
        "sales_manager_id": data.get("sales_manager_id"),
        "client_group": data.get("client_group"),
        "status": data.get("status", "active"),
        "updated_at": utcnow(),
    }
    await upsert(session, Company, values, ("id",))


async def replace_person(session: AsyncSession, data: dict[str, Any]) -> None:
    """person.changed is a full snapshot: the person and all their memberships."""
    user_id = uuid.UUID(str(data["user_id"]))
    values = {
        "user_id": user_id,
        "email": data["email"],
        "name": data["name"],
        "staff_role": data.get("staff_role"),
        "active": data.get("active", True),
        "updated_at": utcnow(),
    }
    await upsert(session, Person, values, ("user_id",))
    await session.execute(delete(Membership).where(Membership.user_id == user_id))
    rows = [
        {"user_id": user_id, "company_id": m["company_id"], "role": m["role"]}
        for m in data.get("memberships") or []
    ]
    if rows:
        await session.execute(insert(Membership).values(rows))


async def apply_segments(session: AsyncSession, data: dict[str, Any]) -> None:
    """Analytics moved a client between segments: keep the current value per dimension."""
    changes = {c["dimension"]: c.get("current") for c in data.get("changes") or []}
    if not changes:
        return
    await session.execute(
        text("UPDATE companies SET segments = segments || CAST(:changes AS jsonb) WHERE id = :id"),
        {"changes": _json(changes), "id": data["client_id"]},
    )


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


@dataclass(frozen=True)
class CompanyView:
    id: uuid.UUID
    legal_name: str
    sales_manager_id: uuid.UUID | None
    client_group: str | None
    status: str
    segments: dict[str, Any]
    locale: str | None


async def company_view(
    session: AsyncSession, company_id: uuid.UUID
) -> tuple[CompanyView | None, dict[tuple[str, str], bool]]:
    """The company as we know it and its channel choices, in one round trip (hot path)."""
    conn = await session.connection()
    row = (
        await conn.execute(
            text(
                """
                SELECT c.id, c.legal_name, c.sales_manager_id, c.client_group, c.status,
                       c.segments, c.locale,
                       (SELECT coalesce(jsonb_agg(jsonb_build_array(p.kind, p.channel, p.enabled)),
                                        '[]'::jsonb)
                        FROM company_preferences p WHERE p.company_id = :id) AS prefs
                FROM (SELECT CAST(:id AS uuid) AS id) AS wanted
                LEFT JOIN companies c ON c.id = wanted.id
                """
            ),
            {"id": company_id},
        )
    ).one()
    prefs = {(k, ch): bool(on) for k, ch, on in _loads(row.prefs)}
    if row.id is None:
        return None, prefs
    view = CompanyView(
        id=row.id,
        legal_name=row.legal_name,
        sales_manager_id=row.sales_manager_id,
        client_group=row.client_group,
        status=row.status,
        segments=_loads(row.segments),
        locale=row.locale,
    )
    return view, prefs


def _loads(value: Any) -> Any:
    import orjson

    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    email: str
    name: str
    locale: str | None
    timezone: str | None
    quiet_from: time | None
    quiet_to: time | None
    digest: bool


_PEOPLE = """
    SELECT p.user_id, p.email, p.name, s.locale, s.timezone, s.quiet_from, s.quiet_to,
           coalesce(s.digest, false) AS digest
    FROM people p LEFT JOIN recipient_settings s ON s.user_id = p.user_id
"""
_AUDIENCES = {
    "members": text(
        _PEOPLE + "JOIN memberships m ON m.user_id = p.user_id "
        "WHERE p.active AND m.company_id = :company AND m.role = ANY(:roles) ORDER BY p.user_id"
    ),
    "person": text(_PEOPLE + "WHERE p.active AND p.user_id = :user ORDER BY p.user_id"),
    "admins": text(_PEOPLE + "WHERE p.active AND p.staff_role = 'admin' ORDER BY p.user_id"),
    # The head of sales; the admins stand in while nobody holds the role.
    "head_of_sales": text(
        _PEOPLE + "WHERE p.active AND p.staff_role = (CASE WHEN EXISTS (SELECT 1 FROM people h "
        "WHERE h.active AND h.staff_role = 'head_of_sales') THEN 'head_of_sales' ELSE 'admin' "
        "END) ORDER BY p.user_id"
    ),
}


async def audience(
    session: AsyncSession,
    audience: str,
    company: CompanyView | None,
    data: dict[str, Any],
) -> list[Recipient]:
    """The people a rule's audience names for this event, active ones only (hot path: plain
    SQL on the connection)."""
    if audience in ("buyers", "company_admins"):
        if company is None:
            return []
        roles = ["company_admin"] if audience == "company_admins" else ["buyer", "company_admin"]
        query, params = _AUDIENCES["members"], {"company": company.id, "roles": roles}
    elif audience == "sales_manager":
        manager = data.get("sales_manager_id") or (company.sales_manager_id if company else None)
        if manager is None:
            return []
        query, params = _AUDIENCES["person"], {"user": uuid.UUID(str(manager))}
    elif audience in ("admins", "head_of_sales"):
        query, params = _AUDIENCES[audience], {}
    elif audience == "invitee":
        return await _invitee(session, data.get("email"))
    else:
        return []
    conn = await session.connection()
    rows = await conn.execute(query, params)
    return [Recipient(**r._mapping) for r in rows]


async def _invitee(session: AsyncSession, email: Any) -> list[Recipient]:
    """The person an invitation names: the one with that e-mail if we know them (their
    language and quiet hours), else a stranger whose id is made of the address, so the
    message is still one per person and invitation."""
    if not isinstance(email, str) or "@" not in email:
        return []
    conn = await session.connection()
    rows = await conn.execute(
        text(_PEOPLE + "WHERE p.active AND p.email = :email ORDER BY p.user_id"),
        {"email": email.lower()},  # accounts keeps e-mails lower-case
    )
    known = [Recipient(**r._mapping) for r in rows]
    if known:
        return known[:1]
    stranger = uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.lower()}")
    return [Recipient(stranger, email, email, None, None, None, None, False)]


async def user_preferences(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[tuple[str, str], bool]]:
    found: dict[uuid.UUID, dict[tuple[str, str], bool]] = {u: {} for u in user_ids}
    if user_ids:
        rows = await session.execute(
            select(UserPreference).where(UserPreference.user_id.in_(user_ids))
        )
        for (p,) in rows:
            found[p.user_id][(p.kind, p.channel)] = p.enabled
    return found


async def company_preferences(
    session: AsyncSession, company_id: uuid.UUID | None
) -> dict[tuple[str, str], bool]:
    if company_id is None:
        return {}
    rows = await session.scalars(
        select(CompanyPreference).where(CompanyPreference.company_id == company_id)
    )
    return {(p.kind, p.channel): p.enabled for p in rows}


async def _set_preferences(
    session: AsyncSession,
    model: Any,
    owner: dict[str, uuid.UUID],
    prefs: list[tuple[str, str, bool]],
) -> None:
    """Upsert each (kind, channel) switch of one person or one company."""
    for kind, channel, enabled in prefs:
        stmt = insert(model).values(**owner, kind=kind, channel=channel, enabled=enabled)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[*owner, "kind", "channel"], set_={"enabled": enabled}
            )
        )


async def set_user_preferences(
    session: AsyncSession, user_id: uuid.UUID, prefs: list[tuple[str, str, bool]]
) -> None:
    await _set_preferences(session, UserPreference, {"user_id": user_id}, prefs)


async def set_company_preferences(
    session: AsyncSession, company_id: uuid.UUID, prefs: list[tuple[str, str, bool]]
) -> None:
    await _set_preferences(session, CompanyPreference, {"company_id": company_id}, prefs)


async def set_recipient_settings(
    session: AsyncSession, user_id: uuid.UUID, values: dict[str, Any], now: datetime
) -> None:
    """A person's language, time zone, quiet hours and digest mode, replaced."""
    stmt = insert(RecipientSettings).values(user_id=user_id, updated_at=now, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[RecipientSettings.user_id], set_={**values, "updated_at": now}
        )
    )

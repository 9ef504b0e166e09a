"""Templates, managed by admins: a subject and a body per key and locale; a variant that does
not compile is refused, and the preview renders strictly (a missing field is an error)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.domain import templates as rendering
from services.notifications.store import messages as store
from services.notifications.store.models import Template
from shared.clock import utcnow
from shared.pagination import PageParams
from shared.problems import NotFound, Unprocessable


async def list_templates(
    session: AsyncSession, page: PageParams
) -> tuple[list[Template], str | None]:
    return await store.all_templates(session, page)


async def get_template(session: AsyncSession, key: str, locale: str) -> Template:
    found = await session.get(Template, (key, locale))
    if found is None:
        raise NotFound("No such template.")
    return found


async def put_template(
    session: AsyncSession,
    key: str,
    locale: str,
    subject: str,
    body: str,
    sample: dict[str, Any] | None,
) -> Template:
    """Create or replace a variant; without a `sample` the stored one stays."""
    try:
        rendering.check(subject, body)
    except rendering.TemplateProblem as exc:
        raise Unprocessable(f"The template does not compile: {exc}") from exc
    found = await session.get(Template, (key, locale), with_for_update=True)
    if found is None:
        found = Template(key=key, locale=locale, subject="", body="", sample={})
        session.add(found)
    found.subject, found.body, found.updated_at = subject, body, utcnow()
    if sample is not None:
        found.sample = sample
    await session.flush()
    return found


async def preview(
    session: AsyncSession, key: str, locale: str, data: dict[str, Any] | None
) -> rendering.Rendered:
    """The variant rendered with `data`, or with its sample when none is given."""
    found = await get_template(session, key, locale)
    try:
        return rendering.render(
            found.subject,
            found.body,
            data if data is not None else found.sample,
            strict=True,
            locale=locale,
        )
    except rendering.TemplateProblem as exc:
        raise Unprocessable(f"The template does not render with this data: {exc}") from exc

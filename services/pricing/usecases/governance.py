"""Price governance flows: guardrails, held feeds (overridden, approved, declined: the same
job queued again or closed), and price versions rolled back, approved or declined. Each runs
in the caller's transaction and raises a named problem when the rules refuse it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.domain import governance
from services.pricing.store import feed_jobs, guardrails, versions
from services.pricing.store.feed_files import PRICES_KIND
from services.pricing.store.governance_models import Guardrail, PriceVersion
from services.pricing.usecases import list_edits
from services.pricing.usecases.changes import announce
from shared.clock import utcnow
from shared.events.outbox import record_event
from shared.feeds.models import FeedJob, JobState
from shared.pagination import PageParams, paginate
from shared.problems import Conflict, FieldError, Forbidden, NotFound

# Guardrails ----------------------------------------------------------------------------------


async def put_guardrail(session: AsyncSession, list_code: str, values: dict[str, Any]) -> Guardrail:
    if list_code != governance.DEFAULT and not await guardrails.list_exists(session, list_code):
        raise NotFound(
            "No such price list.",
            errors=[FieldError(field="list_code", message=f"no list {list_code!r}")],
        )
    return await guardrails.put(session, list_code, values)


async def delete_guardrail(session: AsyncSession, list_code: str) -> None:
    if not await guardrails.remove(session, list_code):
        raise NotFound("No such guardrail.")


# Held feeds ----------------------------------------------------------------------------------


async def price_job(session: AsyncSession, job_id: uuid.UUID, *, lock: bool = True) -> FeedJob:
    job = await session.get(FeedJob, job_id, with_for_update=lock or None)
    if job is None or job.kind != PRICES_KIND:
        raise NotFound("No such price feed.")
    return job


def _queue_again(job: FeedJob, wake: Callable[[], None], **options: Any) -> None:
    """The same file runs again with these options; the job keeps its id and its owner."""
    job.options = {**(job.options or {}), **options}
    job.state, job.stage, job.progress = JobState.QUEUED, None, 0.0
    job.attempts, job.error, job.report_path = 0, None, None
    job.rows_rejected = job.rows_applied = None
    job.finished_at = None
    job.result = {}
    wake()


async def override_feed(
    session: AsyncSession, job_id: uuid.UUID, by: str, reason: str, wake: Callable[[], None]
) -> FeedJob:
    job = await price_job(session, job_id)
    if job.state != JobState.REJECTED or not (job.result or {}).get("guardrails"):
        raise Conflict("Only a price feed stopped by its guardrails can be overridden.")
    _queue_again(job, wake, override={"by": by, "reason": reason, "at": str(utcnow())})
    return job


async def approve_feed(
    session: AsyncSession, job_id: uuid.UUID, by: str, wake: Callable[[], None]
) -> FeedJob:
    job = await price_job(session, job_id)
    if job.state != JobState.STAGED:
        raise Conflict("Only a staged price feed waits for approval.")
    if by in (job.owner, (job.options or {}).get("override", {}).get("by")):
        raise Forbidden("A second person approves: not who posted or overrode the feed.")
    _queue_again(job, wake, approved_by=by)
    return job


async def decline_feed(session: AsyncSession, job_id: uuid.UUID, by: str, reason: str) -> FeedJob:
    job = await price_job(session, job_id)
    if job.state != JobState.STAGED:
        raise Conflict("Only a staged price feed can be declined.")
    job.state, job.stage = JobState.REJECTED, "declined"
    job.error = f"declined by {by}: {reason}"
    return job


# Versions ------------------------------------------------------------------------------------


async def versions_page(
    session: AsyncSession, params: PageParams
) -> tuple[list[PriceVersion], str | None]:
    """Price versions, newest first."""
    return await paginate(
        session, select(PriceVersion), [PriceVersion.id], params, newest_first=True
    )


async def rollback_version(
    session: AsyncSession, version_id: int, by: str, reason: str
) -> PriceVersion:
    """Undo an applied version as a new version, unless later changes touched its prices."""
    await feed_jobs.lock_feeds(session)
    version = await versions.get_version(session, version_id, lock=True)
    if version is None:
        raise NotFound("No such price version.")
    if version.state != "applied":
        raise Conflict(f"Version {version_id} is {version.state}; only an applied one rolls back.")
    if version.list_changes:
        return await _roll_back_lists(session, version, by, reason)
    if not version.restorable:
        raise Conflict("A factored full-matrix feed keeps no rows to undo: post the old matrix.")
    drifted = await versions.drifted_rows(session, version_id)
    if drifted:
        raise Conflict(
            "Later changes touched prices of this version; roll those back first.",
            errors=[
                FieldError(field="sku", message=f"{sku} of {target} at {qty} changed since")
                for sku, target, qty in drifted
            ],
        )
    await versions.undo_rows(session, version_id)
    diff = governance.summarise(await versions.read_diff(session, "rollback_diff"))
    rollback = await versions.record_version(
        session,
        cause=f"rollback:{version_id}",
        created_by=by,
        diff=diff,
        rollback_of=version_id,
        table="rollback_diff",
    )
    rollback.reason = reason
    version.state, version.rolled_back_by = "rolled_back", rollback.id
    codes, companies = await versions.touched(session, "rollback_diff")
    announce(
        session,
        f"rollback:{version_id}",
        list_codes=codes,
        client_ids=companies,
        rows=rollback.rows,
    )
    record_event(session, versions.applied_event(rollback, list_codes=codes, client_ids=companies))
    await session.flush()
    return rollback


async def _roll_back_lists(
    session: AsyncSession, version: PriceVersion, by: str, reason: str
) -> PriceVersion:
    """An edit of derived lists rolls back by putting the lists' settings back."""
    diff, codes = await list_edits.apply_version(session, version, "before")
    rollback = await versions.record_version(
        session,
        cause=f"rollback:{version.id}",
        created_by=by,
        diff=diff,
        rollback_of=version.id,
        table=None,
        list_changes=[
            {**c, "before": c["after"], "after": c["before"]} for c in version.list_changes
        ],
    )
    rollback.reason = reason
    version.state, version.rolled_back_by = "rolled_back", rollback.id
    _announce_lists(session, rollback, codes)
    await session.flush()
    return rollback


def _announce_lists(session: AsyncSession, version: PriceVersion, codes: list[str]) -> None:
    announce(session, version.cause, list_codes=codes)
    record_event(session, versions.applied_event(version, list_codes=codes, client_ids=[]))


async def _staged_version(session: AsyncSession, version_id: int) -> PriceVersion:
    version = await versions.get_version(session, version_id, lock=True)
    if version is None:
        raise NotFound("No such price version.")
    if version.state != "staged":
        raise Conflict(f"Version {version_id} is {version.state}; only a staged one waits.")
    return version


async def approve_version(session: AsyncSession, version_id: int, by: str) -> PriceVersion:
    """A staged edit of lists applies, by a second person, if the lists still stand where
    the edit found them."""
    await feed_jobs.lock_feeds(session)
    version = await _staged_version(session, version_id)
    if by in (version.created_by, version.override_by):
        raise Forbidden("A second person approves: not who made or overrode the edit.")
    diff, codes = await list_edits.apply_version(session, version, "after")
    version.state, version.approved_by, version.diff = "applied", by, diff
    version.applied_at = utcnow()
    _announce_lists(session, version, codes)
    await session.flush()
    return version


async def decline_version(
    session: AsyncSession, version_id: int, by: str, reason: str
) -> PriceVersion:
    version = await _staged_version(session, version_id)
    version.state = "discarded"
    version.reason = f"declined by {by}: {reason}"
    await session.flush()
    return version

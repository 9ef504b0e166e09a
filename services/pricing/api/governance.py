"""Price governance: guardrails on price feeds, approval of staged feeds, overrides with a
reason, price versions and their rollback.

A price feed (`POST /feeds/prices`, `?dry_run=true` to only see its diff) is applied in its
transaction, measured, and committed only when it breaks no guardrail and needs no approval;
otherwise it stops (`rejected`, the report names the rows and why) or waits (`staged`). Both
keep the uploaded file: an override or an approval here queues the same job again. An edit
of a list's entries is such a job; an edit of a derived list's parent or markup is a price
version with `list_changes`, staged, approved, declined and rolled back here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from starlette.background import BackgroundTask

from services.pricing.api.access import client_names, narrowed_diff, narrowed_summary
from services.pricing.api.policy import announce
from services.pricing.domain import governance
from services.pricing.store import versions
from services.pricing.store.feed_files import PRICES_KIND, diff_path
from services.pricing.store.feed_jobs import LOCK
from services.pricing.store.models import Guardrail, PriceVersion
from services.pricing.usecases import list_edits
from shared.auth import Principal, Role, allow
from shared.clock import utcnow
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.feeds.models import FeedJob, JobState
from shared.feeds.router import owner_of
from shared.fields import MAX_BIGINT, SINGLE_LINE, decimal, free_text
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import Conflict, FieldError, Forbidden, NotFound

router = APIRouter(tags=["price governance"])

READERS = (Role.ADMIN, Role.PRICING_MANAGER, Role.SALES_MANAGER)
GOVERNORS = (Role.ADMIN, Role.PRICING_MANAGER)  # set guardrails, override, roll back
APPROVERS = (Role.PRICING_MANAGER,)
Pages = Annotated[PageParams, Depends(page_params)]
PERCENT = decimal(places=2, ge=0, le=999)
VersionId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT, description="A price version")]
GuardrailCode = Annotated[
    str,
    PathParam(
        max_length=64,
        pattern=SINGLE_LINE,
        description="A price list code, or `*`: the default, also for clients' own prices",
    ),
]


class GuardrailWrite(BaseModel):
    max_row_change_percent: PERCENT | None = Field(
        None, description="A row's price may move at most this much, up or down"
    )
    max_feed_change_percent: PERCENT | None = Field(
        None, description="The feed's changed rows may move this much on average"
    )
    min_margin_percent: decimal(places=2, ge=-999, le=99) | None = Field(
        None, description="(price - SKU cost) / price, when the cost is in the currency"
    )
    enforce_floor: bool = Field(True, description="No price below the SKU's floor price")
    requires_approval: bool = Field(
        False, description="A change waits (staged) until a pricing manager approves it"
    )


class GuardrailRead(GuardrailWrite):
    list_code: str
    updated_at: datetime


def _guardrail_read(row: Guardrail) -> GuardrailRead:
    return GuardrailRead(
        list_code=row.list_code,
        max_row_change_percent=row.max_row_change_percent,
        max_feed_change_percent=row.max_feed_change_percent,
        min_margin_percent=row.min_margin_percent,
        enforce_floor=row.enforce_floor,
        requires_approval=row.requires_approval,
        updated_at=row.updated_at,
    )


@router.put(
    "/guardrails/{list_code}",
    response_model=GuardrailRead,
    summary="Set the guardrails of a price list's feeds (or `*`, the default)",
    description=(
        "A feed row breaks a guardrail when its price moves more than `max_row_change_percent`, "
        "goes below the SKU's floor, or leaves less than `min_margin_percent` over the SKU's "
        "cost; the feed breaks one when its changed rows of the list move more than "
        "`max_feed_change_percent` on average. A list without its own guardrail, and clients' "
        "own prices, follow `*`."
    ),
)
async def put_guardrail(
    list_code: GuardrailCode,
    body: GuardrailWrite,
    session: SessionDep,
    principal: allow(*GOVERNORS),
) -> GuardrailRead:
    if list_code != governance.DEFAULT:
        known = await session.scalar(
            text("SELECT 1 FROM price_lists WHERE code = :c"), {"c": list_code}
        )
        if known is None:
            raise NotFound(
                "No such price list.",
                errors=[FieldError(field="list_code", message=f"no list {list_code!r}")],
            )
    values = {**body.model_dump(), "updated_at": utcnow()}
    stmt = insert(Guardrail).values(list_code=list_code, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[Guardrail.list_code], set_=values)
    )
    row = await session.get(Guardrail, list_code, populate_existing=True)
    assert row is not None
    return _guardrail_read(row)


@router.get("/guardrails", response_model=list[GuardrailRead], summary="Every guardrail")
async def list_guardrails(session: SessionDep, principal: allow(*READERS)) -> list[GuardrailRead]:
    rows = await session.scalars(select(Guardrail).order_by(Guardrail.list_code))
    return [_guardrail_read(r) for r in rows]


@router.delete("/guardrails/{list_code}", status_code=204, summary="Remove a guardrail")
async def delete_guardrail(
    list_code: GuardrailCode, session: SessionDep, principal: allow(*GOVERNORS)
) -> Response:
    removed = await session.execute(delete(Guardrail).where(Guardrail.list_code == list_code))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound("No such guardrail.")
    return Response(status_code=204)


# Held feeds: override, approve, decline, their diff ----------------------------------------


class Reason(BaseModel):
    reason: free_text(1000, min_length=3) = Field(description="Why; kept on the version")


async def _price_job(session: Any, job_id: uuid.UUID) -> FeedJob:
    job = await session.get(FeedJob, job_id, with_for_update=True)
    if job is None or job.kind != PRICES_KIND:
        raise NotFound("No such price feed.")
    return job


def _queue_again(request: Request, job: FeedJob, **options: Any) -> None:
    """The same file runs again with these options; the job keeps its id and its owner."""
    job.options = {**(job.options or {}), **options}
    job.state, job.stage, job.progress = JobState.QUEUED, None, 0.0
    job.attempts, job.error, job.report_path = 0, None, None
    job.rows_rejected = job.rows_applied = None
    job.finished_at = None
    job.result = {}
    request.app.state.feed_wakeup.set()


class HeldFeed(BaseModel):
    id: uuid.UUID
    state: str
    options: dict[str, Any]


@router.post(
    "/feeds/prices/{job_id}/override",
    response_model=HeldFeed,
    summary="Apply a feed its guardrails stopped, with the reason (kept on its version)",
    description="Only a feed stopped by guardrails; it runs again and applies unless it waits for approval.",
)
async def override_guardrails(
    job_id: uuid.UUID,
    body: Reason,
    request: Request,
    session: SessionDep,
    principal: allow(*GOVERNORS),
) -> HeldFeed:
    job = await _price_job(session, job_id)
    if job.state != JobState.REJECTED or not (job.result or {}).get("guardrails"):
        raise Conflict("Only a price feed stopped by its guardrails can be overridden.")
    by = owner_of(principal)
    _queue_again(request, job, override={"by": by, "reason": body.reason, "at": str(utcnow())})
    return HeldFeed(id=job.id, state=job.state, options=job.options)


@router.post(
    "/feeds/prices/{job_id}/approve",
    response_model=HeldFeed,
    summary="Approve a staged price feed: a pricing manager other than who posted it",
)
async def approve_feed(
    job_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*APPROVERS)
) -> HeldFeed:
    job = await _price_job(session, job_id)
    if job.state != JobState.STAGED:
        raise Conflict("Only a staged price feed waits for approval.")
    by = owner_of(principal)
    if by in (job.owner, (job.options or {}).get("override", {}).get("by")):
        raise Forbidden("A second person approves: not who posted or overrode the feed.")
    _queue_again(request, job, approved_by=by)
    return HeldFeed(id=job.id, state=job.state, options=job.options)


@router.post(
    "/feeds/prices/{job_id}/decline",
    response_model=HeldFeed,
    summary="Decline a staged price feed: it never applies",
)
async def decline_feed(
    job_id: uuid.UUID,
    body: Reason,
    session: SessionDep,
    principal: allow(*APPROVERS),
) -> HeldFeed:
    job = await _price_job(session, job_id)
    if job.state != JobState.STAGED:
        raise Conflict("Only a staged price feed can be declined.")
    job.state, job.stage = JobState.REJECTED, "declined"
    job.error = f"declined by {owner_of(principal)}: {body.reason}"
    return HeldFeed(id=job.id, state=job.state, options=job.options)


@router.get(
    "/feeds/prices/{job_id}/diff",
    summary="The full diff of a dry run, a stopped or a staged feed, as CSV",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
    description=(
        "Columns `row,kind,target,sku,min_qty,currency,old_price,new_price,change_percent`: "
        "every stored price the feed adds (no old price), changes, or removes (no new price). "
        "A sales manager gets the list rows and its own clients' rows."
    ),
)
async def feed_diff(
    job_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: allow(*READERS, Role.INTEGRATOR),
) -> FileResponse:
    job = await session.get(FeedJob, job_id)
    if job is None or job.kind != PRICES_KIND:
        raise NotFound("No such price feed.")
    if Role.INTEGRATOR in principal.roles and job.owner != owner_of(principal):
        raise NotFound("No such price feed.")
    path = diff_path(Path(request.app.state.settings.data_dir), job.id)
    if not path.exists():
        raise NotFound("This feed has no kept diff (only dry runs, stopped and staged feeds).")
    names = await client_names(session, principal)
    cleanup = None
    if names is not None:
        path = await narrowed_diff(path, names)
        cleanup = BackgroundTask(path.unlink, missing_ok=True)
    return FileResponse(
        path, media_type="text/csv", filename=f"prices-{job.id}-diff.csv", background=cleanup
    )


# Versions ------------------------------------------------------------------------------------


class VersionRead(BaseModel):
    id: int
    state: str = Field(description="staged, applied, rolled_back or discarded (declined)")
    cause: str
    job_id: uuid.UUID | None
    created_by: str
    approved_by: str | None
    override_by: str | None
    override_reason: str | None
    reason: str | None = Field(description="Why this rollback was made")
    rollback_of: int | None
    rolled_back_by: int | None
    restorable: bool = Field(description="false: a factored full matrix; no row-level undo")
    rows: int = Field(description="Stored price rows it changed (its storage: ~60 bytes each)")
    diff: dict[str, Any]
    list_changes: list[dict[str, Any]] = Field(
        description="An edit of derived lists: each list's parent and markup before and after"
    )
    applied_at: datetime | None


def _version_read(v: PriceVersion, names: set[str] | None = None) -> VersionRead:
    """`names`: the clients the caller reaches (`client_names`), the only ones its diff shows."""
    read = VersionRead.model_validate(v, from_attributes=True)
    read.diff = narrowed_summary(read.diff, names)
    return read


NARROWED = "A sales manager sees only its own clients among a diff's `top_clients`."


@router.get(
    "/price-versions",
    response_model=Page[VersionRead],
    summary="Price versions, newest first",
    description=NARROWED,
)
async def list_versions(
    session: SessionDep, principal: allow(*READERS), params: Pages
) -> Page[VersionRead]:
    rows, cursor = await paginate(
        session, select(PriceVersion), [PriceVersion.id], params, newest_first=True
    )
    names = await client_names(session, principal)
    return Page(items=[_version_read(r, names) for r in rows], next_cursor=cursor)


@router.get(
    "/price-versions/{version_id}",
    response_model=VersionRead,
    summary="One price version",
    description=NARROWED,
)
async def get_version(
    version_id: VersionId, session: SessionDep, principal: allow(*READERS)
) -> VersionRead:
    found = await versions.get_version(session, version_id)
    if found is None:
        raise NotFound("No such price version.")
    return _version_read(found, await client_names(session, principal))


@router.post(
    "/price-versions/{version_id}/rollback",
    response_model=VersionRead,
    status_code=201,
    summary="Undo a price version in one call; the rollback is itself a new version",
    description=(
        "Every stored price the version changed gets its value from before. Refused (409) "
        "when a later change touched the same prices (roll that back first), when it was "
        "rolled back already, or for a factored full-matrix feed."
    ),
)
async def rollback_version(
    version_id: VersionId,
    body: Reason,
    request: Request,
    session: SessionDep,
    principal: allow(*GOVERNORS),
) -> VersionRead:
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    version = await versions.get_version(session, version_id, lock=True)
    if version is None:
        raise NotFound("No such price version.")
    if version.state != "applied":
        raise Conflict(f"Version {version_id} is {version.state}; only an applied one rolls back.")
    if version.list_changes:
        return await _roll_back_lists(request, session, principal, version, body.reason)
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
        created_by=owner_of(principal),
        diff=diff,
        rollback_of=version_id,
        table="rollback_diff",
    )
    rollback.reason = body.reason
    version.state, version.rolled_back_by = "rolled_back", rollback.id
    codes, companies = await versions.touched(session, "rollback_diff")
    announce(
        request,
        session,
        f"rollback:{version_id}",
        list_codes=codes,
        client_ids=companies,
        rows=rollback.rows,
    )
    record_event(session, versions.applied_event(rollback, list_codes=codes, client_ids=companies))
    await session.flush()
    return _version_read(rollback)


# Edits of derived lists (parent, markup): staged, approved or declined, rolled back ---------


async def _roll_back_lists(
    request: Request, session: Any, principal: Principal, version: PriceVersion, reason: str
) -> VersionRead:
    diff, codes = await list_edits.apply_version(session, version, "before")
    rollback = await versions.record_version(
        session,
        cause=f"rollback:{version.id}",
        created_by=owner_of(principal),
        diff=diff,
        rollback_of=version.id,
        table=None,
        list_changes=[
            {**c, "before": c["after"], "after": c["before"]} for c in version.list_changes
        ],
    )
    rollback.reason = reason
    version.state, version.rolled_back_by = "rolled_back", rollback.id
    _announce_lists(request, session, rollback, codes)
    await session.flush()
    return _version_read(rollback)


def _announce_lists(
    request: Request, session: Any, version: PriceVersion, codes: list[str]
) -> None:
    announce(request, session, version.cause, list_codes=codes)
    record_event(session, versions.applied_event(version, list_codes=codes, client_ids=[]))


async def _staged_version(session: Any, version_id: int) -> PriceVersion:
    version = await versions.get_version(session, version_id, lock=True)
    if version is None:
        raise NotFound("No such price version.")
    if version.state != "staged":
        raise Conflict(f"Version {version_id} is {version.state}; only a staged one waits.")
    return version


@router.post(
    "/price-versions/{version_id}/approve",
    response_model=VersionRead,
    summary="Approve a staged edit of a list: a pricing manager other than who made it",
    description=(
        "The list's parent and markup become what the edit said, if the list still stands "
        "where the edit found it (409 otherwise); the version is applied from now."
    ),
)
async def approve_version(
    version_id: VersionId, request: Request, session: SessionDep, principal: allow(*APPROVERS)
) -> VersionRead:
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    version = await _staged_version(session, version_id)
    by = owner_of(principal)
    if by in (version.created_by, version.override_by):
        raise Forbidden("A second person approves: not who made or overrode the edit.")
    diff, codes = await list_edits.apply_version(session, version, "after")
    now = utcnow()
    version.state, version.approved_by, version.diff = "applied", by, diff
    version.applied_at = now
    _announce_lists(request, session, version, codes)
    await session.flush()
    return _version_read(version)


@router.post(
    "/price-versions/{version_id}/decline",
    response_model=VersionRead,
    summary="Decline a staged edit of a list: it never applies",
)
async def decline_version(
    version_id: VersionId, body: Reason, session: SessionDep, principal: allow(*APPROVERS)
) -> VersionRead:
    version = await _staged_version(session, version_id)
    version.state = "discarded"
    version.reason = f"declined by {owner_of(principal)}: {body.reason}"
    await session.flush()
    return _version_read(version)

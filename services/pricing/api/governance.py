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
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from services.pricing.store import guardrails, versions
from services.pricing.store.feed_files import diff_path
from services.pricing.store.governance_models import Guardrail, PriceVersion
from services.pricing.usecases import governance as governance_flows
from services.pricing.usecases.access import client_names, narrowed_diff, narrowed_summary
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.feeds.models import FeedJob, JobState
from shared.feeds.router import owner_of
from shared.fields import MAX_BIGINT, SINGLE_LINE, decimal, multiline
from shared.files import DataDirDep
from shared.pagination import Page, PageDep, PageParams, page_params
from shared.problems import NotFound

router = APIRouter(tags=["price governance"])
pages = APIRouter(tags=["price governance"])

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
    return GuardrailRead.model_validate(row, from_attributes=True)


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
    row = await governance_flows.put_guardrail(session, list_code, body.model_dump())
    return _guardrail_read(row)


@pages.get("/guardrails", summary="Every guardrail, by price list")
async def list_guardrails(
    session: SessionDep, principal: allow(*READERS), page: PageDep
) -> Page[GuardrailRead]:
    return Page.of(await guardrails.every(session, page), _guardrail_read)


@router.delete("/guardrails/{list_code}", status_code=204, summary="Remove a guardrail")
async def delete_guardrail(
    list_code: GuardrailCode, session: SessionDep, principal: allow(*GOVERNORS)
) -> Response:
    await governance_flows.delete_guardrail(session, list_code)
    return Response(status_code=204)


# Held feeds: override, approve, decline, their diff ----------------------------------------


class Reason(BaseModel):
    reason: multiline(1000, min_length=3) = Field(description="Why; kept on the version")


class HeldFeed(BaseModel):
    id: uuid.UUID
    state: JobState
    options: dict[str, Any]


def _held(job: FeedJob) -> HeldFeed:
    return HeldFeed.model_validate(job, from_attributes=True)


@router.post(
    "/feeds/prices/{job_id}/override",
    response_model=HeldFeed,
    summary="Apply a feed its guardrails stopped, with the reason (kept on its version)",
    description="Only a feed stopped by guardrails; it runs again and applies unless it waits for approval.",
    responses={409: {"description": "Only a feed its guardrails stopped can be overridden"}},
)
async def override_guardrails(
    job_id: uuid.UUID,
    body: Reason,
    request: Request,
    session: SessionDep,
    principal: allow(*GOVERNORS),
) -> HeldFeed:
    job = await governance_flows.override_feed(
        session, job_id, owner_of(principal), body.reason, request.app.state.feed_wakeup.set
    )
    return _held(job)


@router.post(
    "/feeds/prices/{job_id}/approve",
    response_model=HeldFeed,
    summary="Approve a staged price feed: a pricing manager other than who posted it",
    responses={409: {"description": "The feed is not staged for approval"}},
)
async def approve_feed(
    job_id: uuid.UUID, request: Request, session: SessionDep, principal: allow(*APPROVERS)
) -> HeldFeed:
    job = await governance_flows.approve_feed(
        session, job_id, owner_of(principal), request.app.state.feed_wakeup.set
    )
    return _held(job)


@router.post(
    "/feeds/prices/{job_id}/decline",
    response_model=HeldFeed,
    summary="Decline a staged price feed: it never applies",
    responses={409: {"description": "The feed is not staged for approval"}},
)
async def decline_feed(
    job_id: uuid.UUID,
    body: Reason,
    session: SessionDep,
    principal: allow(*APPROVERS),
) -> HeldFeed:
    job = await governance_flows.decline_feed(session, job_id, owner_of(principal), body.reason)
    return _held(job)


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
    data_dir: DataDirDep,
    session: SessionDep,
    principal: allow(*READERS, Role.INTEGRATOR),
) -> FileResponse:
    job = await governance_flows.price_job(session, job_id, lock=False)
    if Role.INTEGRATOR in principal.roles and job.owner != owner_of(principal):
        raise NotFound("No such price feed.")
    path = diff_path(data_dir, job.id)
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
    state: Literal["staged", "applied", "rolled_back", "discarded"] = Field(
        description="`discarded`: declined"
    )
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
    rows, cursor = await governance_flows.versions_page(session, params)
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
    responses={
        409: {"description": "Already rolled back, changed again later, or a factored matrix feed"}
    },
)
async def rollback_version(
    version_id: VersionId, body: Reason, session: SessionDep, principal: allow(*GOVERNORS)
) -> VersionRead:
    rollback = await governance_flows.rollback_version(
        session, version_id, owner_of(principal), body.reason
    )
    return _version_read(rollback)


@router.post(
    "/price-versions/{version_id}/approve",
    response_model=VersionRead,
    summary="Approve a staged edit of a list: a pricing manager other than who made it",
    description=(
        "The list's parent and markup become what the edit said, if the list still stands "
        "where the edit found it (409 otherwise); the version is applied from now."
    ),
    responses={409: {"description": "The version is not staged, or its list moved meanwhile"}},
)
async def approve_version(
    version_id: VersionId, session: SessionDep, principal: allow(*APPROVERS)
) -> VersionRead:
    version = await governance_flows.approve_version(session, version_id, owner_of(principal))
    return _version_read(version)


@router.post(
    "/price-versions/{version_id}/decline",
    response_model=VersionRead,
    summary="Decline a staged edit of a list: it never applies",
    responses={409: {"description": "The version is not staged"}},
)
async def decline_version(
    version_id: VersionId, body: Reason, session: SessionDep, principal: allow(*APPROVERS)
) -> VersionRead:
    version = await governance_flows.decline_version(
        session, version_id, owner_of(principal), body.reason
    )
    return _version_read(version)

"""Editing a price list's entries by hand: the edit runs as a price feed of its rows.

The rows become the file a feed of that list would be (`list,sku,...,action`) and run at once
through the feed's own path: its checks name the row, its diff, guardrails, approval and
price version are the feed's. So a dry run of an edit predicts exactly what the edit applies,
an edit a guardrail stops can be overridden with a reason, an edit of a list that needs
approval waits as a staged feed job (`POST /feeds/prices/{job}/approve`), and an applied edit
is a price version that rollback undoes and `explain` as of a past moment sees.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query, Request, Response

from services.pricing.api.feeds import PRICES
from services.pricing.api.policy_common import ListCode
from services.pricing.api.policy_schemas import EntriesEdit, EntryEdit, PriceEditRead
from services.pricing.store import policy as store
from shared.auth import Role, allow
from shared.clock import utcnow
from shared.feeds.models import FeedFormat, FeedJob, FeedMode, FeedScope, JobState
from shared.feeds.router import owner_of
from shared.feeds.worker import process
from shared.fields import multiline
from shared.files import DataDirDep
from shared.problems import Conflict, FieldError, Problem, ProblemError, Unprocessable

router = APIRouter(tags=["commercial policy"])

EDITORS = (Role.ADMIN, Role.PRICING_MANAGER)  # who may post price feeds, less the ERP's key
DryRun = Annotated[bool, Query(description="Answer the diff and change nothing")]
OverrideReason = Annotated[
    multiline(1000, min_length=3) | None,
    Query(
        description="Apply past the guardrails; the reason is kept on the price version",
    ),
]


def _feed_file(path: Path, code: str, currency: str, rows: list[EntryEdit]) -> bytes:
    """The rows as the CSV a price feed of this list would be."""
    frame = pl.DataFrame(
        {
            "list": [code] * len(rows),
            "client": [None] * len(rows),
            "sku": [r.sku for r in rows],
            "min_qty": [str(r.min_qty) for r in rows],
            "price_minor": [r.price_minor for r in rows],
            "currency": [currency] * len(rows),
            "valid_from": [r.valid_from for r in rows],
            "valid_to": [r.valid_to for r in rows],
            "action": [r.action for r in rows],
        },
        schema_overrides={"client": pl.Utf8, "price_minor": pl.Int64},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path.read_bytes()


def _row_errors(rows: list[dict[str, Any]]) -> list[FieldError]:
    """Feed rows (from 1; 0 is the whole edit) as the body's `rows[i]` (from 0)."""
    return [
        FieldError(field="rows", message=r["reason"])
        if int(r["row"]) == 0
        else FieldError(
            field=f"rows[{int(r['row']) - 1}].{r['field']}",
            message=r["reason"],
            row=int(r["row"]),
        )
        for r in rows
    ]


def _answer(job: FeedJob, response: Response) -> PriceEditRead:
    result = job.result or {}
    if job.state == JobState.SUCCEEDED:
        return PriceEditRead(
            state="dry_run" if result.get("dry_run") else "applied",
            version=result.get("version"),
            job_id=job.id,
            diff=result.get("diff", {}),
        )
    if job.state == JobState.STAGED:
        response.status_code = 202
        return PriceEditRead(
            state="staged",
            job_id=job.id,
            diff=result.get("diff", {}),
            awaiting_approval=result.get("awaiting_approval", []),
        )
    extra = {"job_id": str(job.id), "diff": result.get("diff")}
    if job.state == JobState.REJECTED and result.get("guardrails"):
        raise Unprocessable(
            f"{job.error} Send it again with override_reason, or override job {job.id}.",
            slug="guardrails-broken",
            errors=_row_errors([{**r, "row": r["_row"]} for r in result["guardrails"]]),
            extra=extra,
        )
    if job.state == JobState.REJECTED and job.report_path:
        report = pl.read_csv(job.report_path, infer_schema=False).head(100)
        raise Unprocessable(job.error, errors=_row_errors(report.to_dicts()), extra=extra)
    raise ProblemError(job.error or "The edit failed; nothing changed.", status=500)


@router.post(
    "/price-lists/{code}/entries",
    response_model=PriceEditRead,
    summary="Edit a list's entries: upsert or delete rows, governed like a price feed",
    description=(
        "The rows run as a delta price feed of this list, at once: the same checks (each "
        "error names `rows[i]`), the same diff, guardrails and approval, the same price "
        "version. `dry_run=true` answers the diff and changes nothing. A guardrail breach is "
        "a 422 naming the rows; an admin or a pricing manager may send it again with "
        "`override_reason`. A list whose guardrail requires approval answers 202 `staged`: a "
        "second pricing manager approves the job (`POST /feeds/prices/{job_id}/approve`)."
    ),
    responses={
        202: {"model": PriceEditRead, "description": "Staged: waits for approval"},
        403: {"model": Problem, "description": "Only admins and pricing managers edit prices"},
        404: {"model": Problem, "description": "No such list"},
        409: {"model": Problem, "description": "A derived or matrix list has no own entries"},
        422: {"model": Problem, "description": "Bad rows, or a guardrail breach, by row"},
    },
)
async def edit_entries(
    code: ListCode,
    body: EntriesEdit,
    request: Request,
    response: Response,
    data_dir: DataDirDep,
    principal: allow(*EDITORS),
    dry_run: DryRun = False,
    override_reason: OverrideReason = None,
) -> PriceEditRead:
    sessionmaker = request.app.state.sessionmaker
    async with sessionmaker() as session:
        price_list = store.editable(await store.get_list(session, code))
        if price_list.parent_id is not None:
            raise Conflict(
                "A derived list has no entries of its own: edit its parent's, or its markup."
            )
    job_id = uuid.uuid4()
    path = data_dir / "feeds" / PRICES.kind / f"{job_id}.csv"
    content = await asyncio.to_thread(_feed_file, path, code, price_list.currency, body.rows)
    by = owner_of(principal)
    options: dict[str, Any] = {"source": "list_edit", "dry_run": dry_run}
    if override_reason is not None:
        options["override"] = {"by": by, "reason": override_reason, "at": str(utcnow())}
    now = utcnow()
    # Claimed at once (not queued), so the feed worker leaves it to this request; if this
    # process dies, the worker takes it over once its heartbeat is stale.
    job = FeedJob(
        id=job_id,
        kind=PRICES.kind,
        owner=by,
        owner_company_id=principal.company_id,
        content_sha256=hashlib.sha256(content).hexdigest(),
        format=FeedFormat.CSV,
        mode=FeedMode.ALL_OR_NOTHING,
        scope=FeedScope.DELTA,
        options=options,
        state=JobState.VALIDATING,
        stage="reading",
        attempts=1,
        file_path=str(path),
        size_bytes=len(content),
        started_at=now,
        heartbeat_at=now,
    )
    async with sessionmaker() as session, session.begin():
        session.add(job)
    await process(sessionmaker, PRICES, job, data_dir)
    async with sessionmaker() as session:
        done = await session.get(FeedJob, job_id)
    assert done is not None
    return _answer(done, response)

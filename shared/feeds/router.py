"""HTTP side of feeds: `POST /feeds/{kind}` streams the upload to disk and queues a job;
`GET /feeds/jobs...` shows the caller's jobs and their rejection reports."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared.apiconventions import examples
from shared.auth import Principal, PrincipalDep, Role, Roles
from shared.db import SessionDep
from shared.feeds.models import (
    FINISHED_STATES,
    FeedFormat,
    FeedJob,
    FeedMode,
    FeedScope,
    JobState,
)
from shared.feeds.spec import FeedSpec
from shared.files import save_stream
from shared.links import public_path
from shared.pagination import Page, PageParams, page_params, paginate
from shared.problems import (
    Conflict,
    FieldError,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)

CONTENT_TYPES = {
    "text/csv": FeedFormat.CSV,
    "application/x-ndjson": FeedFormat.JSONL,
    "application/jsonl": FeedFormat.JSONL,
    "application/json-lines": FeedFormat.JSONL,
    "application/vnd.apache.parquet": FeedFormat.PARQUET,
    "application/x-parquet": FeedFormat.PARQUET,
}
CHUNK_LOG_EVERY = 1 << 20


class FeedJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    state: JobState = Field(description="`staged`: checked and waiting for an approval")
    mode: FeedMode
    scope: FeedScope
    format: FeedFormat
    size_bytes: int
    content_sha256: str
    rows_total: int | None
    rows_rejected: int | None
    rows_applied: int | None
    progress: float = Field(description="0 to 1")
    stage: str | None
    error: str | None
    result: dict[str, Any] = Field(description="What applying did: counts per kind of change")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rejections_url: str | None = None


def job_examples(service: str, accepted: dict[str, Any], finished: dict[str, Any]) -> None:
    """Show a service's feed job in its document: as an upload's 202 answers it (`accepted`
    over a queued job: nothing read yet), then as it ended (`finished` over that)."""
    queued = {
        "state": "queued",
        "mode": "all_or_nothing",
        "scope": "delta",
        "format": "csv",
        "rows_total": None,
        "rows_rejected": None,
        "rows_applied": None,
        "progress": 0.0,
        "stage": None,
        "error": None,
        "result": {},
        "started_at": None,
        "finished_at": None,
        "rejections_url": None,
        **accepted,
    }
    done = {**queued, "progress": 1.0, "stage": "done", **finished}
    examples(queued, done, service=service)(FeedJobRead)


def owner_of(principal: Principal) -> str:
    return f"{principal.kind}:{principal.subject}"


def _read(job: FeedJob, request: Request) -> FeedJobRead:
    read = FeedJobRead.model_validate(job)
    if job.report_path:
        read.rejections_url = public_path(request, "feed_job_rejections", job_id=str(job.id))
    return read


def _format(content_type: str | None, explicit: FeedFormat | None) -> FeedFormat:
    if explicit is not None:
        return explicit
    media = (content_type or "").split(";")[0].strip().lower()
    if media in CONTENT_TYPES:
        return CONTENT_TYPES[media]
    raise UnsupportedMediaType(
        "Send the feed as text/csv, application/x-ndjson or application/vnd.apache.parquet, "
        "or name it with ?format=csv|jsonl|parquet."
    )


async def _store_upload(request: Request, path: Path, limit: int) -> tuple[int, str]:
    """Stream the body to `path`; (size, sha256). A declared size over the limit fails at once."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The feed is larger than the limit of {limit} bytes.")
    size, sha = await save_stream(request.stream(), path, limit)
    if size == 0:
        path.unlink(missing_ok=True)
        raise Unprocessable(
            "The feed is empty.", errors=[FieldError(field="body", message="is empty")]
        )
    return size, sha


def _upload_endpoint(spec: FeedSpec) -> Any:
    async def upload(
        request: Request,
        response: Response,
        session: SessionDep,
        principal: Annotated[Principal, Depends(Roles(*spec.roles))],
        mode: Annotated[
            FeedMode,
            Query(
                description="all_or_nothing: one bad row rejects the feed; skip_bad_rows: apply the rest"
            ),
        ] = FeedMode.ALL_OR_NOTHING,
        scope: Annotated[
            FeedScope,
            Query(description="delta: upsert these rows; full: also retire what is absent"),
        ] = FeedScope.DELTA,
        format: Annotated[
            FeedFormat | None, Query(description="Overrides the Content-Type")
        ] = None,
        dry_run: Annotated[
            bool,
            Query(description="Report what the feed would change, and change nothing"),
        ] = False,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> FeedJobRead:
        if dry_run and not spec.supports_dry_run:
            raise Unprocessable(
                f"The {spec.kind} feed has no dry run.",
                errors=[FieldError(field="dry_run", message="not supported by this feed")],
            )
        if scope == FeedScope.FULL and not spec.supports_full:
            raise Unprocessable(
                f"The {spec.kind} feed has no full mode.",
                errors=[FieldError(field="scope", message="only delta is supported")],
            )
        if scope == FeedScope.FULL and mode == FeedMode.SKIP_BAD_ROWS:
            # A full feed retires what it leaves out; a skipped row would retire a good record.
            raise Unprocessable(
                "A full feed must be all_or_nothing.",
                errors=[FieldError(field="mode", message="full feeds cannot skip bad rows")],
            )
        fmt = _format(request.headers.get("content-type"), format)
        settings = request.app.state.settings
        job_id = uuid.uuid4()
        path = Path(settings.data_dir) / "feeds" / spec.kind / f"{job_id}.{fmt.value}"
        size, sha = await _store_upload(request, path, settings.feed_max_bytes)
        owner = owner_of(principal)
        if idempotency_key:
            existing = await _job_by_key(session, owner, spec.kind, idempotency_key)
            if existing is not None:
                path.unlink(missing_ok=True)
                return _replay(existing, sha, request, response)
        job = FeedJob(
            id=job_id,
            kind=spec.kind,
            owner=owner,
            owner_company_id=principal.company_id,
            idempotency_key=idempotency_key,
            content_sha256=sha,
            format=fmt,
            mode=mode,
            scope=scope,
            options={"dry_run": True} if dry_run else {},
            file_path=str(path),
            size_bytes=size,
        )
        session.add(job)
        try:
            await session.flush()
        except IntegrityError:
            # Two uploads with one key at the same moment: the other one won.
            await session.rollback()
            path.unlink(missing_ok=True)
            existing = await _job_by_key(session, owner, spec.kind, idempotency_key or "")
            if existing is None:
                raise
            return _replay(existing, sha, request, response)
        await session.commit()
        request.app.state.feed_wakeup.set()
        response.status_code = 202
        response.headers["Location"] = public_path(request, "feed_job", job_id=str(job.id))
        return _read(job, request)

    return upload


async def _job_by_key(session: Any, owner: str, kind: str, key: str) -> FeedJob | None:
    return await session.scalar(
        select(FeedJob).where(
            FeedJob.owner == owner, FeedJob.kind == kind, FeedJob.idempotency_key == key
        )
    )


def _replay(job: FeedJob, sha: str, request: Request, response: Response) -> FeedJobRead:
    if job.content_sha256 != sha:
        raise Unprocessable(
            "This Idempotency-Key was used for a different file.",
            errors=[FieldError(field="Idempotency-Key", message="already used with other content")],
        )
    response.status_code = 200
    response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = public_path(request, "feed_job", job_id=str(job.id))
    return _read(job, request)


async def _visible_job(session: Any, principal: Principal, job_id: uuid.UUID) -> FeedJob:
    job = await session.get(FeedJob, job_id)
    # Another caller's job answers 404: an integrator key sees only its own feeds.
    if job is None or (Role.ADMIN not in principal.roles and job.owner != owner_of(principal)):
        raise NotFound("No such feed job.")
    return job


def feed_router(specs: Sequence[FeedSpec]) -> APIRouter:
    # Other /feeds/<word>/... routes of a service (a marketplace feed) must be included before
    # this router, or /feeds/{job_id}/rejections would shadow them.
    router = APIRouter(prefix="/feeds", tags=["feeds"])
    readers = Roles(*frozenset().union(*(s.roles for s in specs)))
    for spec in specs:
        router.add_api_route(
            f"/{spec.kind}",
            _upload_endpoint(spec),
            methods=["POST"],
            status_code=202,
            response_model=FeedJobRead,
            summary=spec.title,
            description=_describe(spec),
            name=f"upload_{spec.kind}_feed",
            responses={
                200: {"description": "Replay: this Idempotency-Key and file were already accepted"},
                413: {"description": "The file is larger than the limit"},
                415: {"description": "Unknown file format"},
            },
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/x-ndjson": {"schema": {"type": "string"}},
                        "application/vnd.apache.parquet": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                    },
                }
            },
        )

    @router.get(
        "/jobs", summary="Feed jobs of the caller, newest first", dependencies=[Depends(readers)]
    )
    async def list_jobs(
        session: SessionDep,
        principal: PrincipalDep,
        params: Annotated[PageParams, Depends(page_params)],
        request: Request,
        kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
        state: JobState | None = None,
    ) -> Page[FeedJobRead]:
        stmt = select(FeedJob).where(FeedJob.kind.in_([s.kind for s in specs]))
        if Role.ADMIN not in principal.roles:
            stmt = stmt.where(FeedJob.owner == owner_of(principal))
        if kind:
            stmt = stmt.where(FeedJob.kind == kind)
        if state:
            stmt = stmt.where(FeedJob.state == state)
        rows, cursor = await paginate(
            session, stmt, [FeedJob.created_at, FeedJob.id], params, newest_first=True
        )
        return Page(items=[_read(r, request) for r in rows], next_cursor=cursor)

    @router.get(
        "/{job_id}",
        summary="One feed job: state, progress, counts",
        name="feed_job",
        dependencies=[Depends(readers)],
    )
    async def get_job(
        job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, request: Request
    ) -> FeedJobRead:
        return _read(await _visible_job(session, principal, job_id), request)

    @router.get(
        "/{job_id}/rejections",
        summary="The rejected rows of a job as CSV: row, field, reason, value",
        name="feed_job_rejections",
        dependencies=[Depends(readers)],
        response_class=FileResponse,
        responses={
            200: {"content": {"text/csv": {}}},
            409: {"description": "The job has not finished"},
        },
    )
    async def rejections(
        job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
    ) -> Response:
        job = await _visible_job(session, principal, job_id)
        if job.state not in FINISHED_STATES:
            raise Conflict("The job has not finished yet.")
        if not job.report_path:
            return Response("row,field,reason,value\n", media_type="text/csv")
        return FileResponse(
            job.report_path, media_type="text/csv", filename=f"{job.kind}-{job.id}-rejections.csv"
        )

    return router


def _describe(spec: FeedSpec) -> str:
    lines = [
        spec.description,
        "",
        "The body is the file itself (CSV with a header row, JSON lines, or Parquet), streamed. "
        "The answer is 202 with the job; poll `GET /feeds/{id}`. Rejected rows are listed "
        "with their row number (1 = first record), field and reason at `rejections_url`.",
        "",
        f"Key: `{', '.join(spec.key)}`. Columns:",
        "",
        "| column | type | required | notes |",
        "|---|---|---|---|",
    ]
    for c in spec.columns:
        notes = c.description
        if c.choices:
            notes += f" One of: {', '.join(c.choices)}."
        if c.max_length:
            notes += f" At most {c.max_length} characters."
        lines.append(
            f"| `{c.name}` | {c.type.value} | {'yes' if c.required else 'no'} | {notes.strip()} |"
        )
    return "\n".join(lines)

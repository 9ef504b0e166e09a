"""The feed job: one uploaded file and its life from upload to applied (or rejected)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.db import KernelBase


class JobState(StrEnum):
    QUEUED = "queued"  # file stored, waiting for a worker
    VALIDATING = "validating"
    APPLYING = "applying"
    SUCCEEDED = "succeeded"  # applied (all rows, or the valid ones in skip_bad_rows mode)
    REJECTED = "rejected"  # all_or_nothing and some rows were bad: nothing changed
    FAILED = "failed"  # unreadable file or an internal error: nothing changed
    STAGED = "staged"  # checked and waiting for someone's approval: nothing changed yet


FINISHED_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.REJECTED, JobState.FAILED, JobState.STAGED}
)


class FeedMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    SKIP_BAD_ROWS = "skip_bad_rows"


class FeedFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


class FeedScope(StrEnum):
    DELTA = "delta"  # upsert the rows given
    FULL = "full"  # the rows given are the whole truth: what is absent is retired


class FeedJob(KernelBase):
    __tablename__ = "feed_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(200))  # "api_key:<id>" or "user:<id>"
    owner_company_id: Mapped[uuid.UUID | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    file_path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rows_total: Mapped[int | None] = mapped_column(BigInteger)
    rows_rejected: Mapped[int | None] = mapped_column(BigInteger)
    rows_applied: Mapped[int | None] = mapped_column(BigInteger)
    progress: Mapped[float] = mapped_column(default=0.0, server_default="0")
    stage: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    report_path: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("owner", "kind", "idempotency_key"),
        Index("ix_feed_jobs_queued", "created_at", postgresql_where=text("state = 'queued'")),
        Index("ix_feed_jobs_owner_created", "owner", "created_at"),
    )

"""File attachments: a row that stands for a file kept on disk beside the database. One set of
columns for every such table, one way to take an upload in, one way to give the file back.

The upload's type is checked against its first bytes before anything is written, the file is
streamed to disk (hashed on the way, never whole in memory), and the row is flushed in the
caller's transaction; when the same file is already attached (a unique index over its hash)
the file just written is removed and the caller's own 409 is raised."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, String, Text, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.clock import utcnow
from shared.files import Sniffable, checked_type, save_stream, upload_chunks
from shared.problems import Conflict

MAX_FILE_NAME = 300


class AttachedFile:
    """The columns of a row that stands for a file (mix into a table's model)."""

    file_name: Mapped[str] = mapped_column(String(MAX_FILE_NAME))
    content_type: Mapped[str] = mapped_column(String(100))
    file_path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class AttachedFileRead(BaseModel):
    """What an answer says of a kept file (its download is a route of its own)."""

    model_config = ConfigDict(from_attributes=True)

    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class NamedUpload(Sniffable, Protocol):
    filename: str | None


@dataclass(frozen=True)
class Upload:
    """A file on its way in: its name as sent, its checked type, its bytes as they stream."""

    file_name: str
    content_type: str
    chunks: AsyncIterator[bytes]

    @classmethod
    async def of(cls, file: NamedUpload, allowed: Collection[str], default_name: str) -> Upload:
        """An uploaded form file whose declared type is allowed and agrees with its first
        bytes (422 otherwise). The name keeps no directory part."""
        content_type = await checked_type(file, allowed)
        name = Path(file.filename or default_name).name[:MAX_FILE_NAME] or default_name
        return cls(name, content_type, upload_chunks(file))  # type: ignore[arg-type]

    @classmethod
    def of_bytes(cls, file_name: str, content_type: str, data: bytes) -> Upload:
        """A file already in memory (made by us, or by a test), its type taken as said."""

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return cls(file_name, content_type, chunks())


async def attach(
    session: AsyncSession,
    row: AttachedFile,
    upload: Upload,
    directory: Path,
    *,
    limit: int,
    duplicate: str,
) -> None:
    """Keep `upload` as `directory/<row id>` and flush `row` (which has every other column set)
    with the file's columns. Over `limit` bytes: 413; already attached: 409 `duplicate`."""
    row_id = getattr(row, "id", None) or uuid.uuid4()
    row.id = row_id  # type: ignore[attr-defined]
    path = directory / str(row_id)
    size, sha = await save_stream(upload.chunks, path, limit)
    row.file_name = upload.file_name
    row.content_type = upload.content_type
    row.file_path = str(path)
    row.size_bytes = size
    row.sha256 = sha
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        path.unlink(missing_ok=True)
        raise Conflict(duplicate) from exc


def download(row: AttachedFile) -> FileResponse:
    """The file of `row`, under the name it was sent with."""
    return FileResponse(row.file_path, media_type=row.content_type, filename=row.file_name)

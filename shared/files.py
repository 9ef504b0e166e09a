"""Saving an upload to disk as it streams: never whole in memory, hashed on the way."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from shared.problems import PayloadTooLarge

# What ERP sends as documents (statements, invoices, waybills, certificates).
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/csv",
        "image/jpeg",
        "image/png",
        "application/xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def upload_chunks(file: Readable, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """An UploadFile read in chunks, for save_stream."""
    while chunk := await file.read(size):
        yield chunk


async def save_stream(chunks: AsyncIterator[bytes], path: Path, limit: int) -> tuple[int, str]:
    """Write `chunks` to `path`; (size, sha256). Over `limit` bytes: 413 and no file left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The upload is larger than the limit of {limit} bytes.")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()

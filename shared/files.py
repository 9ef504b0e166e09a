"""Uploads: the declared type checked against the file's first bytes, then saved to disk as it
streams (never whole in memory, hashed on the way)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, Request

from shared.problems import FieldError, PayloadTooLarge, Unprocessable


async def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


# Where the service keeps its files (uploads, kept feed files): the settings' `data_dir`
DataDirDep = Annotated[Path, Depends(_data_dir)]

PDF = "application/pdf"
CSV = "text/csv"
JPEG = "image/jpeg"
PNG = "image/png"
XML = "application/xml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What ERP sends as documents (statements, invoices, waybills, certificates).
DOCUMENT_TYPES = frozenset({PDF, CSV, JPEG, PNG, XML, XLSX})

# How each binary type begins (its magic number); XLSX is a ZIP container.
SIGNATURES = {
    PDF: b"%PDF-",
    JPEG: b"\xff\xd8\xff",
    PNG: b"\x89PNG\r\n\x1a\n",
    XLSX: b"PK\x03\x04",
}
# A page a browser would run: never a document, whatever it is declared as.
WEB_PAGE = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe")
SNIFF_BYTES = 4096


def content_problem(content_type: str, head: bytes) -> str | None:
    """Why the first bytes of a file are not of `content_type`, or None when they may be."""
    signature = SIGNATURES.get(content_type)
    if signature is not None:
        return None if head.startswith(signature) else f"its content is not {content_type}"
    if b"\x00" in head:
        return "is binary, not text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "is not UTF-8 text"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(WEB_PAGE):
        return "is a web page"
    if content_type == XML and not start.startswith(b"<"):
        return "is not XML"
    return None


class Sniffable(Protocol):
    content_type: str | None

    async def read(self, size: int = -1) -> bytes: ...
    async def seek(self, offset: int) -> None: ...


async def checked_type(file: Sniffable, allowed: Collection[str], field: str = "file") -> str:
    """The declared type of an uploaded file, once it is allowed here and the file's first
    bytes agree with it (an HTML page declared as application/pdf does not): 422 otherwise."""
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    if content_type not in allowed:
        raise Unprocessable(
            "Unsupported document type.",
            errors=[FieldError(field=field, message=f"must be one of {sorted(allowed)}")],
        )
    head = await file.read(SNIFF_BYTES)
    await file.seek(0)
    problem = content_problem(content_type, head)
    if problem is not None:
        raise Unprocessable(
            f"The file is not the {content_type} it is declared as.",
            errors=[FieldError(field=field, message=problem)],
        )
    return content_type


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

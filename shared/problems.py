"""RFC 9457 problem details: every error any service returns has this shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://errors.b2b.example/"
log = logging.getLogger(__name__)


# Counted the same everywhere: feeds, uploads, pasted lines and JSON batches.
RowNumber = Annotated[
    int,
    Field(
        description="1 = the first record of a file (a CSV header row is not one) or the first "
        "element of a list sent; a field path's `[i]` counts from 0, as in JSON"
    ),
]


class FieldError(BaseModel):
    """One rejected field; `row` is set when the field belongs to a row of a batch or feed."""

    field: str
    message: str
    row: RowNumber | None = None
    type: str | None = None


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class ProblemError(Exception):
    """Raise from any layer; the handler turns it into a problem+json response."""

    status: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        slug: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(ProblemError):
    status, slug = 404, "not-found"


class Conflict(ProblemError):
    status, slug = 409, "conflict"


class Forbidden(ProblemError):
    status, slug = 403, "forbidden"


class Unauthorized(ProblemError):
    status, slug = 401, "unauthorized"


class Unprocessable(ProblemError):
    status, slug = 422, "validation-error"


class PreconditionFailed(ProblemError):
    status, slug = 412, "precondition-failed"


class ServiceUnavailable(ProblemError):
    status, slug = 503, "service-unavailable"


class PayloadTooLarge(ProblemError):
    status, slug = 413, "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status, slug = 415, "unsupported-media-type"


class TooManyRequests(ProblemError):
    status, slug = 429, "rate-limited"


class BadGateway(ProblemError):
    status, slug = 502, "bad-gateway"


class GatewayTimeout(ProblemError):
    status, slug = 504, "upstream-timeout"


def problem_response(
    request: Request,
    status: int,
    *,
    slug: str | None = None,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = Problem(
        type=PROBLEM_BASE + slug if slug else "about:blank",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        errors=errors or [],
    ).model_dump(exclude_none=True)
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location_to_field(loc: tuple[Any, ...]) -> tuple[str, int | None]:
    """('body', 'lines', 3, 'qty') -> ('lines[3].qty', 4): the field path (indexes from 0, as
    in JSON) and the row if any (from 1: the first element is row 1, as in every feed)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    row = next((p + 1 for p in parts if isinstance(p, int)), None)
    field = ""
    for p in parts:
        field += f"[{p}]" if isinstance(p, int) else (f".{p}" if field else str(p))
    return field or ".".join(map(str, loc)), row


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        field, row = _location_to_field(tuple(err.get("loc", ())))
        out.append(
            FieldError(field=field, message=err.get("msg", ""), row=row, type=err.get("type"))
        )
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            slug=exc.slug,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            request,
            422,
            slug="validation-error",
            detail="The request is invalid; see errors.",
            errors=validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request, exc.status_code, detail=str(exc.detail), headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(request, 500, slug="internal", detail="Internal error.")

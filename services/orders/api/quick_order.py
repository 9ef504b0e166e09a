"""A quick order's lines as the request sends them: pasted text (`SKU quantity [unit]` per
line), a CSV body, or a CSV file in a form; for carts and requisition lists alike."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from services.orders.domain.lines import WantedLine, parse_csv, parse_pasted
from shared.problems import Unprocessable

MAX_QUICK_ORDER_BYTES = 2 * 1024 * 1024


async def read_wanted_lines(request: Request) -> list[WantedLine]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type == "multipart/form-data":
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Unprocessable("Send the file in the `file` field.")
        data = await file.read(MAX_QUICK_ORDER_BYTES + 1)
        content_type = "text/csv"
    else:
        data = await request.body()
    if len(data) > MAX_QUICK_ORDER_BYTES:
        raise Unprocessable(f"A quick order is at most {MAX_QUICK_ORDER_BYTES} bytes.")
    try:
        return parse_csv(data) if content_type == "text/csv" else parse_pasted(data.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(f"The list cannot be read: {exc}") from exc

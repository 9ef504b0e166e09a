"""Reading a version-2 list as its callers do: page after page, following `next_cursor`."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient


async def in_pages_of_one(http: AsyncClient, path: str, params: dict[str, Any]) -> list[Any]:
    """Every item of the list at `/v2<path>`, one item a page, each page holding exactly one."""
    items: list[Any] = []
    cursor = None
    while True:
        asked = {**params, "limit": 1} | ({"cursor": cursor} if cursor else {})
        answer = await http.get("/v2" + path, params=asked)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) == 1, (path, page)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items

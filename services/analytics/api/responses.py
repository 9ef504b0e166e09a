"""The 404s that routes about one client document, worded once."""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]

UNKNOWN_CLIENT: Responses = {
    404: {"description": "Unknown client, or one the caller does not reach"}
}
UNASSIGNED_CLIENT: Responses = {
    404: {"description": "A client accounts does not have, or not assigned to the manager"}
}

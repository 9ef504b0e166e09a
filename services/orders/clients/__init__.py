"""What orders asks other services now, over HTTP: prices (pricing), credit (accounts),
stock reservations and unit conversions (catalog). One module per service."""

from __future__ import annotations

from typing import Any

from shared.problems import BadGateway, ProblemError


def unexpected(service: str, response: Any) -> ProblemError:
    """An answer the call does not understand: a 502 naming the service and what it said."""
    return BadGateway(f"{service} answered {response.status_code}: {response.text[:300]}")

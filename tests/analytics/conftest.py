"""Every analytics test starts with the clock at world.NOW: the facts are built relative to it,
and a run lasting minutes must not carry the clock into another day (or month) between
building the facts and measuring them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.clock import moved_to
from tests.analytics.world import NOW


@pytest.fixture
async def analytics(start_app):
    """The analytics service, with no periodic recompute: a test recomputes when it says so."""
    return await start_app("analytics", recompute_interval_seconds=0)


@pytest.fixture(autouse=True)
def clock_at_now() -> Iterator[None]:
    with moved_to(NOW):
        yield

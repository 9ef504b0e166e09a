"""Pricing test fixtures. Helpers to build a priced world are in tests/pricing/world.py."""

import pytest


@pytest.fixture
async def pricing(start_app):
    return await start_app("pricing")

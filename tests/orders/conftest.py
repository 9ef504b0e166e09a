import pytest

from tests.orders.world import open_shop


@pytest.fixture
async def shop(start_app):
    return await open_shop(start_app)

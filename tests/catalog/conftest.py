import pytest


@pytest.fixture
async def catalog(start_app):
    return await start_app("catalog")

import pytest


@pytest.fixture
async def accounts(start_app):
    """The accounts app with its pool; feed jobs are run by the test (process_next)."""
    return await start_app("accounts")

import pytest


@pytest.fixture
async def accounts(start_app):
    """The accounts app with its pool; feed jobs are run by the test (process_next)."""
    return await start_app("accounts")


@pytest.fixture
async def ctx(accounts):
    """What the use cases are given, on the accounts app's database and settings."""
    from services.accounts.usecases.context import Collaborators

    return Collaborators.of(accounts)

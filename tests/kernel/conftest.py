"""What the kernel's database tests share: a pool on the catalog test database, with the
scratch widget tables created."""

from __future__ import annotations

import pytest

from shared.app import asyncpg_dsn
from shared.db import create_engine, create_sessionmaker
from tests.kernel.widgets import create_widget_tables


@pytest.fixture
async def sessionmaker(service_settings, database_urls):
    settings = service_settings("catalog")  # registers the database for cleanup
    await create_widget_tables(asyncpg_dsn(database_urls["catalog"]))
    engine = create_engine(settings.database_url, pool_size=2)
    yield create_sessionmaker(engine, service="catalog")
    await engine.dispose()

"""The tables the migrations build are the tables the models declare: a column, index or
constraint added to a model without a revision (or the other way round) fails here, before a
deployment finds it. Moving columns into kernel mixins must leave this empty too."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.kernel import KERNEL_METADATA
from shared.migrations import upgrade
from shared.runtime import DATABASE_SERVICES, create_database


def metadata_of(service: str) -> list[Any]:
    """The kernel's tables and every table of the service's store modules."""
    store = importlib.import_module(f"services.{service}.store")
    for module in pkgutil.iter_modules(store.__path__):
        importlib.import_module(f"{store.__name__}.{module.name}")
    models = importlib.import_module(f"services.{service}.store.models")
    return [KERNEL_METADATA, models.Base.metadata]


def differences(connection: Any, metadata: list[Any]) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, metadata)


async def _differences_in(url: str, service: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(differences, metadata_of(service))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", DATABASE_SERVICES)
def test_the_migrated_database_is_what_the_models_declare(service, database_urls):
    # A database of its own, migrated from nothing: the tests' databases hold scratch tables.
    url = make_url(database_urls[service])
    url = url.set(database=f"{url.database}_drift").render_as_string(hide_password=False)
    asyncio.run(create_database(url, drop_first=True))
    upgrade(service, url)
    assert asyncio.run(_differences_in(url, service)) == []

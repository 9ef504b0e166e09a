"""The tables the migrations build are the tables the models declare: a column, index or
constraint added to a model without a revision (or the other way round) fails here, before a
deployment finds it. Moving columns into kernel mixins must leave this empty too."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared.kernel import KERNEL_METADATA
from shared.runtime import DATABASE_SERVICES


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


@pytest.mark.parametrize("service", DATABASE_SERVICES)
async def test_the_migrated_database_is_what_the_models_declare(service, database_urls):
    engine = create_async_engine(database_urls[service])
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(differences, metadata_of(service))
    finally:
        await engine.dispose()
    assert found == []

import pytest
from sqlalchemy.dialects.postgresql import insert

from services.notifications.builtin import rule_rows, template_rows
from services.notifications.store.models import Rule, Template
from shared.db import create_engine

pytest_plugins = ["shared.testing.fixtures"]


@pytest.fixture
async def notification_rules(database_urls):
    """The built-in rules and templates the migration seeds, which the fixtures empty after
    every test that touches notifications."""
    engine = create_engine(database_urls["notifications"], pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Rule).values(rule_rows()).on_conflict_do_nothing())
            await conn.execute(insert(Template).values(template_rows()).on_conflict_do_nothing())
    finally:
        await engine.dispose()

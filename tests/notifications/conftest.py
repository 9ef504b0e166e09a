import pytest
from sqlalchemy.dialects.postgresql import insert

from services.notifications.builtin import SALES_RULES, SALES_TEMPLATES, rule_rows, template_rows
from services.notifications.store.models import Rule, Template
from shared.db import create_engine
from tests.notifications.world import Receiver, SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
async def receiver():
    made: list[Receiver] = []

    async def make(**kwargs) -> Receiver:
        r = Receiver(**kwargs)
        await r.start()
        made.append(r)
        return r

    yield make
    for r in made:
        await r.stop()


@pytest.fixture
def notifications_settings(smtp):
    """Settings of a notifications app with its workers on, fast to retry."""
    return {
        "run_workers": True,
        "smtp_port": smtp.port,
        "delivery_poll_seconds": 0.2,
        "email_retry_max_seconds": 0.5,
        "webhook_backoff_base_seconds": 0.2,
        "webhook_backoff_max_seconds": 1.0,
    }


@pytest.fixture(autouse=True)
async def builtin_rules(database_urls):
    """The built-ins the migration seeds; the fixtures empty every table after a test."""
    engine = create_engine(database_urls["notifications"], pool_size=1)
    try:
        async with engine.begin() as conn:
            for rules, templates in ((None, None), (SALES_RULES, SALES_TEMPLATES)):
                await conn.execute(insert(Rule).values(rule_rows(rules)).on_conflict_do_nothing())
                await conn.execute(
                    insert(Template).values(template_rows(templates)).on_conflict_do_nothing()
                )
    finally:
        await engine.dispose()

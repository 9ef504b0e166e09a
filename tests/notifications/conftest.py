import pytest

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
    """Settings of a notifications app with its workers on, fast to retry, calling webhook
    receivers on this machine (127.0.0.1: allowed in tests only)."""
    return {
        "run_workers": True,
        "webhook_allow_private_urls": True,
        "smtp_port": smtp.port,
        "delivery_poll_seconds": 0.2,
        "email_retry_max_seconds": 0.5,
        "webhook_backoff_base_seconds": 0.2,
        "webhook_backoff_max_seconds": 1.0,
    }


@pytest.fixture(autouse=True)
async def builtin_rules(notification_rules):
    """The built-ins the migration seeds; the fixtures empty every table after a test."""

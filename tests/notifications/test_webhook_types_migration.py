"""Migration notifications_0008: subscriptions stored before the API checked their event types
had CloudEvents spellings that never matched; they are made short, and what still never
matches is reported, not dropped."""

from __future__ import annotations

import logging
import uuid

from alembic import command
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import alembic_config
from tests.notifications.world import apply, order_placed, rows


async def migrate(database_url: str, revision: str) -> None:
    """Alembic up or down to `revision` on the test's database, as `make migrate` would."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)

    def step(connection) -> None:
        config = alembic_config("notifications", database_url)
        config.attributes["connection"] = connection
        (command.upgrade if revision == "head" else command.downgrade)(config, revision)

    try:
        async with engine.connect() as connection:
            await connection.run_sync(step)
            await connection.commit()
    finally:
        await engine.dispose()


async def test_stored_cloudevents_spellings_are_made_short_and_the_rest_reported(
    start_app, database_urls, caplog
):
    app = await start_app("notifications")
    url = database_urls["notifications"]
    company = uuid.uuid4()
    stored = {  # as subscriptions were stored before the API checked their types
        "seller": (
            None,
            ["com.b2b.order.placed.v1", "order.placed.v1", "com.b2b.stock.changed.v1"],
        ),
        "typo": (company, ["com.b2b.order.shipped.v1", "order.placed"]),
        "scoped": (company, ["product.upserted.v1"]),
        "all": (None, ["*"]),
    }
    ids = {name: uuid.uuid4() for name in stored}
    await migrate(url, "notifications_0007")
    try:
        async with app.state.sessionmaker() as session, session.begin():
            for name, (company_id, event_types) in stored.items():
                await session.execute(
                    text(
                        "INSERT INTO webhook_subscriptions (id, company_id, url, event_types,"
                        " secret, created_by) VALUES (:id, :c, :u, :t, 'whsec_x', 'admin')"
                    ),
                    {
                        "id": ids[name],
                        "c": company_id,
                        "u": f"https://{name}.example/",
                        "t": event_types,
                    },
                )
    finally:
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            await migrate(url, "head")

    found = await rows(app, "SELECT id, event_types FROM webhook_subscriptions")
    assert {r["id"]: r["event_types"] for r in found} == {
        ids["seller"]: ["order.placed.v1", "stock.changed.v1"],
        ids["typo"]: ["order.placed", "order.shipped.v1"],
        ids["scoped"]: ["product.upserted.v1"],
        ids["all"]: ["*"],
    }
    reported = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    assert reported == {
        f"webhook subscription {ids['typo']} keeps event types it never receives: order.placed",
        f"webhook subscription {ids['scoped']} keeps event types it never receives: "
        "product.upserted.v1",
    }
    # An order placed now reaches the subscription stored with the CloudEvents spelling.
    await apply(app, order_placed(company, total_minor=100))
    queued = await rows(app, "SELECT subscription_id FROM webhook_deliveries")
    assert {r["subscription_id"] for r in queued} == {ids["seller"], ids["all"]}

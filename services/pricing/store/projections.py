"""What pricing keeps of other services' facts: clients (accounts), SKUs and costs (catalog),
turnover and volumes (orders), segments (analytics).

Every write is one set-based statement, safe to run again: the consumer's inbox makes each
event apply once, and the `updated_at` guard makes an older event lose to a newer one that
arrived first (topics are ordered per aggregate, but a replay or a feed can still interleave).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store.governance_models import ClientSegment, ClientSkuVolume, OrderSkuVolume
from services.pricing.store.models import Client, ClientTurnover, Sku
from shared.contracts.accounts import CompanyUpsertedV1
from shared.contracts.analytics import ClientSegmentChangedV1
from shared.contracts.catalog import ProductUpsertedV1
from shared.contracts.orders import OrderCancelledV1, OrderPlacedV1
from shared.db import upsert_unless_newer
from shared.scope import ClientScope

# The clients pricing knows and their assigned sales managers: what `shared.scope` checks.
CLIENTS = ClientScope(Client.company_id, Client.sales_manager_id)
# A client known only from its orders: any company event is newer than this and fills it in.
PLACEHOLDER_UPDATED_AT = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def month_of(moment: datetime) -> date:
    """First day of the moment's UTC month: the turnover bucket an order counts in."""
    return _utc(moment).astimezone(UTC).date().replace(day=1)


async def upsert_client(session: AsyncSession, event: CompanyUpsertedV1) -> None:
    updated_at = _utc(event.updated_at)
    if event.external_id is not None:
        # The ERP id moved to this company (accounts keeps it unique): the newest holder wins,
        # unless this event is itself stale for its company.
        newer_here = exists().where(
            and_(Client.company_id == event.company_id, Client.updated_at > updated_at)
        )
        await session.execute(
            update(Client)
            .where(
                Client.external_id == event.external_id,
                Client.company_id != event.company_id,
                Client.updated_at <= updated_at,
                ~newer_here,
            )
            .values(external_id=None)
        )
    values = {
        "company_id": event.company_id,
        "external_id": event.external_id,
        "legal_name": event.legal_name,
        "group_code": event.client_group,
        "currency": event.currency,
        "status": event.status,
        "partners": event.partners,
        "sales_manager_id": event.sales_manager_id,
        "updated_at": updated_at,
    }
    await upsert_unless_newer(session, Client, values, ("company_id",))


async def upsert_sku(session: AsyncSession, event: ProductUpsertedV1) -> None:
    kept = {"sku", "name", "brand", "category", "unit", "sellable", "cost_minor", "cost_currency"}
    values = {**event.model_dump(include=kept), "updated_at": _utc(event.updated_at)}
    await upsert_unless_newer(session, Sku, values, ("sku",))


async def ensure_client(session: AsyncSession, company_id: uuid.UUID, currency: str) -> Any:
    """The client's id (a scalar subquery); a company pricing has not heard of yet gets a
    placeholder, so what is learnt about it is kept; its own event fills the row in later."""
    await session.execute(
        insert(Client)
        .values(
            company_id=company_id,
            legal_name="",
            currency=currency,
            status="active",
            updated_at=PLACEHOLDER_UPDATED_AT,
        )
        .on_conflict_do_nothing(index_elements=[Client.company_id])
    )
    return select(Client.id).where(Client.company_id == company_id).scalar_subquery()


_VOLUME_KEY = ["client_id", "month", "sku", "currency"]

# The order's lines summed per SKU in SQL (a 200-line order is one statement with four
# arrays, not a 1,600-parameter VALUES list compiled afresh each time). round() on numeric
# rounds half away from zero, as ROUND_HALF_UP does.
ADD_VOLUMES = text(
    """
    WITH per_sku AS (
        SELECT l.sku, sum(l.quantity) AS quantity, count(*) AS lines,
               sum(round(l.quantity * l.unit_price_minor))::bigint AS revenue_minor
        FROM unnest(CAST(:skus AS text[]), CAST(:quantities AS numeric[]),
                    CAST(:prices AS bigint[])) AS l(sku, quantity, unit_price_minor)
        GROUP BY l.sku
    ), kept AS (
        INSERT INTO order_sku_volumes
            (client_id, order_id, sku, currency, month, quantity, lines, revenue_minor)
        SELECT (SELECT id FROM clients WHERE company_id = :company_id), :order_id, sku,
               :currency, :month, quantity, lines, revenue_minor
        FROM per_sku
        ON CONFLICT DO NOTHING
        RETURNING client_id, month, sku, currency, quantity, lines, revenue_minor
    )
    INSERT INTO client_sku_volumes (client_id, month, sku, currency, quantity, lines, revenue_minor)
    SELECT client_id, month, sku, currency, quantity, lines, revenue_minor FROM kept
    ON CONFLICT (client_id, month, sku, currency) DO UPDATE SET
        quantity = client_sku_volumes.quantity + EXCLUDED.quantity,
        lines = client_sku_volumes.lines + EXCLUDED.lines,
        revenue_minor = client_sku_volumes.revenue_minor + EXCLUDED.revenue_minor
    """
)


async def add_volumes(session: AsyncSession, event: OrderPlacedV1) -> None:
    """The order's lines into the client's monthly volumes per SKU (what simulations price).

    The order's own volumes are kept too (`order_sku_volumes`), in the same statement: its
    cancellation takes exactly them back, and an order told twice counts once."""
    if not event.lines:
        return
    await ensure_client(session, event.company_id, event.currency)
    await session.execute(
        ADD_VOLUMES,
        {
            "company_id": event.company_id,
            "order_id": event.order_id,
            "currency": event.currency,
            "month": month_of(event.placed_at),
            "skus": [line.sku for line in event.lines],
            "quantities": [line.quantity for line in event.lines],
            "prices": [line.unit_price_minor for line in event.lines],
        },
    )


def _volume_columns(table: Any) -> list[Any]:
    return [
        *(getattr(table, k) for k in _VOLUME_KEY),
        table.quantity,
        table.lines,
        table.revenue_minor,
    ]


async def take_back_volumes(session: AsyncSession, event: OrderCancelledV1) -> None:
    """A cancelled order stops counting in simulations: the volumes its placing added (kept
    per order) come out of the client's months, and months left empty go."""
    client_id = select(Client.id).where(Client.company_id == event.company_id).scalar_subquery()
    gone = (
        delete(OrderSkuVolume)
        .where(OrderSkuVolume.client_id == client_id, OrderSkuVolume.order_id == event.order_id)
        .returning(*_volume_columns(OrderSkuVolume))
        .cte("gone")
    )
    await session.execute(
        update(ClientSkuVolume)
        .where(*(getattr(ClientSkuVolume, k) == gone.c[k] for k in _VOLUME_KEY))
        .values(
            quantity=ClientSkuVolume.quantity - gone.c.quantity,
            lines=ClientSkuVolume.lines - gone.c.lines,
            revenue_minor=ClientSkuVolume.revenue_minor - gone.c.revenue_minor,
        )
    )
    await session.execute(
        delete(ClientSkuVolume).where(
            ClientSkuVolume.client_id == client_id, ClientSkuVolume.lines <= 0
        )
    )


async def set_segments(session: AsyncSession, event: ClientSegmentChangedV1) -> int:
    """The client's segments after the change; returns the client's id."""
    client_id = await ensure_client(session, event.client_id, "EUR")
    found = await session.scalar(select(client_id))
    for change in event.changes:
        if change.current is None:
            await session.execute(
                delete(ClientSegment).where(
                    ClientSegment.client_id == found, ClientSegment.dimension == change.dimension
                )
            )
            continue
        values = {
            "client_id": found,
            "dimension": change.dimension,
            "value": change.current,
            "changed_at": _utc(event.changed_at),
        }
        await upsert_unless_newer(
            session, ClientSegment, values, ("client_id", "dimension"), "changed_at"
        )
    return int(found)


async def add_turnover(
    session: AsyncSession,
    company_id: uuid.UUID,
    *,
    placed_at: datetime,
    currency: str,
    amount_minor: int,
) -> None:
    """Add (or, negative, take back) an order's total in its month and currency.

    An order of a company pricing has not heard of yet gets a placeholder client, so the
    turnover is kept; the company's own event fills the row in later.
    """
    client_id = await ensure_client(session, company_id, currency)
    stmt = insert(ClientTurnover).values(
        client_id=client_id,
        month=month_of(placed_at),
        currency=currency,
        amount_minor=amount_minor,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                ClientTurnover.client_id,
                ClientTurnover.month,
                ClientTurnover.currency,
            ],
            set_={"amount_minor": ClientTurnover.amount_minor + stmt.excluded.amount_minor},
        )
    )

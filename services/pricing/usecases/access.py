"""Who may see which client's prices: the clients the caller reaches (`shared.scope`).

Diffs of price changes span every client: a sales manager reads them narrowed to its own
clients' rows (list rows stay: they are no client's data). A list derived from a matrix feed
is the exception among lists: it holds one client's prices (or a few clients' that differ by
one uniform percent), so it is readable only by who reaches one of its clients."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.store import policy as store
from services.pricing.store.models import Client, ClientMatrix, PriceList
from services.pricing.store.projections import CLIENTS, ensure_client
from shared.auth import Principal
from shared.problems import NotFound
from shared.scope import assigned_manager
from shared.upstream import Upstreams


async def may_see(session: AsyncSession, principal: Principal, company_id: uuid.UUID) -> None:
    """A client's people see only the company they act for, a sales manager only the clients
    assigned to it; another's answers 404, as an unknown client does."""
    await CLIENTS.ensure(session, principal, company_id)


async def client_to_read(
    session: AsyncSession, principal: Principal, company_id: uuid.UUID, *, lock: bool = False
) -> Client:
    """The client a policy read (or a removal) is about: one the caller reaches, else 404."""
    await may_see(session, principal, company_id)
    return await store.get_client(session, company_id, lock=lock)


async def client_to_change(
    upstreams: Upstreams, session: AsyncSession, principal: Principal, company_id: uuid.UUID
) -> Client:
    """The client a policy write is about, locked: one the caller reaches and accounts has
    (else 404 naming `company_id`). A company pricing has not heard of yet gets its
    placeholder now, which its company event fills in."""
    heard_of = await CLIENTS.ensure_known(session, principal, upstreams, {company_id: "company_id"})
    for new_id, company in heard_of.items():
        await ensure_client(session, new_id, company["currency"])
    return await store.get_client(session, company_id, lock=True)


def reaches_every_client(principal: Principal) -> bool:
    """Staff other than a sales manager, and services."""
    return principal.is_staff and assigned_manager(principal) is None


def _matrix_lists_reached(principal: Principal) -> Select[tuple[int]]:
    reached = select(ClientMatrix.list_id).join(Client, Client.id == ClientMatrix.client_id)
    return CLIENTS.narrow(reached, Client.company_id, principal)


def readable_lists(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """`stmt` over price lists keeping those the caller may read: every shared list, and the
    matrix lists of the clients it reaches."""
    if reaches_every_client(principal):
        return stmt
    return stmt.where(or_(~PriceList.is_matrix, PriceList.id.in_(_matrix_lists_reached(principal))))


async def may_read_list(session: AsyncSession, principal: Principal, price_list: PriceList) -> None:
    """A matrix list none of whose clients the caller reaches answers 404, as an unknown list
    does. A shared list (base, group, assigned) costs no query."""
    if not price_list.is_matrix or reaches_every_client(principal):
        return
    mine = _matrix_lists_reached(principal).where(ClientMatrix.list_id == price_list.id)
    if await session.scalar(mine.limit(1)) is None:
        raise NotFound("No such price list.")


async def client_names(session: AsyncSession, principal: Principal) -> set[str] | None:
    """How diffs name the clients the caller reaches (ERP id, else company id); None when it
    reaches every client."""
    if assigned_manager(principal) is None:
        return None
    name = func.coalesce(Client.external_id, cast(Client.company_id, String))
    return set(await session.scalars(CLIENTS.narrow(select(name), Client.company_id, principal)))


def narrowed_summary(diff: dict[str, Any], names: set[str] | None) -> dict[str, Any]:
    """A version's diff summary with only the named clients among its most affected."""
    if names is None or "top_clients" not in diff:
        return diff
    return {**diff, "top_clients": [c for c in diff["top_clients"] if c.get("client") in names]}


def _write_narrowed(source: Path, target: Path, names: set[str]) -> None:
    rows = pl.scan_csv(source, infer_schema=False)
    keep = (pl.col("kind") == "list") | pl.col("target").is_in(sorted(names))
    rows.filter(keep).sink_csv(target)


async def narrowed_diff(source: Path, names: set[str]) -> Path:
    """A copy of a diff CSV with the list rows and the named clients' rows (streamed: a full
    matrix's diff does not fit in memory). The caller removes it."""
    target = source.with_name(f"{source.stem}.{uuid.uuid4().hex}.csv")
    try:
        await asyncio.to_thread(_write_narrowed, source, target, names)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target

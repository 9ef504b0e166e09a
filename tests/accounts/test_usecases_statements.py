"""The statements' use cases called with a session, no HTTP: a period that ends before it
starts, the same file twice, and a company the caller does not reach."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest

from services.accounts.usecases import companies, statements
from shared.attachments import Upload
from shared.auth import Role
from shared.problems import Conflict, NotFound, Unprocessable
from shared.testing.fixtures import principal

ADMIN = principal(Role.ADMIN)
PDF_BYTES = b"%PDF-1.7\nstatement of account\n"


def pdf() -> Upload:
    return Upload.of_bytes("act.pdf", "application/pdf", PDF_BYTES)


async def _company(ctx):
    async with ctx.sessionmaker() as session, session.begin():
        view = await companies.create_company(
            session,
            ADMIN,
            {"legal_name": "Acme", "external_id": f"ERP-{uuid.uuid4().hex[:6]}"},
            names_manager=False,
        )
        return view.company


def details(company, **changes):
    values = {
        "external_id": company.external_id,
        "period_from": date(2026, 1, 1),
        "period_to": date(2026, 3, 31),
        "currency": "EUR",
    }
    return statements.StatementDetails(**{**values, **changes})


async def test_a_period_that_ends_before_it_starts_keeps_nothing(ctx, tmp_path):
    company = await _company(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Unprocessable) as refused:
            await statements.upload_statement(
                session, str(tmp_path), details(company, period_to=date(2025, 12, 31)), pdf()
            )
    assert [e.field for e in refused.value.errors] == ["period_to"]
    assert list(tmp_path.rglob("*")) == []


async def test_the_same_file_for_the_same_period_twice_is_a_conflict_and_leaves_one_file(
    ctx, tmp_path
):
    company = await _company(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        kept = await statements.upload_statement(session, str(tmp_path), details(company), pdf())
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict):
            await statements.upload_statement(session, str(tmp_path), details(company), pdf())
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [Path(kept.file_path)]
    assert Path(kept.file_path).read_bytes() == PDF_BYTES
    assert (kept.size_bytes, kept.file_name) == (len(PDF_BYTES), "act.pdf")


async def test_a_buyer_of_another_company_finds_no_statement(ctx, tmp_path):
    company = await _company(ctx)
    async with ctx.sessionmaker() as session, session.begin():
        kept = await statements.upload_statement(session, str(tmp_path), details(company), pdf())
    stranger = principal(Role.BUYER, company_id=uuid.uuid4())
    async with ctx.sessionmaker() as session:
        with pytest.raises(NotFound):
            await statements.statement(session, stranger, company.id, kept.id)
        found = await statements.statement(session, ADMIN, company.id, kept.id)
    assert found.id == kept.id

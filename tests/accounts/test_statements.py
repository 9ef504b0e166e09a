"""Reconciliation statements: ERP uploads, the client's buyers list and download, no one else."""

from __future__ import annotations

import uuid

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.accounts.factories import add_company, add_user, member_headers

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
PDF = b"%PDF-1.7 statement of account"


async def upload(
    app,
    external_id: str,
    period: tuple[str, str] = ("2026-10-01", "2026-10-31"),
    headers=ERP,
    content=PDF,
):
    async with client(app, headers) as http:
        return await http.post(
            "/statements",
            data={
                "external_id": external_id,
                "period_from": period[0],
                "period_to": period[1],
                "currency": "EUR",
                "closing_balance_minor": "120000",
            },
            files={"file": ("act-october.pdf", content, "application/pdf")},
        )


async def test_erp_uploads_and_only_the_clients_buyer_downloads(accounts):
    mine = await add_company(accounts, external_id="C1")
    other = await add_company(accounts, external_id="C2")
    buyer = await add_user(accounts, "b@c1.example", companies={uuid.UUID(mine["id"]): "buyer"})
    stranger = await add_user(accounts, "b@c2.example", companies={uuid.UUID(other["id"]): "buyer"})

    created = await upload(accounts, "C1")
    duplicate = await upload(accounts, "C1")
    unknown = await upload(accounts, "NOPE")
    backwards = await upload(accounts, "C1", period=("2026-10-31", "2026-10-01"))
    by_buyer = await upload(accounts, "C1", headers=member_headers(buyer, uuid.UUID(mine["id"])))
    assert created.status_code == 201, created.text
    assert duplicate.status_code == 409
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "external_id"
    assert backwards.status_code == 422
    assert by_buyer.status_code == 403

    statement = created.json()
    async with client(accounts, member_headers(buyer, uuid.UUID(mine["id"]))) as http:
        listed = (await http.get(f"/companies/{mine['id']}/statements")).json()["items"]
        file = await http.get(f"/companies/{mine['id']}/statements/{statement['id']}/file")
    assert [s["id"] for s in listed] == [statement["id"]]
    assert file.status_code == 200 and file.content == PDF
    assert file.headers["content-type"] == "application/pdf"

    async with client(accounts, member_headers(stranger, uuid.UUID(other["id"]))) as http:
        assert (await http.get(f"/companies/{mine['id']}/statements")).status_code == 404
        assert (
            await http.get(f"/companies/{mine['id']}/statements/{statement['id']}/file")
        ).status_code == 404
        # Right company in the path, someone else's statement id: still nothing.
        assert (
            await http.get(f"/companies/{other['id']}/statements/{statement['id']}/file")
        ).status_code == 404


async def test_a_web_page_declared_as_a_pdf_statement_is_refused(accounts):
    await add_company(accounts, external_id="C1")
    page = b"<html><body onload=alert(1)>statement</body></html>"
    refused = await upload(accounts, "C1", content=page)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["file"]
    assert (await upload(accounts, "C1")).status_code == 201  # the real PDF is fine

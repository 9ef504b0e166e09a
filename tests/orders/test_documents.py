"""Order documents: ERP attaches them, the client's people download them, no one else."""

from __future__ import annotations

from shared.testing.fixtures import client
from tests.orders.test_lifecycle import outbox_payloads, place
from tests.orders.world import ERP

INVOICE = b"%PDF-1.7\n% invoice 42\n" + bytes(range(256)) * 40


async def attach(shop, reference, content=INVOICE, content_type="application/pdf", **form):
    async with client(shop.orders, ERP) as http:
        return await http.post(
            f"/erp/orders/{reference}/documents",
            data={"kind": "invoice", "number": "INV-42", "issued_on": "2026-11-20", **form},
            files={"file": ("inv-42.pdf", content, content_type)},
        )


async def test_erp_attaches_an_invoice_and_the_buyer_downloads_it(shop):
    order = await place(shop)
    attached = await attach(shop, order["number"])
    assert attached.status_code == 201, attached.text
    document = attached.json()
    assert (document["kind"], document["number"], document["size_bytes"]) == (
        "invoice",
        "INV-42",
        len(INVOICE),
    )
    again = await attach(shop, order["number"])
    assert again.status_code == 409
    async with shop.as_buyer() as http:
        listed = (await http.get(f"/orders/{order['id']}/documents")).json()
        assert [d["id"] for d in listed] == [document["id"]]
        got = await http.get(f"/orders/{order['id']}/documents/{document['id']}/file")
    assert got.status_code == 200 and got.content == INVOICE
    assert got.headers["content-type"] == "application/pdf"
    [event] = await outbox_payloads(shop.orders, "document_added")
    assert (event["order_id"], event["kind"], event["document_id"]) == (
        order["id"],
        "invoice",
        document["id"],
    )


async def test_documents_are_refused_to_the_wrong_people_and_types(shop):
    order = await place(shop)
    document = (await attach(shop, order["number"])).json()
    assert (await attach(shop, "SO-99999999")).status_code == 404
    bad_type = await attach(shop, order["number"], b"MZ", "application/x-msdownload")
    assert bad_type.status_code == 422 and bad_type.json()["errors"][0]["field"] == "file"
    async with shop.as_buyer() as http:
        refused = await http.post(
            f"/erp/orders/{order['number']}/documents",
            data={"kind": "invoice"},
            files={"file": ("x.pdf", b"%PDF", "application/pdf")},
        )
        assert refused.status_code == 403
    async with shop.as_stranger() as http:
        assert (await http.get(f"/orders/{order['id']}/documents")).status_code == 404
        assert (
            await http.get(f"/orders/{order['id']}/documents/{document['id']}/file")
        ).status_code == 404


async def test_a_file_whose_bytes_are_not_its_declared_type_is_refused(shop):
    order = await place(shop)
    page = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    refused = [
        await attach(shop, order["number"], content=page),  # a web page declared as a PDF
        await attach(shop, order["number"], content=b"GIF89a", content_type="image/png"),
        await attach(shop, order["number"], content=page, content_type="text/csv"),
    ]
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["file"]
    async with client(shop.orders, shop.buyer) as http:
        listed = (await http.get(f"/orders/{order['id']}/documents")).json()
    assert listed == []
    assert await outbox_payloads(shop.orders, "order.document_added") == []

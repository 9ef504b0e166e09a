"""Quality certificates per SKU or batch (ERP uploads, buyers download) and product images."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.catalog.world import BUYER, ERP, as_csv, feed

PDF = b"%PDF-1.4\n" + b"certificate " * 1000


@pytest.fixture
async def catalog(start_app):
    app = await start_app("catalog")
    rows = [
        {"sku": "KN-100", "name": "Board", "images": "https://cdn.example.com/kn-100.jpg"},
        {"sku": "CE-200", "name": "Glue", "images": None},
    ]
    assert (await feed(app, as_csv(rows)))["state"] == "succeeded"
    return app


async def upload(app, sku: str, body: bytes = PDF, headers=ERP, **form):
    async with client(app, headers) as http:
        return await http.post(
            f"/products/{sku}/certificates",
            files={"file": ("cert.pdf", body, "application/pdf")},
            data=form,
        )


async def test_erp_uploads_per_sku_or_batch_and_buyers_download(catalog):
    whole = await upload(catalog, "KN-100", number="RU-C-1", valid_to="2027-12-31")
    lot = await upload(catalog, "KN-100", PDF + b"lot 7", batch="L-7")
    other_lot = await upload(catalog, "KN-100", PDF + b"lot 8", batch="L-8")
    assert [whole.status_code, lot.status_code, other_lot.status_code] == [201, 201, 201]
    assert whole.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (whole.json()["batch"], whole.json()["valid_to"]) == (None, "2027-12-31")
    async with client(catalog, BUYER) as http:
        every = (await http.get("/products/KN-100/certificates")).json()["items"]
        of_lot = (await http.get("/products/KN-100/certificates", params={"batch": "L-7"})).json()
        file = await http.get(f"/products/KN-100/certificates/{whole.json()['id']}/file")
        wrong_sku = await http.get(f"/products/CE-200/certificates/{whole.json()['id']}/file")
    assert len(every) == 3
    # A batch's own certificates and those covering every batch.
    assert {c["batch"] for c in of_lot["items"]} == {"L-7", None}
    assert file.status_code == 200 and file.content == PDF
    assert file.headers["content-type"] == "application/pdf"
    assert wrong_sku.status_code == 404


async def test_a_repeated_upload_a_bad_type_or_an_unknown_sku_is_refused(catalog):
    assert (await upload(catalog, "KN-100")).status_code == 201
    again = await upload(catalog, "KN-100")
    assert again.status_code == 409
    assert (await upload(catalog, "KN-100", batch="L-1")).status_code == 201  # another batch
    async with client(catalog, ERP) as http:
        text_file = await http.post(
            "/products/KN-100/certificates", files={"file": ("a.txt", b"hi", "text/plain")}
        )
    assert text_file.status_code == 422
    assert text_file.json()["errors"][0]["field"] == "file"
    assert (await upload(catalog, "NOPE-1")).status_code == 404


async def test_who_may_upload_and_read(catalog):
    for headers in (BUYER, as_role(Role.SALES_MANAGER), as_role(Role.PARTNER, kind="api_key")):
        assert (await upload(catalog, "KN-100", headers=headers)).status_code == 403
    assert (await upload(catalog, "KN-100", headers=as_role(Role.ADMIN))).status_code == 201
    for headers in (ERP, as_role(Role.PARTNER, kind="api_key", subject="p")):
        async with client(catalog, headers) as http:
            listed = await http.get("/products/KN-100/certificates")
            assert listed.status_code == 403
            file = await http.get(f"/products/KN-100/certificates/{uuid.uuid4()}/file")
            assert file.status_code == 403


async def test_images_are_urls_from_the_feed(catalog):
    async with client(catalog, BUYER) as http:
        board = (await http.get("/products/KN-100")).json()
        glue = (await http.get("/products/CE-200")).json()
    assert board["images"] == ["https://cdn.example.com/kn-100.jpg"]
    assert glue["images"] == []
    urls = "https://cdn.example.com/ce-1.jpg  http://img.example.com/ce-2.png"
    job = await feed(catalog, as_csv([{"sku": "CE-200", "images": urls}]))
    assert job["state"] == "succeeded", job
    async with client(catalog, BUYER) as http:
        glue = (await http.get("/products/CE-200")).json()
    assert glue["images"] == [
        "https://cdn.example.com/ce-1.jpg",
        "http://img.example.com/ce-2.png",
    ]
    too_many = " ".join(f"https://cdn.example.com/{i}.jpg" for i in range(11))
    job = await feed(
        catalog,
        as_csv(
            [
                {"sku": "A-1", "name": "A", "images": "ftp://x/a.jpg"},
                {"sku": "A-2", "name": "A", "images": too_many},
            ]
        ),
    )
    assert job["state"] == "rejected" and job["rows_rejected"] == 2
    async with client(catalog, ERP) as http:
        report = (await http.get(job["rejections_url"])).text
    assert "1,images,must be http(s) URLs separated by spaces" in report
    assert "2,images,takes 10 URLs at most" in report


async def test_a_web_page_declared_as_a_pdf_certificate_is_refused(catalog):
    refused = await upload(catalog, "KN-100", body=b"\n  <!doctype html><p>certificate</p>")
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["file"]
    async with client(catalog, BUYER) as http:
        listed = (await http.get("/products/KN-100/certificates")).json()
    assert listed["items"] == []

"""Helpers of the catalog tests: feeds posted and run as ERP would."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

from services.catalog.api.feeds import SPECS
from shared.auth import Role
from shared.feeds import process_next
from shared.testing.fixtures import as_role, client

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
BUYER = as_role(Role.BUYER, company_id=uuid.uuid4())
HEADER = "sku,name,brand,category,unit,min_order_qty,order_multiple,status,replacement_sku\n"


async def feed(app, body: str, kind: str = "catalog", **params) -> dict:
    async with client(app, {**ERP, "Content-Type": "text/csv"}) as http:
        posted = await http.post(f"/feeds/{kind}", content=body, params=params)
        assert posted.status_code == 202, posted.text
        while await process_next(app, SPECS):
            pass
        for _ in range(200):  # an app started with run_workers may be running it itself
            job = (await http.get(f"/feeds/{posted.json()['id']}")).json()
            if job["state"] in ("succeeded", "rejected", "failed"):
                break
            await asyncio.sleep(0.05)
        return job


async def listed_skus(http, **params) -> list[str]:
    """The SKUs GET /products lists for these query parameters, in its order."""
    answer = await http.get("/products", params=params)
    assert answer.status_code == 200, answer.text
    return [p["sku"] for p in answer.json()["items"]]


STOCK = "sku,warehouse,on_hand,as_of\n"
CATEGORIES = "code,name,parent\n"
TREE = (
    CATEGORIES
    + "building,Building,\n"
    + "adhesives,Adhesives,building\n"
    + "tile-glue,Tile glue,adhesives\n"
    + "boards,Boards,building\n"
    + "garden,Garden,\n"
)
ATTRIBUTES = (
    "name,type,label,unit\n"
    "color,text,Colour,\n"
    "width_mm,number,Width,mm\n"
    "frost_proof,bool,Frost-proof,\n"
)


def as_csv(rows: list[dict]) -> str:
    """Rows as a CSV file, quoted as needed (JSON cells): the columns of the first row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def rejection_report(app, job: dict, rows: int) -> str:
    """The report (row,field,reason CSV) of a job that rejected its file for `rows` bad rows."""
    assert job["state"] == "rejected" and job["rows_rejected"] == rows, job
    async with client(app, ERP) as http:
        return (await http.get(job["rejections_url"].removeprefix("/api/catalog"))).text


async def assert_rejected(app, job: dict, *lines: str) -> str:
    """The job rejected one row per line, and its report holds each line."""
    report = await rejection_report(app, job, len(lines))
    for line in lines:
        assert line in report, (line, report)
    return report

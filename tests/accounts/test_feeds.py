"""ERP client and receivables feeds through the HTTP API, the durable job and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import uuid

import orjson
import polars as pl
from sqlalchemy import func, select, text

from services.accounts.api.feeds import SPECS
from services.accounts.domain.credit import available_credit
from services.accounts.store.models import Company, Receivable
from shared.auth import Role
from shared.contracts.accounts import COMPANY_TOPIC, CompanyCreditChangedV1, CompanyUpsertedV1
from shared.feeds import process_next
from shared.testing.fixtures import as_role, client
from shared.testing.kafka import read_topic
from tests.accounts.factories import add_company
from tests.accounts.test_companies import outbox

ERP = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-1")
CSV = {"Content-Type": "text/csv"}
HEADER = "external_id,legal_name,tax_id,client_group,credit_limit_minor,payment_terms_days,status\n"


async def post_feed(app, kind: str, body: bytes | str, *, headers=None, **params):
    async with client(app, {**ERP, **CSV, **(headers or {})}) as http:
        return await http.post(f"/feeds/{kind}", content=body, params=params)


async def run_jobs(app) -> None:
    while await process_next(app, SPECS):
        pass


async def job(app, job_id: str, headers=ERP) -> dict:
    async with client(app, headers) as http:
        return (await http.get(f"/feeds/{job_id}")).json()


async def companies(app) -> dict[str, Company]:
    async with app.state.sessionmaker() as session:
        return {c.external_id: c for c in await session.scalars(select(Company))}


async def add_group(app, code: str) -> None:
    async with client(app, as_role(Role.ADMIN)) as http:
        assert (
            await http.post("/client-groups", json={"code": code, "name": code})
        ).status_code == 201


async def test_one_bad_row_rejects_the_whole_feed_and_the_report_names_rows_and_fields(accounts):
    await add_group(accounts, "dealers")
    body = (
        HEADER
        + "C1,Alpha,LV1,dealers,1000,30,active\n"
        + "C2,Beta,LV2,nosuchgroup,1000,30,active\n"  # row 2: unknown group (database check)
        + "C3,,LV3,dealers,-5,30,sleeping\n"  # row 3: three bad cells
        + "C1,Alpha again,LV1,dealers,1000,30,active\n"  # row 4: duplicate key
    )
    accepted = await post_feed(accounts, "clients", body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["location"] == f"/feeds/{accepted.json()['id']}"
    await run_jobs(accounts)
    done = await job(accounts, accepted.json()["id"])
    assert done["state"] == "rejected"
    assert (done["rows_total"], done["rows_rejected"], done["rows_applied"]) == (4, 3, 0)
    assert await companies(accounts) == {}
    assert await outbox(accounts, CompanyUpsertedV1.full_type()) == []

    async with client(accounts, ERP) as http:
        report = await http.get(done["rejections_url"])
    assert report.headers["content-type"].startswith("text/csv")
    rows = pl.read_csv(io.BytesIO(report.content))
    assert rows.select("row", "field").rows() == [
        (2, "client_group"),
        (3, "credit_limit_minor"),
        (3, "legal_name"),
        (3, "status"),
        (4, "external_id"),
    ]


async def test_skip_bad_rows_applies_the_good_ones_with_events(accounts):
    await add_group(accounts, "dealers")
    body = HEADER + "C1,Alpha,LV1,dealers,1000,30,active\nC2,Beta,,,,,\nC3,Gamma,,,abc,,\n"
    accepted = await post_feed(accounts, "clients", body, mode="skip_bad_rows")
    await run_jobs(accounts)
    done = await job(accounts, accepted.json()["id"])
    assert done["state"] == "succeeded"
    assert (done["rows_applied"], done["rows_rejected"]) == (2, 1)
    assert done["result"]["created"] == 2
    stored = await companies(accounts)
    assert set(stored) == {"C1", "C2"}
    assert stored["C1"].credit_limit_minor == 1000 and stored["C2"].currency == "EUR"
    upserted = [
        CompanyUpsertedV1.model_validate(e["data"])
        for e in await outbox(accounts, CompanyUpsertedV1.full_type())
    ]
    assert {e.external_id for e in upserted} == {"C1", "C2"}
    assert next(e for e in upserted if e.external_id == "C1").client_group == "dealers"
    credit = await outbox(accounts, CompanyCreditChangedV1.full_type())
    assert [
        CompanyCreditChangedV1.model_validate(e["data"]).available_credit_minor for e in credit
    ] == [1000]


async def test_second_feed_updates_only_what_changed_and_empty_cells_keep_values(accounts):
    await post_feed(accounts, "clients", HEADER + "C1,Alpha,LV1,,1000,30,\nC2,Beta,LV2,,,,\n")
    await run_jobs(accounts)
    second = await post_feed(
        accounts, "clients", HEADER + "C1,Alpha,,,1000,30,\nC2,Beta Ltd,,,,,\n"
    )
    await run_jobs(accounts)
    done = await job(accounts, second.json()["id"])
    assert (done["result"]["updated"], done["result"]["unchanged"]) == (1, 1)
    stored = await companies(accounts)
    assert stored["C1"].tax_id == "LV1" and stored["C1"].version == 1
    assert stored["C2"].legal_name == "Beta Ltd" and stored["C2"].version == 2
    assert len(await outbox(accounts, CompanyUpsertedV1.full_type())) == 3


async def test_erp_names_a_clients_preferred_warehouse_and_it_travels_in_the_event(accounts):
    header = "external_id,legal_name,preferred_warehouse\n"
    await post_feed(accounts, "clients", header + "C1,Alpha,SOUTH\nC2,Beta,\n")
    await run_jobs(accounts)
    await post_feed(accounts, "clients", header + "C1,Alpha,\nC2,Beta,MAIN\n")
    await run_jobs(accounts)
    stored = await companies(accounts)
    assert (stored["C1"].preferred_warehouse, stored["C1"].version) == ("SOUTH", 1)
    assert (stored["C2"].preferred_warehouse, stored["C2"].version) == ("MAIN", 2)
    events = [
        CompanyUpsertedV1.model_validate(e["data"])
        for e in await outbox(accounts, CompanyUpsertedV1.full_type())
    ]
    assert sorted((e.external_id, e.preferred_warehouse or "") for e in events) == [
        ("C1", "SOUTH"),
        ("C2", ""),
        ("C2", "MAIN"),
    ]


async def test_full_feed_blocks_the_erp_clients_it_leaves_out(accounts):
    await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,,,\nC2,Beta,,,,,\n")
    manual = await add_company(accounts, legal_name="Walk-in")  # no ERP id: not the feed's business
    await run_jobs(accounts)
    skip_full = await post_feed(
        accounts, "clients", HEADER + "C1,Alpha,,,,,\n", scope="full", mode="skip_bad_rows"
    )
    full = await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,,,\n", scope="full")
    await run_jobs(accounts)
    assert skip_full.status_code == 422
    assert (await job(accounts, full.json()["id"]))["result"]["blocked"] == 1
    stored = await companies(accounts)
    assert (stored["C1"].status, stored["C2"].status) == ("active", "blocked")
    async with accounts.state.sessionmaker() as session:
        assert (await session.get(Company, manual["id"])).status == "active"


async def test_idempotency_key_replays_the_job_and_refuses_another_file(accounts):
    key = {"Idempotency-Key": "clients-2026-11-23"}
    first = await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,,,\n", headers=key)
    again = await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,,,\n", headers=key)
    other = await post_feed(accounts, "clients", HEADER + "C9,Other,,,,,\n", headers=key)
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 422)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    await run_jobs(accounts)
    assert set(await companies(accounts)) == {"C1"}


async def test_size_limit_format_and_empty_body_are_refused_before_a_job_exists(start_app):
    app = await start_app("accounts", feed_max_bytes=100)
    big = await post_feed(app, "clients", HEADER + "C1,Alpha,,,,,\n" * 10)
    async with client(app, ERP) as http:
        unknown = await http.post(
            "/feeds/clients", content=b"x", headers={"Content-Type": "application/pdf"}
        )
        empty = await http.post("/feeds/clients", content=b"", headers=CSV)
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    assert unknown.status_code == 415
    assert empty.status_code == 422
    async with app.state.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM feed_jobs")) == 0


async def test_unreadable_file_fails_the_job_with_a_reason(accounts):
    accepted = await post_feed(
        accounts, "clients", "external_id\nC1\n"
    )  # legal_name column missing
    await run_jobs(accounts)
    done = await job(accounts, accepted.json()["id"])
    assert done["state"] == "failed" and "legal_name" in done["error"]


async def test_jsonl_and_parquet_feeds(accounts):
    rows = pl.DataFrame(
        {
            "external_id": ["J1", "P1"],
            "legal_name": ["Json Ltd", "Parquet Ltd"],
            "credit_limit_minor": [5, 6],
        }
    )
    jsonl = io.BytesIO()
    rows.head(1).write_ndjson(jsonl)
    parquet = io.BytesIO()
    rows.tail(1).write_parquet(parquet)
    await post_feed(
        accounts, "clients", jsonl.getvalue(), headers={"Content-Type": "application/x-ndjson"}
    )
    await post_feed(
        accounts,
        "clients",
        parquet.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    await run_jobs(accounts)
    stored = await companies(accounts)
    assert (stored["J1"].credit_limit_minor, stored["P1"].credit_limit_minor) == (5, 6)


async def test_an_integrator_sees_only_its_own_jobs_and_buyers_none(accounts):
    mine = await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,,,\n")
    other_key = as_role(Role.INTEGRATOR, kind="api_key", subject="erp-key-2")
    async with client(accounts, other_key) as http:
        assert (await http.get(f"/feeds/{mine.json()['id']}")).status_code == 404
        assert (await http.get("/feeds/jobs")).json()["items"] == []
    async with client(accounts, ERP) as http:
        assert [j["id"] for j in (await http.get("/feeds/jobs")).json()["items"]] == [
            mine.json()["id"]
        ]
    for role in (Role.BUYER, Role.COMPANY_ADMIN, Role.PARTNER, Role.SALES_MANAGER):
        async with client(accounts, {**as_role(role), **CSV}) as http:
            assert (await http.post("/feeds/clients", content=HEADER)).status_code == 403, role
            assert (await http.get("/feeds/jobs")).status_code == 403, role


RECEIVABLES = "external_id,currency,balance_minor,overdue_minor,oldest_overdue_date,purchase_limit_minor,as_of\n"


async def test_receivables_feed_sets_credit_standing_and_skips_stale_reports(accounts):
    await post_feed(accounts, "clients", HEADER + "C1,Alpha,,,10000,30,\nC2,Beta,,,,,\n")
    await run_jobs(accounts)
    bad = await post_feed(
        accounts,
        "receivables",
        RECEIVABLES
        + "C1,EUR,4000,500,,8000,2026-11-20T00:00:00Z\nNOPE,EUR,1,0,,,\nC2,USD,1,0,,,\n",
    )
    await run_jobs(accounts)
    rejected = await job(accounts, bad.json()["id"])
    assert rejected["state"] == "rejected" and rejected["rows_rejected"] == 3

    good = await post_feed(
        accounts,
        "receivables",
        RECEIVABLES + "C1,EUR,4000,500,2026-10-01,8000,2026-11-20T00:00:00Z\n",
    )
    stale = await post_feed(
        accounts, "receivables", RECEIVABLES + "C1,EUR,1,0,,,2026-11-19T00:00:00+02:00\n"
    )
    await run_jobs(accounts)
    assert (await job(accounts, good.json()["id"]))["result"]["changed"] == 1
    assert (await job(accounts, stale.json()["id"]))["result"]["stale_skipped"] == 1
    c1 = (await companies(accounts))["C1"]
    async with client(accounts, as_role(Role.ADMIN)) as http:
        credit = (await http.get(f"/companies/{c1.id}/credit")).json()
    assert (
        credit["balance_minor"] == 4000 and credit["available_credit_minor"] == 4000
    )  # min(10000, 8000) - 4000
    events = [
        CompanyCreditChangedV1.model_validate(e["data"])
        for e in await outbox(accounts, CompanyCreditChangedV1.full_type())
    ]
    # The SQL that builds the event agrees with the domain rule.
    assert events[-1].available_credit_minor == available_credit(10000, 8000, 4000)
    async with accounts.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Receivable)) == 1


async def test_the_worker_runs_queued_jobs_by_itself(start_app):
    app = await start_app("accounts", run_workers=True)
    accepted = await post_feed(app, "clients", HEADER + "W1,Worker Ltd,,,,,\n")
    for _ in range(100):
        state = (await job(app, accepted.json()["id"]))["state"]
        if state == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert state == "succeeded"


async def test_links_carry_the_gateway_prefix(accounts):
    accepted = await post_feed(
        accounts, "clients", "external_id\nC1\n", headers={"X-Forwarded-Prefix": "/api/accounts"}
    )
    spoofed = await post_feed(
        accounts,
        "clients",
        "external_id\nC2\n",
        headers={"X-Forwarded-Prefix": "https://evil.example"},
    )
    assert accepted.headers["location"] == f"/api/accounts/feeds/{accepted.json()['id']}"
    assert spoofed.headers["location"] == f"/feeds/{spoofed.json()['id']}"
    await run_jobs(accounts)
    async with client(accounts, {**ERP, "X-Forwarded-Prefix": "/api/accounts"}) as http:
        done = (await http.get(f"/feeds/{accepted.json()['id']}")).json()
    assert done["state"] == "failed"  # legal_name column missing
    assert done["rejections_url"] is None


async def test_a_job_whose_worker_died_is_taken_again_and_given_up_after_three_tries(accounts):
    first = await post_feed(accounts, "clients", HEADER + "D1,Died Ltd,,,,,\n")
    second = await post_feed(accounts, "clients", HEADER + "D2,Died Again Ltd,,,,,\n")
    async with accounts.state.sessionmaker() as session, session.begin():
        # As a crashed worker leaves them: mid-validation, heartbeat long gone.
        await session.execute(
            text(
                "UPDATE feed_jobs SET state = 'validating', heartbeat_at = now() - interval '10 minutes', attempts = 1 WHERE id = :id"
            ),
            {"id": first.json()["id"]},
        )
        await session.execute(
            text(
                "UPDATE feed_jobs SET state = 'applying', heartbeat_at = now() - interval '10 minutes', attempts = 3 WHERE id = :id"
            ),
            {"id": second.json()["id"]},
        )
    await run_jobs(accounts)
    retried, abandoned = (
        await job(accounts, first.json()["id"]),
        await job(accounts, second.json()["id"]),
    )
    assert retried["state"] == "succeeded"
    assert abandoned["state"] == "failed" and "gave up" in abandoned["error"]
    assert set(await companies(accounts)) == {"D1"}


async def test_feed_events_reach_the_broker_and_parse_as_their_contracts(
    start_app, kafka_bootstrap
):
    app = await start_app("accounts", run_workers=True)
    tag = uuid.uuid4().hex[:8]
    await post_feed(
        app, "clients", HEADER + f"K{tag}-1,Kafka One,,,700,,\nK{tag}-2,Kafka Two,,,,,\n"
    )
    wanted = {f"K{tag}-1", f"K{tag}-2"}
    seen: dict[str, dict] = {}
    for _ in range(50):
        records = await read_topic(kafka_bootstrap, COMPANY_TOPIC, expect=1, within=2)
        for record in records:
            envelope = orjson.loads(record.value)
            data = envelope["data"]
            if envelope["type"] == CompanyUpsertedV1.full_type() and data["external_id"] in wanted:
                seen[data["external_id"]] = envelope
                assert (
                    record.key.decode() == data["company_id"]
                )  # keyed by aggregate: per-company order
                assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
        if set(seen) == wanted:
            break
        await asyncio.sleep(0.1)
    assert set(seen) == wanted
    event = CompanyUpsertedV1.model_validate(seen[f"K{tag}-1"]["data"])
    assert event.credit_limit_minor == 700 and event.legal_name == "Kafka One"

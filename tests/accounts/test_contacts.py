"""A client's contacts and the seller's interactions through the API: who reaches them (a
buyer its own company's, without the notes or any interaction; a sales manager its assigned
clients'), If-Match, bad input named by field and changing nothing, a goal an interaction
achieves, and the stale contacts on a day the test sets."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from shared.clock import moved_to, today
from shared.contracts.accounts import (
    ContactRemovedV1,
    ContactUpsertedV1,
    InteractionRecordedV1,
)
from shared.testing.fixtures import client
from tests.accounts.factories import ADMIN, add_company, add_manager, add_user, member_headers
from tests.accounts.test_companies import outbox
from tests.reach import refused, snapshot

TABLES = ("contacts", "interactions", "knowledge_goals", "outbox")
NOTES = "Prefers calls after 15:00; wife runs the competitor"


@pytest.fixture
async def world(accounts):
    """Olga's client with a buyer; Ivan is another manager; a buyer of another company."""
    olga_id, olga = await add_manager(accounts, "olga@seller.example")
    _, ivan = await add_manager(accounts, "ivan@seller.example")
    company = await add_company(accounts, external_id="C-OLGA", sales_manager_id=str(olga_id))
    other = await add_company(accounts, external_id="C-OTHER")
    cid, other_id = uuid.UUID(company["id"]), uuid.UUID(other["id"])
    buyer = await add_user(accounts, "buyer@olga.example", companies={cid: "buyer"})
    stranger = await add_user(accounts, "buyer@other.example", companies={other_id: "buyer"})
    return {
        "id": cid,
        "other": other_id,
        "olga_id": olga_id,
        "olga": olga,
        "ivan": ivan,
        "buyer_id": buyer,
        "buyer": member_headers(buyer, cid),
        "stranger_id": stranger,
        "stranger": member_headers(stranger, other_id),
    }


async def call(app, headers, method: str, path: str, body=None, if_match: str | None = None):
    extra = {"If-Match": if_match} if if_match else {}
    async with client(app, {**headers, **extra}) as http:
        return await http.request(method, path, json=body)


async def add_contact(app, headers, company_id, **fields) -> dict:
    body = {"name": "Pavel Orlov", "buying_role": "purchasing", **fields}
    answer = await call(app, headers, "POST", f"/companies/{company_id}/contacts", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def add_goal(app, company_id, code: str = "visit", year: int | None = None) -> dict:
    path = f"/companies/{company_id}/knowledge-goals/{year or today().year}/{code}"
    answer = await call(app, ADMIN, "PUT", path, {"title": "Visit the site"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_buyer_keeps_its_companys_contacts_and_never_sees_the_notes(accounts, world):
    cid = world["id"]
    made = await add_contact(accounts, world["buyer"], cid, phone="+7 (495) 123-45-67")
    path = f"/companies/{cid}/contacts/{made['id']}"
    staff = await call(accounts, world["olga"], "PATCH", path, {"notes": NOTES}, if_match="*")
    assert staff.status_code == 200 and staff.json()["notes"] == NOTES

    seen = await call(accounts, world["buyer"], "GET", path)
    listed = await call(accounts, world["buyer"], "GET", f"/v2/companies/{cid}/contacts")
    as_list = await call(accounts, world["buyer"], "GET", f"/companies/{cid}/contacts")
    for answer in (seen, listed, as_list):
        assert answer.status_code == 200 and NOTES not in answer.text
    assert seen.json()["phone"] == "+74951234567" and seen.json()["notes"] is None
    assert [c["id"] for c in listed.json()["items"]] == [made["id"]]
    assert [c["notes"] for c in as_list.json()] == [None]

    etag = seen.headers["etag"]
    sends_notes = await call(accounts, world["buyer"], "PATCH", path, {"notes": ""}, if_match=etag)
    assert sends_notes.status_code == 422
    assert [e["field"] for e in sends_notes.json()["errors"]] == ["notes"]
    renamed = await call(
        accounts, world["buyer"], "PATCH", path, {"name": "P. Orlov"}, if_match=etag
    )
    assert renamed.status_code == 200 and renamed.json()["notes"] is None
    kept = await call(accounts, world["olga"], "GET", path)
    assert (kept.json()["name"], kept.json()["notes"]) == ("P. Orlov", NOTES)
    gone = await call(accounts, world["buyer"], "DELETE", path)
    assert gone.status_code == 204
    assert (await call(accounts, world["olga"], "GET", path)).status_code == 404
    events = await outbox(accounts, ContactUpsertedV1.full_type())
    assert len(events) == 3 and all("notes" not in e["data"] for e in events)
    assert NOTES not in str(events)
    removed = await outbox(accounts, ContactRemovedV1.full_type())
    assert [e["data"]["contact_id"] for e in removed] == [made["id"]]


async def test_another_companys_buyer_and_another_manager_get_404_and_change_nothing(
    accounts, world
):
    cid = world["id"]
    made = await add_contact(accounts, world["olga"], cid, notes=NOTES)
    interaction = await call(
        accounts,
        world["olga"],
        "POST",
        f"/companies/{cid}/interactions",
        {"kind": "call", "occurred_at": "2026-01-01T10:00:00Z", "contact_id": made["id"]},
    )
    assert interaction.status_code == 201, interaction.text
    base = f"/companies/{cid}"
    one = f"{base}/contacts/{made['id']}"
    before = await snapshot(accounts, *TABLES)
    for who in ("stranger", "ivan"):
        for method, path, body in [
            ("GET", f"{base}/contacts", None),
            ("GET", f"/v2{base}/contacts", None),
            ("GET", one, None),
            ("POST", f"{base}/contacts", {"name": "Mole"}),
            ("PATCH", one, {"name": "Taken over"}),
            ("DELETE", one, None),
        ]:
            answer = await call(accounts, world[who], method, path, body, if_match="*")
            assert refused(answer), (who, method, path, answer.status_code)
    for method, path, body in [
        ("GET", f"{base}/interactions", None),
        ("GET", f"{base}/interactions/{interaction.json()['id']}", None),
        ("POST", f"{base}/interactions", {"kind": "call", "occurred_at": "2026-01-02T10:00:00Z"}),
    ]:
        assert refused(await call(accounts, world["ivan"], method, path, body)), path
    assert await snapshot(accounts, *TABLES) == before
    assert (await call(accounts, world["olga"], "GET", one)).json()["notes"] == NOTES


async def test_a_buyer_sees_no_interactions_nor_which_contacts_are_stale(accounts, world):
    cid = world["id"]
    made = await add_contact(accounts, world["olga"], cid)
    recorded = await call(
        accounts,
        world["olga"],
        "POST",
        f"/companies/{cid}/interactions",
        {"kind": "visit", "occurred_at": "2026-01-01T10:00:00Z", "contact_id": made["id"]},
    )
    assert recorded.status_code == 201
    buyer = world["buyer"]
    for method, path, body in [
        ("GET", f"/companies/{cid}/interactions", None),
        ("GET", f"/companies/{cid}/interactions/{recorded.json()['id']}", None),
        (
            "POST",
            f"/companies/{cid}/interactions",
            {"kind": "call", "occurred_at": "2026-01-02T10:00:00Z"},
        ),
        ("GET", f"/companies/{cid}/contacts?stale=true", None),
    ]:
        assert (await call(accounts, buyer, method, path, body)).status_code == 403, path
    seen = (await call(accounts, buyer, "GET", f"/companies/{cid}/contacts/{made['id']}")).json()
    assert seen["last_touch_at"] is None
    staff = (
        await call(accounts, world["olga"], "GET", f"/companies/{cid}/contacts/{made['id']}")
    ).json()
    assert staff["last_touch_at"] == "2026-01-01T10:00:00Z"


async def test_a_change_needs_the_current_etag(accounts, world):
    made = await add_contact(accounts, world["olga"], world["id"])
    path = f"/companies/{world['id']}/contacts/{made['id']}"
    read = await call(accounts, world["olga"], "GET", path)
    etag = read.headers["etag"]
    missing = await call(accounts, world["olga"], "PATCH", path, {"buying_role": "owner"})
    first = await call(
        accounts, world["olga"], "PATCH", path, {"buying_role": "owner"}, if_match=etag
    )
    stale = await call(
        accounts, world["olga"], "PATCH", path, {"buying_role": "technical"}, if_match=etag
    )
    assert missing.status_code == 428
    assert first.status_code == 200 and first.json()["version"] == made["version"] + 1
    assert first.headers["etag"] != etag
    assert stale.status_code == 412 and stale.headers["etag"] == first.headers["etag"]
    now = (await call(accounts, world["olga"], "GET", path)).json()
    assert (now["buying_role"], now["version"]) == ("owner", made["version"] + 1)
    nulls = await call(accounts, world["olga"], "PATCH", path, {"name": None}, if_match="*")
    assert nulls.status_code == 422 and nulls.json()["errors"][0]["field"] == "name"


async def test_bad_contacts_and_interactions_are_422_naming_the_field_and_change_nothing(
    accounts, world
):
    cid = world["id"]
    theirs = await add_contact(accounts, ADMIN, world["other"])
    ours = await add_contact(accounts, ADMIN, cid)
    await add_goal(accounts, world["other"], "theirs")
    before = await snapshot(accounts, *TABLES)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    contact_cases = [
        ({"birthday": tomorrow}, "birthday"),
        ({"birthday": "1850-05-01"}, "birthday"),
        ({"phone": "8 495 123"}, "phone"),
        ({"phone": "+7 495 CALL-ME"}, "phone"),
        ({"email": "pavel at alpha"}, "email"),
        ({"user_id": str(world["stranger_id"])}, "user_id"),
        ({"buying_role": "cfo"}, "buying_role"),
    ]
    for fields, field in contact_cases:
        answer = await call(
            accounts, world["olga"], "POST", f"/companies/{cid}/contacts", {"name": "X", **fields}
        )
        assert answer.status_code == 422, (fields, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    moment = "2026-03-01T10:00:00Z"
    interaction_cases = [
        ({"contact_id": theirs["id"]}, "contact_id"),
        ({"knowledge_goal_id": str(uuid.uuid4())}, "knowledge_goal_id"),
        ({"manager_id": str(world["buyer_id"])}, "manager_id"),
        ({"next_step_date": "2026-02-01"}, "next_step_date"),
        (
            {
                "occurred_at": (datetime.fromisoformat(tomorrow) + timedelta(days=3)).isoformat()
                + "Z"
            },
            "occurred_at",
        ),
    ]
    for fields, field in interaction_cases:
        body = {"kind": "call", "occurred_at": moment, "contact_id": ours["id"], **fields}
        answer = await call(accounts, world["olga"], "POST", f"/companies/{cid}/interactions", body)
        assert answer.status_code == 422, (fields, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    assert await snapshot(accounts, *TABLES) == before


async def test_an_interaction_achieves_a_goal_and_is_its_contacts_last_touch(accounts, world):
    cid = world["id"]
    made = await add_contact(accounts, world["olga"], cid)
    goal = await add_goal(accounts, cid, "decision-maker", 2026)
    body = {
        "kind": "meeting",
        "occurred_at": "2026-03-02T09:30:00Z",
        "contact_id": made["id"],
        "outcome": "Met the owner; tender in May",
        "next_step": "Send the tender price list",
        "next_step_date": "2026-03-10",
        "knowledge_goal_id": goal["id"],
    }
    answer = await call(accounts, world["olga"], "POST", f"/companies/{cid}/interactions", body)
    assert answer.status_code == 201, answer.text
    recorded = answer.json()
    assert recorded["manager_id"] == str(world["olga_id"])
    assert answer.headers["location"] == f"/companies/{cid}/interactions/{recorded['id']}"
    goals = (await call(accounts, ADMIN, "GET", f"/companies/{cid}/knowledge-goals")).json()
    assert [(g["code"], g["status"]) for g in goals] == [("decision-maker", "achieved")]
    # An admin records two more for Olga, naming her.
    more = {
        **body,
        "knowledge_goal_id": None,
        "next_step_date": None,
        "manager_id": str(world["olga_id"]),
    }
    later = {**more, "occurred_at": "2026-04-01T08:00:00Z"}
    earlier = {**more, "occurred_at": "2026-02-01T08:00:00Z"}
    for extra in (later, earlier):
        assert (
            await call(accounts, ADMIN, "POST", f"/companies/{cid}/interactions", extra)
        ).status_code == 201
    contact = (
        await call(accounts, world["olga"], "GET", f"/companies/{cid}/contacts/{made['id']}")
    ).json()
    assert contact["last_touch_at"] == "2026-04-01T08:00:00Z"
    listed = (
        await call(accounts, world["olga"], "GET", f"/v2/companies/{cid}/interactions")
    ).json()
    assert [i["occurred_at"][:10] for i in listed["items"]] == [
        "2026-04-01",
        "2026-03-02",
        "2026-02-01",
    ]
    events = await outbox(accounts, InteractionRecordedV1.full_type())
    first = InteractionRecordedV1.model_validate(events[0]["data"])
    assert (first.interaction_id, first.knowledge_goal_id) == (
        uuid.UUID(recorded["id"]),
        uuid.UUID(goal["id"]),
    )
    assert first.next_step_date.isoformat() == "2026-03-10"
    assert "outcome" not in events[0]["data"] and "tender in May" not in str(events)


def at(moment: str):
    return moved_to(datetime.fromisoformat(moment))


async def stale_names(app, headers, company_id) -> list[str]:
    answer = await call(app, headers, "GET", f"/v2/companies/{company_id}/contacts?stale=true")
    assert answer.status_code == 200, answer.text
    return [c["name"] for c in answer.json()["items"]]


async def test_stale_contacts_on_the_day_the_clock_says(accounts, world):
    """Six months (the default) without a touch, counted from the last interaction, or from
    the day a never-touched contact was added; or an e-mail that bounced."""
    cid, olga = world["id"], world["olga"]
    with at("2031-01-10T12:00:00+00:00"):
        touched = await add_contact(accounts, olga, cid, name="A touched in May")
        await add_contact(accounts, olga, cid, name="B never touched")
        bounced = await add_contact(accounts, olga, cid, name="C bounced", email="c@alpha.example")
    with at("2031-05-01T12:00:00+00:00"):
        for contact in (touched, bounced):
            body = {
                "kind": "call",
                "occurred_at": "2031-05-01T10:00:00Z",
                "contact_id": contact["id"],
            }
            assert (
                await call(accounts, olga, "POST", f"/companies/{cid}/interactions", body)
            ).status_code == 201
        path = f"/companies/{cid}/contacts/{bounced['id']}"
        bounce = {"email_bounced_at": "2031-04-30T00:00:00Z"}
        assert (await call(accounts, olga, "PATCH", path, bounce, if_match="*")).status_code == 200
    with at("2031-07-05T12:00:00+00:00"):
        await add_contact(accounts, olga, cid, name="D added in July")
        assert await stale_names(accounts, olga, cid) == ["C bounced"]
    with at("2031-07-20T12:00:00+00:00"):
        assert await stale_names(accounts, olga, cid) == ["B never touched", "C bounced"]
        path = f"/companies/{cid}/contacts/{bounced['id']}"
        new_address = {"email": "c2@alpha.example"}
        fixed = await call(accounts, olga, "PATCH", path, new_address, if_match="*")
        assert fixed.json()["email_bounced_at"] is None
        assert await stale_names(accounts, olga, cid) == ["B never touched"]
    with at("2031-11-05T12:00:00+00:00"):
        assert await stale_names(accounts, olga, cid) == [
            "A touched in May",
            "B never touched",
            "C bounced",
        ]
        stale = f"/companies/{cid}/contacts?stale=true"
        assert refused(await call(accounts, world["ivan"], "GET", stale))


async def test_a_managers_stale_contacts_across_its_clients_and_no_one_elses(accounts, world):
    with at("2031-01-10T12:00:00+00:00"):
        mine = await add_contact(accounts, world["olga"], world["id"], name="Olga's quiet one")
        theirs = await add_contact(accounts, ADMIN, world["other"], name="Nobody's quiet one")
        second = await add_company(accounts, sales_manager_id=str(world["olga_id"]))
        also_mine = await add_contact(accounts, ADMIN, second["id"], name="Another of Olga's")
    with at("2031-09-01T12:00:00+00:00"):
        olgas = await call(accounts, world["olga"], "GET", "/v2/contacts/stale?limit=1")
        page_two = await call(
            accounts,
            world["olga"],
            "GET",
            f"/v2/contacts/stale?limit=1&cursor={olgas.json()['next_cursor']}",
        )
        ivans = await call(accounts, world["ivan"], "GET", "/contacts/stale")
        everyone = await call(accounts, ADMIN, "GET", "/contacts/stale")
        buyers = await call(accounts, world["buyer"], "GET", "/contacts/stale")
    found = olgas.json()["items"] + page_two.json()["items"]
    assert sorted(c["id"] for c in found) == sorted([mine["id"], also_mine["id"]])
    assert page_two.json()["next_cursor"] is None
    assert ivans.json() == []
    assert {c["id"] for c in everyone.json()} == {mine["id"], theirs["id"], also_mine["id"]}
    assert buyers.status_code == 403

"""The use cases of notifications called as functions with a session, no HTTP: what each
decides (refuses, hides, replaces) and what it leaves in the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import AnyHttpUrl
from sqlalchemy import select

from services.notifications.domain import signing
from services.notifications.store.messages import RuleCache
from services.notifications.store.models import Message, Rule, UserPreference, WebhookDelivery
from services.notifications.usecases import builtins, inbox, links, preferences, templates
from services.notifications.usecases import rules as rule_cases
from services.notifications.usecases import webhooks as webhook_cases
from shared.auth import Role
from shared.clock import utcnow
from shared.events.outbox import OutboxMessage
from shared.pagination import EVERY
from shared.problems import Conflict, Forbidden, NotFound, Unprocessable
from shared.testing.fixtures import principal

ADMIN = principal(Role.ADMIN)
SECRET = "link-secret"
ORDER_RULE = {
    "code": "own.order.placed",
    "event_type": "order.placed.v1",
    "audience": "buyers",
    "channel": "inbox",
    "kind": "orders",
    "template": "order_placed",
}


@pytest.fixture
async def sessions(start_app):
    """A session maker on the notifications database, built-ins seeded."""
    return (await start_app("notifications")).state.sessionmaker


async def test_a_rule_is_refused_for_an_unknown_template_or_operator_and_nothing_is_stored(
    sessions,
):
    cache = RuleCache(60)
    async with sessions() as session:
        with pytest.raises(Unprocessable) as unknown:
            await rule_cases.create_rule(session, cache, {**ORDER_RULE, "template": "nope"})
        assert [e.field for e in unknown.value.errors] == ["template"]
        bad_op = {**ORDER_RULE, "conditions": [{"path": "event.x", "op": "like", "value": 1}]}
        with pytest.raises(Unprocessable, match="unknown operator"):
            await rule_cases.create_rule(session, cache, bad_op)
        assert await session.scalar(select(Rule).where(Rule.code == ORDER_RULE["code"])) is None


async def test_a_new_rule_is_read_at_once_by_this_process_once_it_commits(sessions):
    cache = RuleCache(3600)
    async with sessions() as session:
        before = {r.code for r in await cache.rules_for(session, "order.placed.v1")}
    async with sessions() as session, session.begin():
        await rule_cases.create_rule(session, cache, dict(ORDER_RULE))
    async with sessions() as session:
        after = {r.code for r in await cache.rules_for(session, "order.placed.v1")}
    assert after - before == {ORDER_RULE["code"]}
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict):
            await rule_cases.create_rule(session, cache, dict(ORDER_RULE))


async def test_a_builtin_rule_may_be_changed_but_not_deleted_and_a_bad_change_leaves_it(sessions):
    cache = RuleCache(60)
    rule_id = builtins.rule_id("order.placed.inbox")
    async with sessions() as session, session.begin():
        with pytest.raises(Conflict):
            await rule_cases.delete_rule(session, cache, rule_id)
        with pytest.raises(Unprocessable):
            await rule_cases.update_rule(session, cache, rule_id, {"audience": "everybody"})
        assert (await session.get(Rule, rule_id)).audience == "buyers"
        changed = await rule_cases.update_rule(session, cache, rule_id, {"enabled": False})
        assert changed.enabled is False and changed.builtin
    with pytest.raises(NotFound):
        async with sessions() as session:
            await rule_cases.get_rule(session, uuid.uuid4())


async def test_a_template_that_does_not_compile_is_refused_and_the_preview_is_strict(sessions):
    async with sessions() as session, session.begin():
        with pytest.raises(Unprocessable, match="does not compile"):
            await templates.put_template(session, "own", "en", "Hi {{ x", "body", None)
        await templates.put_template(session, "own", "en", "Hi {{ name }}", "B", {"name": "Ann"})
        assert (await templates.preview(session, "own", "en", None)).subject == "Hi Ann"
        assert (await templates.preview(session, "own", "en", {"name": "Bo"})).subject == "Hi Bo"
        with pytest.raises(Unprocessable, match="does not render"):
            await templates.preview(session, "own", "en", {})
        # a new text without a sample keeps the stored sample
        await templates.put_template(session, "own", "en", "Hello {{ name }}", "B", None)
        assert (await templates.preview(session, "own", "en", None)).subject == "Hello Ann"
        with pytest.raises(NotFound):
            await templates.preview(session, "own", "ru", None)


async def test_a_company_subscription_names_only_events_about_a_company():
    company = uuid.uuid4()
    assert webhook_cases.about_the_company(company, ["order.placed.v1", "*"]) == [
        "*",
        "order.placed.v1",
    ]
    with pytest.raises(Unprocessable) as refused:
        webhook_cases.about_the_company(company, ["order.placed.v1", "stock.changed.v1"])
    assert [(e.field, e.row) for e in refused.value.errors] == [("event_types[1]", 2)]
    assert webhook_cases.about_the_company(None, ["stock.changed.v1"]) == ["stock.changed.v1"]


async def test_a_url_into_our_own_network_is_refused_unless_allowed():
    url = AnyHttpUrl("http://127.0.0.1:8080/hook")
    with pytest.raises(Unprocessable) as refused:
        await webhook_cases.reachable_url(url, allow_private=False)
    assert "loopback" in refused.value.errors[0].message
    assert await webhook_cases.reachable_url(url, allow_private=True) == str(url)


async def test_who_may_subscribe_for_which_company_and_see_which_subscription(sessions):
    mine, other = uuid.uuid4(), uuid.uuid4()
    admin_of_mine = principal(Role.COMPANY_ADMIN, company_id=mine)
    url = AnyHttpUrl("http://127.0.0.1/hook")
    subscribe = {"url": url, "event_types": ["*"], "description": "", "allow_private": True}
    async with sessions() as session, session.begin():
        with pytest.raises(Unprocessable, match="company you act for"):
            await webhook_cases.subscribe(
                session, principal(Role.COMPANY_ADMIN), company_id=None, **subscribe
            )
        with pytest.raises(NotFound):
            await webhook_cases.subscribe(session, admin_of_mine, company_id=other, **subscribe)
        own = await webhook_cases.subscribe(session, admin_of_mine, company_id=None, **subscribe)
        assert own.company_id == mine and own.secret.startswith("whsec_")
        seller = await webhook_cases.subscribe(session, ADMIN, company_id=None, **subscribe)
        theirs = await webhook_cases.subscribe(session, ADMIN, company_id=other, **subscribe)
        for hidden in (seller.id, theirs.id):
            with pytest.raises(NotFound):
                await webhook_cases.subscription(session, admin_of_mine, hidden)
        listed, _ = await webhook_cases.subscriptions(session, admin_of_mine, None, EVERY)
        assert [s.id for s in listed] == [own.id]
        assert len((await webhook_cases.subscriptions(session, ADMIN, None, EVERY))[0]) == 3
        theirs_listed, _ = await webhook_cases.subscriptions(session, ADMIN, other, EVERY)
        assert [s.id for s in theirs_listed] == [theirs.id]


async def test_resuming_a_paused_subscriber_makes_what_waited_due_now(sessions):
    later = utcnow() + timedelta(hours=3)
    async with sessions() as session, session.begin():
        sub = await webhook_cases.subscribe(
            session,
            ADMIN,
            url=AnyHttpUrl("http://127.0.0.1/hook"),
            event_types=["*"],
            description="",
            company_id=None,
            allow_private=True,
        )
        sub.status, sub.paused_at, sub.failing_since = "paused", utcnow(), utcnow()
        waiting = WebhookDelivery(
            subscription_id=sub.id,
            event_id=uuid.uuid4(),
            event_type="order.placed.v1",
            payload={},
            status="pending",
            next_attempt_at=later,
        )
        session.add(waiting)
        await session.flush()
        resumed = await webhook_cases.resume(session, ADMIN, sub.id)
        assert (resumed.status, resumed.paused_at, resumed.failing_since) == ("active", None, None)
        await session.refresh(waiting)
        assert waiting.next_attempt_at < later


async def test_a_forged_link_is_unknown_and_a_real_one_unsubscribes_that_kind(sessions):
    person_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        with pytest.raises(NotFound):
            await links.unsubscribe(session, SECRET, "forged.token")
        survey_token = signing.link_token(SECRET, "survey", u=str(person_id))
        with pytest.raises(NotFound):  # a token for another purpose
            await links.unsubscribe(session, SECRET, survey_token)
        token = signing.link_token(SECRET, "unsubscribe", u=str(person_id), k="offers")
        assert await links.unsubscribe(session, SECRET, token) == "offers"
        switches = await session.scalars(
            select(UserPreference).where(UserPreference.user_id == person_id)
        )
        assert [(p.kind, p.channel, p.enabled) for p in switches] == [("offers", "email", False)]


async def test_answering_a_survey_again_replaces_the_score_and_each_answer_is_published(sessions):
    person_id, company_id = uuid.uuid4(), uuid.uuid4()
    token = signing.link_token(
        SECRET, "survey", u=str(person_id), c=str(company_id), s="order=1", t="delivery"
    )
    for score in (3, 9):
        async with sessions() as session, session.begin():
            answer = {"metric": "nps", "score": score, "comment": None}
            assert await links.answer_survey(session, SECRET, token, **answer) == "order=1"
    async with sessions() as session:
        published = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.type.like("%survey.answered%"))
        )
        assert [m.payload["data"]["score"] for m in published] == [3, 9]
        stored = await session.execute(select(links.surveys.SurveyResponse.score))
        assert stored.scalars().all() == [9]


async def test_a_person_reads_only_its_own_inbox_of_the_company_it_acts_for(sessions):
    company, other = uuid.uuid4(), uuid.uuid4()
    buyer = principal(Role.BUYER, company_id=company)
    async with sessions() as session, session.begin():
        ids = {}
        for name, about in (("own", company), ("other", other), ("none", None)):
            m = Message(
                rule_code=f"r.{name}",
                event_type="order.placed.v1",
                dedupe_key=name,
                recipient_id=buyer.user_id,
                company_id=about,
                channel="inbox",
                kind="orders",
                locale="en",
                subject=name,
                body="",
                status="delivered",
                due_at=utcnow(),
            )
            session.add(m)
            await session.flush()
            ids[name] = m.id
        assert await inbox.unread_count(session, buyer) == 2
        with pytest.raises(NotFound):
            await inbox.mark_read(session, buyer, ids["other"])
        with pytest.raises(NotFound):  # another person's message
            await inbox.mark_read(session, principal(Role.BUYER, company_id=company), ids["own"])
        await inbox.mark_read(session, buyer, ids["own"])
        await session.flush()  # the request's commit would
        assert await inbox.unread_count(session, buyer) == 1
        await inbox.mark_all_read(session, buyer)
        assert await inbox.unread_count(session, buyer) == 0
        staff_view = principal(Role.ADMIN, subject=buyer.subject)
        assert await inbox.unread_count(session, staff_view) == 1  # the other company's
        with pytest.raises(Forbidden):
            await inbox.unread_count(session, principal(Role.BUYER, kind="api_key"))


async def test_preferences_of_a_person_and_of_the_company_it_manages(sessions):
    company = uuid.uuid4()
    admin = principal(Role.COMPANY_ADMIN, company_id=company)
    async with sessions() as session, session.begin():
        assert await preferences.mine(session, admin) == preferences.PersonSettings()
        values = {"locale": "ru", "timezone": None, "quiet_from": None, "quiet_to": None}
        saved = await preferences.set_mine(
            session, admin, {**values, "digest": True}, [("offers", "email", False)]
        )
        assert (saved.locale, saved.digest) == ("ru", True)
        assert saved.preferences == {("offers", "email"): False}
        company_prefs = await preferences.set_company(
            session, admin, company, "en", [("stock", "inbox", False)]
        )
        assert company_prefs.preferences == {("stock", "inbox"): False}
        with pytest.raises(NotFound):
            await preferences.of_company(session, admin, uuid.uuid4())
        with pytest.raises(NotFound):
            await preferences.of_company(
                session, principal(Role.BUYER, company_id=company), company
            )


async def test_restoring_the_builtins_puts_back_what_is_missing_and_keeps_edits(sessions):
    async with sessions() as session, session.begin():
        await session.delete(await session.get(Rule, builtins.rule_id("order.placed.email")))
        edited = await session.get(Rule, builtins.rule_id("order.placed.inbox"))
        edited.enabled = False
    async with sessions() as session, session.begin():
        await builtins.restore_builtins(session)
    async with sessions() as session:
        back = await session.get(Rule, builtins.rule_id("order.placed.email"))
        assert back is not None and back.builtin
        assert (await session.get(Rule, builtins.rule_id("order.placed.inbox"))).enabled is False


def test_a_template_file_is_its_subject_a_blank_line_and_its_body():
    assert builtins.parse_template("Subject\n\nLine 1\n\nLine 2\n") == (
        "Subject",
        "Line 1\n\nLine 2",
    )
    assert builtins.parse_template("S\n\n\nafter a blank\n") == ("S", "\nafter a blank")

"""The business rules of notifications as plain Python: no database, no broker."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import pytest

from services.notifications.domain import delivery, rules, signing, templates
from services.notifications.usecases.builtins import builtin_rules, builtin_templates

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def rule(**overrides):
    base = {
        "code": "r",
        "event_type": "order.placed.v1",
        "audience": "buyers",
        "channel": "email",
        "kind": "orders",
        "template": "order_placed",
    }
    return rules.rule_from_row({**base, **overrides})


def test_conditions_on_payload_segment_and_company():
    ctx = {
        "event": {"total_minor": 150000, "currency": "EUR", "lines": [{"sku": "A"}]},
        "segment": {"abc_revenue": "A"},
        "company": {"client_group": "dealers"},
    }
    c = rules.Condition
    assert rules.matches([c("event.total_minor", "gte", 100000)], ctx)
    assert not rules.matches([c("event.total_minor", "gt", 150000)], ctx)
    assert rules.matches([c("segment.abc_revenue", "in", ["A", "B"])], ctx)
    assert not rules.matches([c("segment.xyz", "eq", "X")], ctx)  # absent never equals
    assert rules.matches([c("segment.xyz", "ne", "X")], ctx)
    assert rules.matches([c("event.lines.0.sku", "eq", "A")], ctx)
    assert rules.matches([c("company.client_group", "eq", "dealers")], ctx)
    assert rules.matches([c("event.currency", "exists", True)], ctx)
    assert rules.matches([c("event.reason", "exists", False)], ctx)
    assert rules.matches(
        [c("event.total_minor", "gt", 1), c("segment.abc_revenue", "eq", "A")], ctx
    )
    assert not rules.matches(
        [c("event.total_minor", "gt", 1), c("segment.abc_revenue", "eq", "C")], ctx
    )


def test_decimal_strings_compare_as_numbers():
    assert rules.holds(
        rules.Condition("event.available", "lte", 0), {"event": {"available": "0.000"}}
    )
    assert not rules.holds(
        rules.Condition("event.available", "lte", 0), {"event": {"available": "5"}}
    )


def test_bad_rules_are_refused():
    with pytest.raises(rules.RuleError):
        rules.Condition("event.x", "like", 1)
    with pytest.raises(rules.RuleError):
        rules.Condition("payload.x", "eq", 1)
    with pytest.raises(rules.RuleError):
        rule(audience="everyone")
    with pytest.raises(rules.RuleError):
        rule(channel="sms")


def test_schedule_after_the_event_or_a_date_in_it():
    assert rules.due_at(rule(), {"event": {}}, NOW) == NOW
    assert rules.due_at(rule(schedule={"days": 3}), {"event": {}}, NOW) == NOW + timedelta(days=3)
    expiring = rule(schedule={"from_path": "event.valid_until", "days": -2})
    due = rules.due_at(expiring, {"event": {"valid_until": "2026-12-01"}}, NOW)
    assert due == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    # a date already past means now, never in the past
    assert rules.due_at(expiring, {"event": {"valid_until": "2026-11-01"}}, NOW) == NOW


def test_dedupe_by_event_or_by_payload_fields():
    event_id = uuid.uuid4()
    ctx = {"event": {"company_id": "c1", "oldest_overdue_date": "2026-11-10"}}
    assert rules.dedupe_key(rule(), event_id, ctx) == str(event_id)
    keyed = rule(dedupe=["event.company_id", "event.oldest_overdue_date"])
    assert rules.dedupe_key(keyed, event_id, ctx) == "c1|2026-11-10"
    assert rules.dedupe_key(keyed, uuid.uuid4(), ctx) == "c1|2026-11-10"


def test_cancel_on_a_later_event_of_the_thread():
    r = rule(
        thread="event.company_id",
        cancel_on=[
            {
                "event_type": "company.credit_changed.v1",
                "when": [{"path": "event.overdue_minor", "op": "lte", "value": 0}],
            }
        ],
    )
    paid = {"event": {"company_id": "c1", "overdue_minor": 0}}
    still = {"event": {"company_id": "c1", "overdue_minor": 10}}
    assert rules.cancels(r, "company.credit_changed.v1", paid)
    assert not rules.cancels(r, "company.credit_changed.v1", still)
    assert not rules.cancels(r, "order.placed.v1", paid)
    assert rules.thread_of(r, paid) == "event.company_id=c1"


def test_event_company_from_company_or_client_id():
    c = uuid.uuid4()
    assert rules.event_company({"company_id": str(c)}) == c
    assert rules.event_company({"client_id": str(c)}) == c
    assert rules.event_company({"sku": "X"}) is None
    assert rules.short_type("com.b2b.order.placed.v1") == "order.placed.v1"


def test_preferences_person_over_company_over_default():
    assert delivery.channel_enabled("orders", "email", {}, {})
    assert not delivery.channel_enabled("orders", "email", {}, {("orders", "email"): False})
    assert delivery.channel_enabled(
        "orders", "email", {("orders", "email"): True}, {("orders", "email"): False}
    )
    assert not delivery.channel_enabled("offers", "email", {("offers", "email"): False}, {})
    assert delivery.channel_enabled("system", "email", {("system", "email"): False}, {})


def test_quiet_hours_defer_to_their_end_in_the_recipients_zone():
    night = delivery.QuietHours(clock(22, 0), clock(7, 0), "Europe/Moscow")  # UTC+3
    at_23_msk = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert delivery.after_quiet_hours(at_23_msk, night) == datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    at_03_msk = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert delivery.after_quiet_hours(at_03_msk, night) == datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    noon_msk = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert delivery.after_quiet_hours(noon_msk, night) == noon_msk
    lunch = delivery.QuietHours(clock(13, 0), clock(14, 0), "UTC")
    assert delivery.after_quiet_hours(
        datetime(2026, 11, 23, 13, 30, tzinfo=UTC), lunch
    ) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert delivery.after_quiet_hours(NOW, None) == NOW


def test_digest_time_and_throttle():
    assert delivery.next_digest_at(NOW, 8, "UTC") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert delivery.next_digest_at(NOW, 15, "UTC") == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert delivery.route_email(digest_mode=False, recent_emails=19, limit=20) == delivery.SEND
    assert delivery.route_email(digest_mode=False, recent_emails=20, limit=20) == delivery.DIGEST
    assert delivery.route_email(digest_mode=True, recent_emails=0, limit=20) == delivery.DIGEST


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    lows = [delivery.retry_delay(n, 10, 3600, rand=lambda: 0.0) for n in range(1, 6)]
    highs = [delivery.retry_delay(n, 10, 3600, rand=lambda: 1.0) for n in range(1, 6)]
    assert lows == [5, 10, 20, 40, 80]
    assert highs == [10, 20, 40, 80, 160]
    assert delivery.retry_delay(30, 10, 3600, rand=lambda: 1.0) == 3600
    # the default schedule spans hours before the 20th attempt gives up
    total = sum(delivery.retry_delay(n, 10, 3600, rand=lambda: 0.0) for n in range(1, 20))
    assert total > 5 * 3600  # at the least; about 8.5 h on average


def test_pause_after_failing_long_enough():
    assert not delivery.should_pause(None, NOW, 60)
    assert not delivery.should_pause(NOW - timedelta(seconds=59), NOW, 60)
    assert delivery.should_pause(NOW - timedelta(seconds=60), NOW, 60)


def test_webhook_signature_round_trip_and_replay_window():
    body = b'{"id":"1"}'
    now = time.time()
    headers = signing.webhook_headers(
        "whsec_x", body, event_id="1", event_type="order.placed.v1", delivery_id="d", now=now
    )
    ts, sig = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
    assert sig.startswith("v1=")
    assert signing.verify_webhook("whsec_x", ts, body, sig, now=now)
    assert not signing.verify_webhook("whsec_y", ts, body, sig, now=now)
    assert not signing.verify_webhook("whsec_x", ts, body + b" ", sig, now=now)
    assert not signing.verify_webhook("whsec_x", ts, body, sig, now=now + 3600)


def test_link_tokens_are_signed_and_bound_to_their_purpose():
    token = signing.link_token("s", "unsubscribe", u="user", k="orders")
    assert signing.read_link_token("s", "unsubscribe", token) == {"u": "user", "k": "orders"}
    assert signing.read_link_token("s", "survey", token) is None
    assert signing.read_link_token("other", "unsubscribe", token) is None
    assert signing.read_link_token("s", "unsubscribe", token[:-2] + "AA") is None
    assert signing.read_link_token("s", "unsubscribe", "garbage") is None


def test_templates_render_in_a_sandbox():
    out = templates.render(
        "Order {{ event.number }}",
        "{{ event.total | money('EUR') }}",
        {"event": {"number": "N1", "total": 123456}},
    )
    assert out.subject == "Order N1"
    assert out.body == "€1,234.56\n"
    with pytest.raises(templates.TemplateProblem):
        templates.render("{{ ''.__class__.__mro__ }}", "x", {}, strict=True)
    with pytest.raises(templates.TemplateProblem):
        templates.render("{{ missing.field }}", "x", {}, strict=True)
    assert templates.render("[{{ missing.field }}]", "x", {}).subject == "[]"
    with pytest.raises(templates.TemplateProblem):
        templates.check("{% if %}", "x")
    assert templates.pick_locale("en", {"ru", "en"}, "ru") == "en"
    assert templates.pick_locale("de", {"ru", "en"}, "ru") == "ru"
    assert templates.pick_locale(None, {"en"}, "ru") == "en"


@pytest.mark.parametrize("key", sorted(builtin_templates()))
def test_every_builtin_template_renders_its_sample_in_russian_and_english(key):
    sample, variants = builtin_templates()[key]
    assert set(variants) == {"ru", "en"}
    for subject, body in variants.values():
        out = templates.render(subject, body, sample, strict=True)
        assert out.subject and out.body.strip()


@pytest.mark.parametrize("row", builtin_rules(), ids=lambda r: r["code"])
def test_every_builtin_rule_is_valid_and_names_a_template(row):
    built = rules.rule_from_row(row)
    assert built.template in builtin_templates()

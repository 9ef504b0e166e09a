# ruff: noqa: RUF001 - Russian templates are Cyrillic on purpose
"""The built-in rules and templates: version 1 seeded by migration notifications_0003, version 2
(the alerts of pricing, orders and analytics about a client's terms, stock and assortment) by
notifications_0004, version 3 (sales) by notifications_0005, version 4 (the invitation e-mail)
by notifications_0006.

Frozen once released: change a built-in through the API, or add a migration that changes the
rows. Admins may edit or disable every built-in rule; they stay marked `builtin`.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

QUOTE_CLOSED = ["quote.accepted.v1", "quote.declined.v1", "quote.changes_requested.v1"]


def _rule(
    code: str,
    event_type: str,
    audience: str,
    channel: str,
    kind: str,
    template: str,
    description: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "code": code,
        "event_type": event_type,
        "audience": audience,
        "channel": channel,
        "kind": kind,
        "template": template,
        "description": description,
        "conditions": extra.get("conditions", []),
        "schedule": extra.get("schedule"),
        "dedupe": extra.get("dedupe", []),
        "thread": extra.get("thread"),
        "cancel_on": extra.get("cancel_on", []),
    }


_OVERDUE = [{"path": "event.overdue_minor", "op": "gt", "value": 0}]
_OVERDUE_CLEARED = [
    {
        "event_type": "company.credit_changed.v1",
        "when": [{"path": "event.overdue_minor", "op": "lte", "value": 0}],
    }
]
_OVERDUE_KEY = ["event.company_id", "event.oldest_overdue_date"]


def _overdue(code: str, days: int, audience: str, channel: str, kind: str, template: str) -> dict:
    return _rule(
        code,
        "company.credit_changed.v1",
        audience,
        channel,
        kind,
        template,
        f"Overdue receivables: reminder {days} days after the oldest debt fell due",
        conditions=_OVERDUE,
        schedule={"from_path": "event.oldest_overdue_date", "days": days},
        dedupe=_OVERDUE_KEY,
        thread="event.company_id",
        cancel_on=_OVERDUE_CLEARED,
    )


RULES: list[dict[str, Any]] = [
    _rule(
        "order.placed.email",
        "order.placed.v1",
        "buyers",
        "email",
        "orders",
        "order_placed",
        "Order placed: the buyers get a confirmation",
    ),
    _rule(
        "order.placed.inbox",
        "order.placed.v1",
        "buyers",
        "inbox",
        "orders",
        "order_placed",
        "Order placed: in the buyers' inbox",
    ),
    _rule(
        "order.confirmed.email",
        "order.confirmed.v1",
        "buyers",
        "email",
        "orders",
        "order_confirmed",
        "ERP confirmed the order and promised a delivery window",
    ),
    _rule(
        "order.shipped.email",
        "order.shipped.v1",
        "buyers",
        "email",
        "orders",
        "order_shipped",
        "The order left the warehouse",
    ),
    _rule(
        "order.delivered.email",
        "order.delivered.v1",
        "buyers",
        "email",
        "orders",
        "order_delivered",
        "The order was delivered",
    ),
    _rule(
        "order.cancelled.email",
        "order.cancelled.v1",
        "buyers",
        "email",
        "orders",
        "order_cancelled",
        "The order was cancelled",
    ),
    _rule(
        "order.cancelled.manager",
        "order.cancelled.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "order_cancelled_manager",
        "A client's order was cancelled: the manager is told",
    ),
    _rule(
        "order.document.inbox",
        "order.document_added.v1",
        "buyers",
        "inbox",
        "orders",
        "order_document",
        "A document (invoice, waybill) is ready to download",
    ),
    _rule(
        "survey.delivery",
        "order.delivered.v1",
        "buyers",
        "email",
        "surveys",
        "delivery_survey",
        "A day after delivery: how did we do (NPS/CSAT link)",
        schedule={"days": 1},
    ),
    _rule(
        "quote.requested.manager",
        "quote.requested.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "quote_requested",
        "A client asked for a quote: a task for its sales manager",
    ),
    _rule(
        "quote.offered.email",
        "quote.offered.v1",
        "buyers",
        "email",
        "quotes",
        "quote_offered",
        "The sales manager offered prices",
    ),
    _rule(
        "quote.changes.manager",
        "quote.changes_requested.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "quote_changes_requested",
        "The client asked for changes to an offer",
    ),
    _rule(
        "quote.declined.email",
        "quote.declined.v1",
        "buyers",
        "email",
        "quotes",
        "quote_declined",
        "The sales manager will not quote",
    ),
    _rule(
        "quote.accepted.manager",
        "quote.accepted.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "quote_accepted",
        "The client accepted an offer; it is an order now",
    ),
    _rule(
        "quote.expiring.email",
        "quote.offered.v1",
        "buyers",
        "email",
        "quotes",
        "quote_expiring",
        "Two days before an offer expires, unless answered",
        schedule={"from_path": "event.valid_until", "days": -2},
        thread="event.quote_id",
        cancel_on=[{"event_type": t, "when": []} for t in QUOTE_CLOSED],
    ),
    _rule(
        "quote.stalled.manager",
        "quote.opened.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "quote_stalled",
        "An offer opened 3 days ago is not accepted yet: call the client",
        schedule={"days": 3},
        thread="event.quote_id",
        cancel_on=[{"event_type": t, "when": []} for t in QUOTE_CLOSED],
    ),
    _overdue("finance.overdue.due", 0, "company_admins", "email", "finance", "overdue_reminder"),
    _overdue("finance.overdue.7", 7, "company_admins", "email", "finance", "overdue_reminder"),
    _overdue("finance.overdue.14", 14, "company_admins", "email", "finance", "overdue_reminder"),
    _overdue(
        "finance.overdue.escalate", 14, "sales_manager", "inbox", "tasks", "overdue_escalation"
    ),
    _rule(
        "churn.reactivation",
        "client.churn_risk_raised.v1",
        "buyers",
        "email",
        "offers",
        "churn_reactivation",
        "Churn risk raised: a message inviting the client back",
    ),
    _rule(
        "churn.manager",
        "client.churn_risk_raised.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "churn_task",
        "Churn risk raised: a task for the sales manager",
    ),
    _rule(
        "segment.manager",
        "client.segment_changed.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "segment_changed",
        "The client moved to another segment",
    ),
    _rule(
        "webhook.paused.company",
        "notifications.webhook_paused.v1",
        "company_admins",
        "email",
        "system",
        "webhook_paused",
        "A company's webhook subscriber was paused",
        conditions=[{"path": "event.company_id", "op": "exists", "value": True}],
    ),
    _rule(
        "webhook.paused.admins",
        "notifications.webhook_paused.v1",
        "admins",
        "email",
        "system",
        "webhook_paused",
        "A seller-wide webhook subscriber was paused",
        conditions=[{"path": "event.company_id", "op": "exists", "value": False}],
    ),
]

_ORDER = {
    "order_id": "5d0c4a52-8a57-4b8e-9d0e-3f3c2b9c1a11",
    "company_id": "0b8f7c64-2a1e-4a55-8f0e-6a7d3c2b1e00",
    "number": "ORD-000123",
    "currency": "EUR",
    "total_minor": 1250000,
    "placed_at": "2026-11-20T10:00:00+00:00",
    "promised_from": "2026-11-25",
    "promised_to": "2026-11-27",
    "reason": "out of stock",
    "kind": "invoice",
    "on_time": True,
    "in_full": True,
}
_QUOTE = {
    "quote_id": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "company_id": _ORDER["company_id"],
    "number": "Q-000045",
    "currency": "EUR",
    "total_minor": 980000,
    "valid_until": "2026-12-01",
    "revision": 1,
    "message": "Volume discount for the season",
}
_COMMON = {
    "company": {"legal_name": "Stroymarket LLC"},
    "recipient": {"name": "Anna Petrova", "email": "anna@example.com"},
    "links": {
        "portal": "https://portal.example.com",
        "unsubscribe": "https://api.example.com/unsubscribe/TOKEN",
        "survey": "https://api.example.com/surveys/TOKEN",
    },
}


def _sample(event: dict[str, Any]) -> dict[str, Any]:
    return {**_COMMON, "event": event}


_CREDIT = {
    "company_id": _ORDER["company_id"],
    "currency": "EUR",
    "overdue_minor": 420000,
    "balance_minor": 1500000,
    "oldest_overdue_date": "2026-11-10",
}
_CHURN = {
    "client_id": _ORDER["company_id"],
    "score": 78,
    "reason": "no order for twice the usual interval",
    "days_since_last_order": 64,
    "usual_gap_days": 30,
}
_SEGMENT = {
    "client_id": _ORDER["company_id"],
    "changes": [{"dimension": "abc_revenue", "previous": "B", "current": "A"}],
}
_PAUSED = {
    "company_id": _ORDER["company_id"],
    "subscription_id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "url": "https://erp.example.com/hooks",
    "failing_since": "2026-11-19T10:00:00+00:00",
}

# key -> (sample, {locale: (subject, body)})
TEMPLATES: dict[str, tuple[dict[str, Any], dict[str, tuple[str, str]]]] = {
    "order_placed": (
        _sample(_ORDER),
        {
            "en": (
                "Order {{ event.number }} placed",
                "Hello {{ recipient.name }},\n\nwe received order {{ event.number }} of "
                "{{ company.legal_name }} for {{ event.total_minor | money(event.currency) }}.\n"
                "{{ links.portal }}/orders/{{ event.order_id }}",
            ),
            "ru": (
                "Заказ {{ event.number }} оформлен",
                "Здравствуйте, {{ recipient.name }}!\n\nМы получили заказ {{ event.number }} "
                "компании {{ company.legal_name }} на сумму "
                "{{ event.total_minor | money(event.currency) }}.\n"
                "{{ links.portal }}/orders/{{ event.order_id }}",
            ),
        },
    ),
    "order_confirmed": (
        _sample(_ORDER),
        {
            "en": (
                "Order {{ event.number }} confirmed",
                "Order {{ event.number }} is confirmed.{% if event.promised_to %} Delivery "
                "{{ event.promised_from | day }} – {{ event.promised_to | day }}.{% endif %}",
            ),
            "ru": (
                "Заказ {{ event.number }} подтверждён",
                "Заказ {{ event.number }} подтверждён.{% if event.promised_to %} Доставка "
                "{{ event.promised_from | day }} – {{ event.promised_to | day }}{% endif %}",
            ),
        },
    ),
    "order_shipped": (
        _sample(_ORDER),
        {
            "en": ("Order {{ event.number }} shipped", "Order {{ event.number }} is on its way."),
            "ru": (
                "Заказ {{ event.number }} отгружен",
                "Заказ {{ event.number }} отгружен и в пути.",
            ),
        },
    ),
    "order_delivered": (
        _sample(_ORDER),
        {
            "en": ("Order {{ event.number }} delivered", "Order {{ event.number }} was delivered."),
            "ru": ("Заказ {{ event.number }} доставлен", "Заказ {{ event.number }} доставлен."),
        },
    ),
    "order_cancelled": (
        _sample(_ORDER),
        {
            "en": (
                "Order {{ event.number }} cancelled",
                "Order {{ event.number }} was cancelled.{% if event.reason %} Reason: "
                "{{ event.reason }}.{% endif %}",
            ),
            "ru": (
                "Заказ {{ event.number }} отменён",
                "Заказ {{ event.number }} отменён.{% if event.reason %} Причина: "
                "{{ event.reason }}.{% endif %}",
            ),
        },
    ),
    "order_cancelled_manager": (
        _sample(_ORDER),
        {
            "en": (
                "{{ company.legal_name }}: order {{ event.number }} cancelled",
                "Order {{ event.number }} ({{ event.total_minor | money(event.currency) }}) was "
                "cancelled. Call the client?",
            ),
            "ru": (
                "{{ company.legal_name }}: заказ {{ event.number }} отменён",
                "Заказ {{ event.number }} на {{ event.total_minor | money(event.currency) }} "
                "отменён. Позвоните клиенту?",
            ),
        },
    ),
    "order_document": (
        _sample(_ORDER),
        {
            "en": (
                "A document for order {{ event.order_id }}",
                "A new {{ event.kind }} is ready to download.",
            ),
            "ru": (
                "Новый документ по заказу",
                "Готов новый документ ({{ event.kind }}), его можно скачать в портале.",
            ),
        },
    ),
    "delivery_survey": (
        _sample(_ORDER),
        {
            "en": (
                "How did we do on order {{ event.number }}?",
                "Please rate the delivery of order {{ event.number }} from 0 to 10: "
                "{{ links.survey }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "Как мы справились с заказом {{ event.number }}?",
                "Оцените доставку заказа {{ event.number }} от 0 до 10: {{ links.survey }}\n\n"
                "Отписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "quote_requested": (
        _sample(_QUOTE),
        {
            "en": (
                "{{ company.legal_name }} asks for a quote {{ event.number }}",
                "Prepare an offer for quote {{ event.number }}.",
            ),
            "ru": (
                "{{ company.legal_name }} запрашивает КП {{ event.number }}",
                "Подготовьте предложение по запросу {{ event.number }}.",
            ),
        },
    ),
    "quote_offered": (
        _sample(_QUOTE),
        {
            "en": (
                "Your offer {{ event.number }} is ready",
                "We offer {{ event.total_minor | money(event.currency) }}, valid until "
                "{{ event.valid_until | day }}.{% if event.message +%}\n{{ event.message }}{% endif %}",
            ),
            "ru": (
                "Ваше предложение {{ event.number }} готово",
                "Предлагаем {{ event.total_minor | money(event.currency) }}, действует до "
                "{{ event.valid_until | day }}{% if event.message +%}\n{{ event.message }}{% endif %}",
            ),
        },
    ),
    "quote_changes_requested": (
        _sample(_QUOTE),
        {
            "en": (
                "{{ company.legal_name }} asks to change offer {{ event.number }}",
                "{{ event.message or 'No comment.' }}",
            ),
            "ru": (
                "{{ company.legal_name }} просит изменить КП {{ event.number }}",
                "{{ event.message or 'Без комментария.' }}",
            ),
        },
    ),
    "quote_declined": (
        _sample(_QUOTE),
        {
            "en": (
                "Quote {{ event.number }}",
                "We cannot quote this time. {{ event.message or '' }}",
            ),
            "ru": (
                "Запрос {{ event.number }}",
                "К сожалению, мы не можем сделать предложение. {{ event.message or '' }}",
            ),
        },
    ),
    "quote_accepted": (
        _sample(_QUOTE),
        {
            "en": (
                "{{ company.legal_name }} accepted offer {{ event.number }}",
                "Accepted for {{ event.total_minor | money(event.currency) }}.",
            ),
            "ru": (
                "{{ company.legal_name }} принял КП {{ event.number }}",
                "Принято на {{ event.total_minor | money(event.currency) }}.",
            ),
        },
    ),
    "quote_expiring": (
        _sample(_QUOTE),
        {
            "en": (
                "Offer {{ event.number }} expires on {{ event.valid_until | day }}",
                "Your offer for {{ event.total_minor | money(event.currency) }} is valid until "
                "{{ event.valid_until | day }}. Accept it in the portal: {{ links.portal }}",
            ),
            "ru": (
                "Предложение {{ event.number }} действует до {{ event.valid_until | day }}",
                "Ваше предложение на {{ event.total_minor | money(event.currency) }} действует "
                "до {{ event.valid_until | day }} Принять: {{ links.portal }}",
            ),
        },
    ),
    "quote_stalled": (
        _sample(_QUOTE),
        {
            "en": (
                "Offer {{ event.number }} opened but not accepted",
                "{{ company.legal_name }} opened the offer 3 days ago and has not answered.",
            ),
            "ru": (
                "КП {{ event.number }} открыто, но не принято",
                "{{ company.legal_name }} открыл предложение 3 дня назад и не ответил.",
            ),
        },
    ),
    "overdue_reminder": (
        _sample(_CREDIT),
        {
            "en": (
                "Overdue payment: {{ event.overdue_minor | money(event.currency) }}",
                "{{ company.legal_name }} has {{ event.overdue_minor | money(event.currency) }} "
                "overdue since {{ event.oldest_overdue_date | day }}. Please pay to keep ordering.",
            ),
            "ru": (
                "Просроченная задолженность: {{ event.overdue_minor | money(event.currency) }}",
                "У {{ company.legal_name }} просрочено "
                "{{ event.overdue_minor | money(event.currency) }} с "
                "{{ event.oldest_overdue_date | day }} Пожалуйста, оплатите, чтобы продолжать заказы.",
            ),
        },
    ),
    "overdue_escalation": (
        _sample(_CREDIT),
        {
            "en": (
                "{{ company.legal_name }}: debt overdue 14 days",
                "{{ event.overdue_minor | money(event.currency) }} overdue since "
                "{{ event.oldest_overdue_date | day }}; reminders did not help. Call the client.",
            ),
            "ru": (
                "{{ company.legal_name }}: просрочка 14 дней",
                "{{ event.overdue_minor | money(event.currency) }} просрочено с "
                "{{ event.oldest_overdue_date | day }}; напоминания не помогли. Позвоните клиенту.",
            ),
        },
    ),
    "churn_reactivation": (
        _sample(_CHURN),
        {
            "en": (
                "We miss you, {{ company.legal_name }}",
                "It has been {{ event.days_since_last_order }} days since your last order. "
                "Your prices are waiting: {{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "Мы скучаем, {{ company.legal_name }}",
                "С вашего последнего заказа прошло {{ event.days_since_last_order }} дн. "
                "Ваши цены ждут вас: {{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "churn_task": (
        _sample(_CHURN),
        {
            "en": (
                "Churn risk {{ event.score }}: {{ company.legal_name }}",
                "{{ event.reason }} (last order {{ event.days_since_last_order }} days ago, usually "
                "every {{ event.usual_gap_days }}). Call the client.",
            ),
            "ru": (
                "Риск оттока {{ event.score }}: {{ company.legal_name }}",
                "{{ event.reason }} (последний заказ {{ event.days_since_last_order }} дн. назад, "
                "обычно раз в {{ event.usual_gap_days }}). Позвоните клиенту.",
            ),
        },
    ),
    "segment_changed": (
        _sample(_SEGMENT),
        {
            "en": (
                "{{ company.legal_name }} changed segment",
                "{% for c in event.changes %}{{ c.dimension }}: {{ c.previous }} → {{ c.current }}\n"
                "{% endfor %}",
            ),
            "ru": (
                "{{ company.legal_name }}: смена сегмента",
                "{% for c in event.changes %}{{ c.dimension }}: {{ c.previous }} → {{ c.current }}\n"
                "{% endfor %}",
            ),
        },
    ),
    "webhook_paused": (
        _sample(_PAUSED),
        {
            "en": (
                "Webhook paused: {{ event.url }}",
                "Calls to {{ event.url }} have failed since {{ event.failing_since | moment }}, so we paused "
                "them. Events are kept; resume the subscription once the receiver is fixed.",
            ),
            "ru": (
                "Вебхук приостановлен: {{ event.url }}",
                "Вызовы {{ event.url }} не проходят с {{ event.failing_since | moment }}, мы их "
                "приостановили. События сохранены; возобновите подписку, когда приёмник починят.",
            ),
        },
    ),
}

# The daily digest (and what a throttled burst is folded into): not a rule's template.
TEMPLATES["digest"] = (
    {
        **_COMMON,
        "count": 2,
        "messages": [
            {"subject": "Order ORD-000123 placed", "body": "We received order ORD-000123."},
            {"subject": "Order ORD-000123 confirmed", "body": "Order ORD-000123 is confirmed."},
        ],
    },
    {
        "en": (
            "{{ count }} updates",
            "Hello {{ recipient.name }},\n\n{% for m in messages %}* {{ m.subject }}\n"
            "{{ m.body }}\n{% endfor %}",
        ),
        "ru": (
            "Обновлений: {{ count }}",
            "Здравствуйте, {{ recipient.name }}!\n\n{% for m in messages %}* {{ m.subject }}\n"
            "{{ m.body }}\n{% endfor %}",
        ),
    },
)


# Version 2 (notifications_0004) -----------------------------------------------------------------
# Alerts that need facts only pricing, orders and analytics have: each of those services
# publishes an event that carries them, and these rules turn it into messages.

_LADDER_NEAR = [{"path": "event.status", "op": "eq", "value": "near"}]
_LADDER_REACHED = [{"path": "event.status", "op": "eq", "value": "reached"}]
_EXPIRY_KEY = ["event.company_id", "event.earliest_valid_to"]

RULES_V2: list[dict[str, Any]] = [
    _rule(
        "ladder.near.email",
        "client.ladder_progress.v1",
        "buyers",
        "email",
        "offers",
        "ladder_near",
        "The next discount level is within reach this period: once per level and period",
        conditions=_LADDER_NEAR,
        dedupe=["event.company_id", "event.period_start", "event.next_level.threshold_minor"],
    ),
    _rule(
        "ladder.reached.email",
        "client.ladder_progress.v1",
        "buyers",
        "email",
        "offers",
        "ladder_reached",
        "The client reached a higher discount level: once per level and period",
        conditions=_LADDER_REACHED,
        dedupe=["event.company_id", "event.period_start", "event.current_level.threshold_minor"],
    ),
    _rule(
        "contract.expiring.email",
        "client.contract_prices_expiring.v1",
        "buyers",
        "email",
        "finance",
        "contract_expiring",
        "Contract prices end soon: the buyers are told once per end date",
        dedupe=_EXPIRY_KEY,
    ),
    _rule(
        "contract.expiring.manager",
        "client.contract_prices_expiring.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "contract_expiring_manager",
        "Contract prices end soon: a task to renew them",
        dedupe=_EXPIRY_KEY,
    ),
    _rule(
        "stock.back.inbox",
        "requisition.stock_back.v1",
        "buyers",
        "inbox",
        "stock",
        "stock_back",
        "A SKU on the company's requisition lists is back in stock",
    ),
    _rule(
        "stock.back.email",
        "requisition.stock_back.v1",
        "buyers",
        "email",
        "stock",
        "stock_back",
        "A SKU on the company's requisition lists is back in stock (email)",
    ),
    _rule(
        "stock.key_sku_out.manager",
        "client.key_sku_out_of_stock.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "key_sku_out_manager",
        "A SKU of the client's A class is out of stock: offer a substitute or a date",
    ),
    _rule(
        "stock.key_sku_out.inbox",
        "client.key_sku_out_of_stock.v1",
        "buyers",
        "inbox",
        "stock",
        "key_sku_out",
        "A SKU the client buys most is out of stock",
    ),
    _rule(
        "prices.regular_changed.email",
        "client.regular_sku_prices_changed.v1",
        "buyers",
        "email",
        "finance",
        "regular_prices_changed",
        "Prices of SKUs the client buys regularly moved: once per price change",
        dedupe=["event.client_id", "event.change_id"],
    ),
    _rule(
        "cross_sell.offer.email",
        "client.cross_sell_offer.v1",
        "buyers",
        "email",
        "offers",
        "cross_sell_offer",
        "Categories the client's peers buy and it does not (at most one offer in a few days)",
    ),
]

_LEVEL = {"threshold_minor": 1000000, "discount_percent": "2", "bonus_percent": "1"}
_LADDER = {
    "company_id": _ORDER["company_id"],
    "status": "near",
    "ladder": "VOLUME",
    "period": "quarter",
    "period_start": "2026-10-01",
    "currency": "EUR",
    "turnover_minor": 850000,
    "current_level": {"threshold_minor": 0, "discount_percent": "0", "bonus_percent": "0"},
    "next_level": _LEVEL,
    "left_minor": 150000,
    "changed_at": "2026-11-20T10:00:00+00:00",
}
_REACHED = {
    **_LADDER,
    "status": "reached",
    "turnover_minor": 1020000,
    "current_level": _LEVEL,
    "next_level": {"threshold_minor": 5000000, "discount_percent": "5", "bonus_percent": "3"},
    "left_minor": 3980000,
}
_EXPIRING = {
    "company_id": _ORDER["company_id"],
    "skus_count": 7,
    "earliest_valid_to": "2026-12-01",
    "last_day": "2026-11-30",
    "skus": ["KN-100", "CE-200", "CE-210"],
    "found_at": "2026-11-20T06:00:00+00:00",
}
_STOCK_BACK = {
    "company_id": _ORDER["company_id"],
    "skus": [{"sku": "KN-100", "name": "Knauf board 12.5 mm", "available": "500"}],
    "lists": [{"list_id": "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99", "name": "Tower B"}],
    "back_at": "2026-11-20T10:00:00+00:00",
}
_KEY_SKU_OUT = {
    "client_id": _ORDER["company_id"],
    "sku": "CE-200",
    "name": "Ceresit CM 11 tile glue",
    "currency": "EUR",
    "revenue_minor": 4200000,
    "revenue_share": "0.35",
    "last_bought_at": "2026-11-02T09:00:00+00:00",
    "sales_manager_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "out_at": "2026-11-20T10:00:00+00:00",
}
_PRICES_MOVED = {
    "client_id": _ORDER["company_id"],
    "change_id": "6f5e4d3c-2b1a-4098-8765-43210fedcba9",
    "currency": "EUR",
    "skus": [
        {
            "sku": "KN-100",
            "name": "Knauf board 12.5 mm",
            "quantity": "120",
            "old_unit_price_minor": 1150,
            "new_unit_price_minor": 1250,
            "change_percent": "8.70",
        },
        {
            "sku": "CE-200",
            "name": "Ceresit CM 11 tile glue",
            "quantity": "5",
            "old_unit_price_minor": 890,
            "new_unit_price_minor": 790,
            "change_percent": "-11.24",
        },
    ],
    "changed_at": "2026-11-20T10:00:00+00:00",
}
_CROSS_SELL = {
    "client_id": _ORDER["company_id"],
    "suggestions": [
        {
            "category": "primer",
            "peer_share": "0.82",
            "reason": "82 % of builders of your size also buy primer",
            "skus": [
                {"sku": "CT-17", "name": "Ceresit CT 17 primer", "peer_clients": 41},
                {"sku": "KN-GR", "name": "Knauf Grundierung", "peer_clients": 30},
            ],
        }
    ],
    "offered_at": "2026-11-20T10:00:00+00:00",
}

TEMPLATES_V2: dict[str, tuple[dict[str, Any], dict[str, tuple[str, str]]]] = {
    "ladder_near": (
        _sample(_LADDER),
        {
            "en": (
                "{{ event.left_minor | money(event.currency) }} to your next discount level",
                "Hello {{ recipient.name }},\n\n{{ company.legal_name }} has ordered "
                "{{ event.turnover_minor | money(event.currency) }} this {{ event.period }}. "
                "Another {{ event.left_minor | money(event.currency) }} and from "
                "{{ event.next_level.threshold_minor | money(event.currency) }} you get "
                "{{ (event.next_level.discount_percent | float / 100) | percent }} off list prices"
                "{% if event.next_level.bonus_percent | float > 0 %} and a "
                "{{ (event.next_level.bonus_percent | float / 100) | percent }} bonus on the whole period{% endif %}.\n"
                "{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "До следующего уровня скидки {{ event.left_minor | money(event.currency) }}",
                "Здравствуйте, {{ recipient.name }}!\n\n{{ company.legal_name }} заказала в этом "
                "периоде на {{ event.turnover_minor | money(event.currency) }}. Ещё "
                "{{ event.left_minor | money(event.currency) }} — и с оборота "
                "{{ event.next_level.threshold_minor | money(event.currency) }} действует скидка "
                "{{ (event.next_level.discount_percent | float / 100) | percent }} от прайса"
                "{% if event.next_level.bonus_percent | float > 0 %} и бонус "
                "{{ (event.next_level.bonus_percent | float / 100) | percent }} на весь оборот периода{% endif %}.\n"
                "{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "ladder_reached": (
        _sample(_REACHED),
        {
            "en": (
                "You reached {{ (event.current_level.discount_percent | float / 100) | percent }} off",
                "Hello {{ recipient.name }},\n\nwith {{ event.turnover_minor | money(event.currency) "
                "}} this {{ event.period }}, {{ company.legal_name }} reached the level of "
                "{{ event.current_level.threshold_minor | money(event.currency) }}: "
                "{{ (event.current_level.discount_percent | float / 100) | percent }} off list prices from now on."
                "{% if event.next_level %} The next level is "
                "{{ event.left_minor | money(event.currency) }} away.{% endif +%}\n"
                "{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "Вы получили скидку {{ (event.current_level.discount_percent | float / 100) | percent }}",
                "Здравствуйте, {{ recipient.name }}!\n\nС оборотом "
                "{{ event.turnover_minor | money(event.currency) }} {{ company.legal_name }} "
                "достигла уровня {{ event.current_level.threshold_minor | money(event.currency) }}: "
                "теперь скидка {{ (event.current_level.discount_percent | float / 100) | percent }} от прайса."
                "{% if event.next_level %} До следующего уровня "
                "{{ event.left_minor | money(event.currency) }}.{% endif +%}\n"
                "{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "contract_expiring": (
        _sample(_EXPIRING),
        {
            "en": (
                "Your contract prices end on {{ event.last_day | day }}",
                "Hello {{ recipient.name }},\n\nthe contract prices of {{ event.skus_count }} "
                "SKU(s) of {{ company.legal_name }} hold until {{ event.last_day | day }} "
                "({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, "
                "...{% endif %}). Your sales manager will propose new terms; order before then "
                "at the current prices: {{ links.portal }}",
            ),
            "ru": (
                "Ваши договорные цены действуют до {{ event.last_day | day }}",
                "Здравствуйте, {{ recipient.name }}!\n\nДоговорные цены {{ company.legal_name }} "
                "на {{ event.skus_count }} SKU действуют до {{ event.last_day | day }} "
                "({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, "
                "...{% endif %}). Менеджер предложит новые условия; до этой даты можно заказать "
                "по текущим ценам: {{ links.portal }}",
            ),
        },
    ),
    "contract_expiring_manager": (
        _sample(_EXPIRING),
        {
            "en": (
                "{{ company.legal_name }}: contract prices end on {{ event.last_day | day }}",
                "{{ event.skus_count }} contract price(s) end: {{ event.skus | join(', ') }}. "
                "Agree new terms with the client.",
            ),
            "ru": (
                "{{ company.legal_name }}: договорные цены заканчиваются {{ event.last_day | day }}",
                "Заканчиваются договорные цены на {{ event.skus_count }} SKU: "
                "{{ event.skus | join(', ') }}. Согласуйте с клиентом новые условия.",
            ),
        },
    ),
    "stock_back": (
        _sample(_STOCK_BACK),
        {
            "en": (
                "Back in stock: {{ event.skus | map(attribute='name') | join(', ') }}",
                "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) is back in stock: "
                "{{ s.available | number }} available.\n{% endfor %}It is on your list(s) "
                "{{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}",
            ),
            "ru": (
                "Снова в наличии: {{ event.skus | map(attribute='name') | join(', ') }}",
                "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) снова в наличии: "
                "{{ s.available | number }}.\n{% endfor %}Товар есть в ваших списках "
                "{{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}",
            ),
        },
    ),
    "key_sku_out_manager": (
        _sample(_KEY_SKU_OUT),
        {
            "en": (
                "{{ company.legal_name }}: {{ event.sku }} is out of stock",
                "{{ event.name }} ({{ event.sku }}) is out of stock. It is in the client's A "
                "class: {{ event.revenue_minor | money(event.currency) }} in the last months, "
                "{{ event.revenue_share | percent(0) }} of its purchases. "
                "Offer a substitute or a delivery date.",
            ),
            "ru": (
                "{{ company.legal_name }}: {{ event.sku }} нет в наличии",
                "{{ event.name }} ({{ event.sku }}) закончился. Это товар группы A клиента: "
                "{{ event.revenue_minor | money(event.currency) }} за последние месяцы, "
                "{{ event.revenue_share | percent(0) }} его закупок. "
                "Предложите замену или срок поставки.",
            ),
        },
    ),
    "key_sku_out": (
        _sample(_KEY_SKU_OUT),
        {
            "en": (
                "{{ event.name }} is out of stock",
                "{{ event.name }} ({{ event.sku }}), one of the products you buy most, is out of "
                "stock for now. Your sales manager will suggest a substitute or a date.",
            ),
            "ru": (
                "{{ event.name }} временно нет в наличии",
                "{{ event.name }} ({{ event.sku }}), один из ваших основных товаров, временно "
                "закончился. Менеджер предложит замену или срок поставки.",
            ),
        },
    ),
    "regular_prices_changed": (
        _sample(_PRICES_MOVED),
        {
            "en": (
                "Prices changed on {{ event.skus | length }} product(s) you buy regularly",
                "Hello {{ recipient.name }},\n\n{% for s in event.skus %}{{ s.name }} "
                "({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → "
                "{{ s.new_unit_price_minor | money(event.currency) }} ({{ (s.change_percent | float / 100) | percent }})"
                "\n{% endfor %}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "Изменились цены на {{ event.skus | length }} товар(ов), которые вы покупаете",
                "Здравствуйте, {{ recipient.name }}!\n\n{% for s in event.skus %}{{ s.name }} "
                "({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → "
                "{{ s.new_unit_price_minor | money(event.currency) }} ({{ (s.change_percent | float / 100) | percent }})"
                "\n{% endfor %}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "cross_sell_offer": (
        _sample(_CROSS_SELL),
        {
            "en": (
                "Clients like {{ company.legal_name }} also buy {{ event.suggestions | "
                "map(attribute='category') | join(', ') }}",
                "Hello {{ recipient.name }},\n\n{% for g in event.suggestions %}* {{ g.reason }}"
                "{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') }}{% endif +%}\n"
                "{% endfor +%}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "Компании как {{ company.legal_name }} также покупают {{ event.suggestions | "
                "map(attribute='category') | join(', ') }}",
                "Здравствуйте, {{ recipient.name }}!\n\n{% for g in event.suggestions %}* "
                "{{ g.peer_share | percent(0) }} похожих компаний покупают "
                "{{ g.category }}{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') "
                "}}{% endif +%}\n{% endfor +%}\n{{ links.portal }}\n\nОтписаться: "
                "{{ links.unsubscribe }}",
            ),
        },
    ),
}

# Everything built in, in the order of the migrations that seed it.
# Version 3 (migration notifications_0005): sales analytics ------------------------------------

_CONCENTRATION = {
    "client_id": _ORDER["company_id"],
    "currency": "EUR",
    "level": 0.3,
    "previous_level": 0.2,
    "share": 0.34,
}
_KEY_CHURN = {**_CHURN, "key_account": True}
_SURVEY_LINKS = {**_COMMON["links"], "churn_survey": "https://api.example.com/churn-surveys/T"}

SALES_RULES: list[dict[str, Any]] = [
    _rule(
        "sales.concentration.head",
        "client.concentration_alert.v1",
        "head_of_sales",
        "email",
        "tasks",
        "concentration_alert",
        "One client passed 20, 30, 40 or 50 % of sales: the head of sales is told",
    ),
    _rule(
        "sales.concentration.inbox",
        "client.concentration_alert.v1",
        "head_of_sales",
        "inbox",
        "tasks",
        "concentration_alert",
        "One client passed a concentration level: in the head of sales' inbox",
    ),
    _rule(
        "churn.questionnaire",
        "client.churn_risk_raised.v1",
        "company_admins",
        "email",
        "surveys",
        "churn_questionnaire",
        "A client that stopped buying: what did not suit (product, service, the sale)",
    ),
    _rule(
        "churn.winback.key",
        "client.churn_risk_raised.v1",
        "sales_manager",
        "inbox",
        "tasks",
        "winback_task",
        "A key client is leaving: a win-back task for its manager",
        conditions=[{"path": "event.key_account", "op": "eq", "value": True}],
    ),
]

SALES_TEMPLATES: dict[str, tuple[dict[str, Any], dict[str, tuple[str, str]]]] = {
    "concentration_alert": (
        _sample(_CONCENTRATION),
        {
            "en": (
                "{{ company.legal_name }} makes {{ event.share | percent }} of sales",
                "{{ company.legal_name }} passed {{ event.level | percent(0) }} of "
                "our {{ event.currency }} sales (now {{ event.share | percent }}). "
                "Depending on one client this much is a risk: plan how to spread it.",
            ),
            "ru": (
                "{{ company.legal_name }}: {{ event.share | percent }} продаж",
                "{{ company.legal_name }} превысил {{ event.level | percent(0) }} "
                "наших продаж в {{ event.currency }} (сейчас {{ event.share | percent }}"
                "). Зависимость от одного клиента - риск: спланируйте, как её снизить.",
            ),
        },
    ),
    "churn_questionnaire": (
        {**_sample(_CHURN), "links": _SURVEY_LINKS},
        {
            "en": (
                "{{ company.legal_name }}, what did not suit you?",
                "You have not ordered for {{ event.days_since_last_order }} days. Tell us in two "
                "minutes what did not suit you in the product, in our service or when buying: "
                "{{ links.churn_survey }}\n\nUnsubscribe: {{ links.unsubscribe }}",
            ),
            "ru": (
                "{{ company.legal_name }}, что вас не устроило?",
                "Вы не заказывали {{ event.days_since_last_order }} дн. Расскажите за две минуты, "
                "что не устроило в товаре, в нашем сервисе или при покупке: "
                "{{ links.churn_survey }}\n\nОтписаться: {{ links.unsubscribe }}",
            ),
        },
    ),
    "winback_task": (
        _sample(_KEY_CHURN),
        {
            "en": (
                "Win back key client {{ company.legal_name }}",
                "A key client is leaving: {{ event.reason }}. Call, find out why, make an offer.",
            ),
            "ru": (
                "Верните ключевого клиента {{ company.legal_name }}",
                "Ключевой клиент уходит: {{ event.reason }}. Позвоните, узнайте причину, "
                "сделайте предложение.",
            ),
        },
    ),
}

# Version 4 (migration notifications_0006): the invitation e-mail ------------------------------

_INVITATION = {
    "invitation_id": "3c9f1e2a-7b4d-4e8f-9a6b-5d2c1e0f8a7b",
    "company_id": _ORDER["company_id"],
    "email": "anna@example.com",
    "role": "buyer",
    "invited_by": None,
    "expires_at": "2026-11-30T10:00:00+00:00",
}
_ACCEPT_LINKS = {**_COMMON["links"], "accept": "https://portal.example.com/invitations/TOKEN"}

INVITATION_RULES: list[dict[str, Any]] = [
    _rule(
        "invitation.email",
        "invitation.created.v1",
        "invitee",
        "email",
        "system",
        "invitation",
        "A person invited to a company gets the link to accept (the only place the token is)",
    ),
]

INVITATION_TEMPLATES: dict[str, tuple[dict[str, Any], dict[str, tuple[str, str]]]] = {
    "invitation": (
        {**_sample(_INVITATION), "links": _ACCEPT_LINKS},
        {
            "en": (
                "You are invited to buy for {{ company.legal_name }}",
                "You are invited to act for {{ company.legal_name }} as "
                "{{ 'its administrator' if event.role == 'company_admin' else 'a buyer' }}. "
                "Accept before {{ event.expires_at | day }}: {{ links.accept }}\n\n"
                "If you did not expect this, ignore it: nothing happens until you accept.",
            ),
            "ru": (
                "Приглашение в {{ company.legal_name }}",
                "Вас пригласили работать от имени {{ company.legal_name }} "
                "{{ 'администратором' if event.role == 'company_admin' else 'покупателем' }}. "
                "Примите приглашение до {{ event.expires_at | day }}: {{ links.accept }}\n\n"
                "Если вы его не ждали, просто не отвечайте: без вашего согласия ничего не "
                "произойдёт.",
            ),
        },
    ),
}


VERSIONS = {
    1: (RULES, TEMPLATES),
    2: (RULES_V2, TEMPLATES_V2),
    3: (SALES_RULES, SALES_TEMPLATES),
    4: (INVITATION_RULES, INVITATION_TEMPLATES),
}
ALL_RULES = [r for rules, _ in VERSIONS.values() for r in rules]
ALL_TEMPLATES = {k: v for _, templates in VERSIONS.values() for k, v in templates.items()}


def rule_rows(version: int | None = None) -> list[dict[str, Any]]:
    """The rule rows of one version (a migration seeds them), or of all."""
    found = ALL_RULES if version is None else VERSIONS[version][0]
    return [
        {**r, "id": uuid.uuid5(uuid.NAMESPACE_URL, "b2b:rule:" + r["code"]), "builtin": True}
        for r in found
    ]


def template_rows(version: int | None = None) -> list[dict[str, Any]]:
    found = ALL_TEMPLATES if version is None else VERSIONS[version][1]
    return [
        {"key": key, "locale": locale, "subject": subject, "body": body, "sample": sample}
        for key, (sample, variants) in found.items()
        for locale, (subject, body) in variants.items()
    ]


def seed(op: Any, version: int) -> None:
    """Insert one version's built-in rules and templates from a migration (`op` is alembic's).

    The tables are described here, not taken from the models, so an old migration keeps
    working when a later one adds a column."""
    text, json = sa.Text(), JSONB()
    rule_table = sa.table(
        "rules",
        sa.column("id", sa.Uuid()),
        *(sa.column(c, sa.String()) for c in ("code", "event_type", "audience", "channel")),
        *(sa.column(c, sa.String()) for c in ("kind", "template", "thread")),
        sa.column("description", text),
        *(sa.column(c, json) for c in ("conditions", "schedule", "dedupe", "cancel_on")),
        sa.column("builtin", sa.Boolean()),
    )
    op.bulk_insert(rule_table, rule_rows(version))
    template_table = sa.table(
        "templates",
        *(sa.column(c, sa.String()) for c in ("key", "locale")),
        *(sa.column(c, text) for c in ("subject", "body")),
        sa.column("sample", json),
    )
    op.bulk_insert(template_table, template_rows(version))

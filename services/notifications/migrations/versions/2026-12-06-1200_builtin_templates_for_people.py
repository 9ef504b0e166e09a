# ruff: noqa: RUF001 - the texts as they were and are, Cyrillic included
"""built-in templates show money, percentages and dates for people in the template's locale
(`| percent`, `| day`, `| moment`; `| money` now counts the currency's ISO 4217 digits), and
keep their line breaks

A database migrated before this has the old texts: each built-in variant nobody edited (its
subject and body still exactly as seeded) gets the new text; an edited one is left alone.
The texts are copied in, so this migration means the same whatever builtin.py says later.

Revision ID: notifications_0009
Revises: notifications_0008
Create Date: 2026-12-06 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notifications_0009"
down_revision: str | None = "notifications_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (key, locale): ((subject, body) as seeded, (subject, body) now)
TEXTS: dict[tuple[str, str], tuple[tuple[str, str], tuple[str, str]]] = {
    ('order_confirmed', 'en'): (
        ('Order {{ event.number }} confirmed', 'Order {{ event.number }} is confirmed.{% if event.promised_to %} Delivery {{ event.promised_from }} – {{ event.promised_to }}.{% endif %}'),
        ('Order {{ event.number }} confirmed', 'Order {{ event.number }} is confirmed.{% if event.promised_to %} Delivery {{ event.promised_from | day }} – {{ event.promised_to | day }}.{% endif %}'),
    ),
    ('order_confirmed', 'ru'): (
        ('Заказ {{ event.number }} подтверждён', 'Заказ {{ event.number }} подтверждён.{% if event.promised_to %} Доставка {{ event.promised_from }} – {{ event.promised_to }}.{% endif %}'),
        ('Заказ {{ event.number }} подтверждён', 'Заказ {{ event.number }} подтверждён.{% if event.promised_to %} Доставка {{ event.promised_from | day }} – {{ event.promised_to | day }}{% endif %}'),
    ),
    ('quote_offered', 'en'): (
        ('Your offer {{ event.number }} is ready', 'We offer {{ event.total_minor | money(event.currency) }}, valid until {{ event.valid_until }}.{% if event.message %}\n{{ event.message }}{% endif %}'),
        ('Your offer {{ event.number }} is ready', 'We offer {{ event.total_minor | money(event.currency) }}, valid until {{ event.valid_until | day }}.{% if event.message +%}\n{{ event.message }}{% endif %}'),
    ),
    ('quote_offered', 'ru'): (
        ('Ваше предложение {{ event.number }} готово', 'Предлагаем {{ event.total_minor | money(event.currency) }}, действует до {{ event.valid_until }}.{% if event.message %}\n{{ event.message }}{% endif %}'),
        ('Ваше предложение {{ event.number }} готово', 'Предлагаем {{ event.total_minor | money(event.currency) }}, действует до {{ event.valid_until | day }}{% if event.message +%}\n{{ event.message }}{% endif %}'),
    ),
    ('quote_expiring', 'en'): (
        ('Offer {{ event.number }} expires on {{ event.valid_until }}', 'Your offer for {{ event.total_minor | money(event.currency) }} is valid until {{ event.valid_until }}. Accept it in the portal: {{ links.portal }}'),
        ('Offer {{ event.number }} expires on {{ event.valid_until | day }}', 'Your offer for {{ event.total_minor | money(event.currency) }} is valid until {{ event.valid_until | day }}. Accept it in the portal: {{ links.portal }}'),
    ),
    ('quote_expiring', 'ru'): (
        ('Предложение {{ event.number }} действует до {{ event.valid_until }}', 'Ваше предложение на {{ event.total_minor | money(event.currency) }} действует до {{ event.valid_until }}. Принять: {{ links.portal }}'),
        ('Предложение {{ event.number }} действует до {{ event.valid_until | day }}', 'Ваше предложение на {{ event.total_minor | money(event.currency) }} действует до {{ event.valid_until | day }} Принять: {{ links.portal }}'),
    ),
    ('overdue_reminder', 'en'): (
        ('Overdue payment: {{ event.overdue_minor | money(event.currency) }}', '{{ company.legal_name }} has {{ event.overdue_minor | money(event.currency) }} overdue since {{ event.oldest_overdue_date }}. Please pay to keep ordering.'),
        ('Overdue payment: {{ event.overdue_minor | money(event.currency) }}', '{{ company.legal_name }} has {{ event.overdue_minor | money(event.currency) }} overdue since {{ event.oldest_overdue_date | day }}. Please pay to keep ordering.'),
    ),
    ('overdue_reminder', 'ru'): (
        ('Просроченная задолженность: {{ event.overdue_minor | money(event.currency) }}', 'У {{ company.legal_name }} просрочено {{ event.overdue_minor | money(event.currency) }} с {{ event.oldest_overdue_date }}. Пожалуйста, оплатите, чтобы продолжать заказы.'),
        ('Просроченная задолженность: {{ event.overdue_minor | money(event.currency) }}', 'У {{ company.legal_name }} просрочено {{ event.overdue_minor | money(event.currency) }} с {{ event.oldest_overdue_date | day }} Пожалуйста, оплатите, чтобы продолжать заказы.'),
    ),
    ('overdue_escalation', 'en'): (
        ('{{ company.legal_name }}: debt overdue 14 days', '{{ event.overdue_minor | money(event.currency) }} overdue since {{ event.oldest_overdue_date }}; reminders did not help. Call the client.'),
        ('{{ company.legal_name }}: debt overdue 14 days', '{{ event.overdue_minor | money(event.currency) }} overdue since {{ event.oldest_overdue_date | day }}; reminders did not help. Call the client.'),
    ),
    ('overdue_escalation', 'ru'): (
        ('{{ company.legal_name }}: просрочка 14 дней', '{{ event.overdue_minor | money(event.currency) }} просрочено с {{ event.oldest_overdue_date }}; напоминания не помогли. Позвоните клиенту.'),
        ('{{ company.legal_name }}: просрочка 14 дней', '{{ event.overdue_minor | money(event.currency) }} просрочено с {{ event.oldest_overdue_date | day }}; напоминания не помогли. Позвоните клиенту.'),
    ),
    ('webhook_paused', 'en'): (
        ('Webhook paused: {{ event.url }}', 'Calls to {{ event.url }} have failed since {{ event.failing_since }}, so we paused them. Events are kept; resume the subscription once the receiver is fixed.'),
        ('Webhook paused: {{ event.url }}', 'Calls to {{ event.url }} have failed since {{ event.failing_since | moment }}, so we paused them. Events are kept; resume the subscription once the receiver is fixed.'),
    ),
    ('webhook_paused', 'ru'): (
        ('Вебхук приостановлен: {{ event.url }}', 'Вызовы {{ event.url }} не проходят с {{ event.failing_since }}, мы их приостановили. События сохранены; возобновите подписку, когда приёмник починят.'),
        ('Вебхук приостановлен: {{ event.url }}', 'Вызовы {{ event.url }} не проходят с {{ event.failing_since | moment }}, мы их приостановили. События сохранены; возобновите подписку, когда приёмник починят.'),
    ),
    ('ladder_near', 'en'): (
        ('{{ event.left_minor | money(event.currency) }} to your next discount level', 'Hello {{ recipient.name }},\n\n{{ company.legal_name }} has ordered {{ event.turnover_minor | money(event.currency) }} this {{ event.period }}. Another {{ event.left_minor | money(event.currency) }} and from {{ event.next_level.threshold_minor | money(event.currency) }} you get {{ event.next_level.discount_percent }} % off list prices{% if event.next_level.bonus_percent | float > 0 %} and a {{ event.next_level.bonus_percent }} % bonus on the whole period{% endif %}.\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
        ('{{ event.left_minor | money(event.currency) }} to your next discount level', 'Hello {{ recipient.name }},\n\n{{ company.legal_name }} has ordered {{ event.turnover_minor | money(event.currency) }} this {{ event.period }}. Another {{ event.left_minor | money(event.currency) }} and from {{ event.next_level.threshold_minor | money(event.currency) }} you get {{ (event.next_level.discount_percent | float / 100) | percent }} off list prices{% if event.next_level.bonus_percent | float > 0 %} and a {{ (event.next_level.bonus_percent | float / 100) | percent }} bonus on the whole period{% endif %}.\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
    ),
    ('ladder_near', 'ru'): (
        ('До следующего уровня скидки {{ event.left_minor | money(event.currency) }}', 'Здравствуйте, {{ recipient.name }}!\n\n{{ company.legal_name }} заказала в этом периоде на {{ event.turnover_minor | money(event.currency) }}. Ещё {{ event.left_minor | money(event.currency) }} — и с оборота {{ event.next_level.threshold_minor | money(event.currency) }} действует скидка {{ event.next_level.discount_percent }} % от прайса{% if event.next_level.bonus_percent | float > 0 %} и бонус {{ event.next_level.bonus_percent }} % на весь оборот периода{% endif %}.\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
        ('До следующего уровня скидки {{ event.left_minor | money(event.currency) }}', 'Здравствуйте, {{ recipient.name }}!\n\n{{ company.legal_name }} заказала в этом периоде на {{ event.turnover_minor | money(event.currency) }}. Ещё {{ event.left_minor | money(event.currency) }} — и с оборота {{ event.next_level.threshold_minor | money(event.currency) }} действует скидка {{ (event.next_level.discount_percent | float / 100) | percent }} от прайса{% if event.next_level.bonus_percent | float > 0 %} и бонус {{ (event.next_level.bonus_percent | float / 100) | percent }} на весь оборот периода{% endif %}.\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
    ),
    ('ladder_reached', 'en'): (
        ('You reached {{ event.current_level.discount_percent }} % off', 'Hello {{ recipient.name }},\n\nwith {{ event.turnover_minor | money(event.currency) }} this {{ event.period }}, {{ company.legal_name }} reached the level of {{ event.current_level.threshold_minor | money(event.currency) }}: {{ event.current_level.discount_percent }} % off list prices from now on.{% if event.next_level %} The next level is {{ event.left_minor | money(event.currency) }} away.{% endif %}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
        ('You reached {{ (event.current_level.discount_percent | float / 100) | percent }} off', 'Hello {{ recipient.name }},\n\nwith {{ event.turnover_minor | money(event.currency) }} this {{ event.period }}, {{ company.legal_name }} reached the level of {{ event.current_level.threshold_minor | money(event.currency) }}: {{ (event.current_level.discount_percent | float / 100) | percent }} off list prices from now on.{% if event.next_level %} The next level is {{ event.left_minor | money(event.currency) }} away.{% endif +%}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
    ),
    ('ladder_reached', 'ru'): (
        ('Вы получили скидку {{ event.current_level.discount_percent }} %', 'Здравствуйте, {{ recipient.name }}!\n\nС оборотом {{ event.turnover_minor | money(event.currency) }} {{ company.legal_name }} достигла уровня {{ event.current_level.threshold_minor | money(event.currency) }}: теперь скидка {{ event.current_level.discount_percent }} % от прайса.{% if event.next_level %} До следующего уровня {{ event.left_minor | money(event.currency) }}.{% endif %}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
        ('Вы получили скидку {{ (event.current_level.discount_percent | float / 100) | percent }}', 'Здравствуйте, {{ recipient.name }}!\n\nС оборотом {{ event.turnover_minor | money(event.currency) }} {{ company.legal_name }} достигла уровня {{ event.current_level.threshold_minor | money(event.currency) }}: теперь скидка {{ (event.current_level.discount_percent | float / 100) | percent }} от прайса.{% if event.next_level %} До следующего уровня {{ event.left_minor | money(event.currency) }}.{% endif +%}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
    ),
    ('contract_expiring', 'en'): (
        ('Your contract prices end on {{ event.last_day }}', "Hello {{ recipient.name }},\n\nthe contract prices of {{ event.skus_count }} SKU(s) of {{ company.legal_name }} hold until {{ event.last_day }} ({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, ...{% endif %}). Your sales manager will propose new terms; order before then at the current prices: {{ links.portal }}"),
        ('Your contract prices end on {{ event.last_day | day }}', "Hello {{ recipient.name }},\n\nthe contract prices of {{ event.skus_count }} SKU(s) of {{ company.legal_name }} hold until {{ event.last_day | day }} ({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, ...{% endif %}). Your sales manager will propose new terms; order before then at the current prices: {{ links.portal }}"),
    ),
    ('contract_expiring', 'ru'): (
        ('Ваши договорные цены действуют до {{ event.last_day }}', "Здравствуйте, {{ recipient.name }}!\n\nДоговорные цены {{ company.legal_name }} на {{ event.skus_count }} SKU действуют до {{ event.last_day }} ({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, ...{% endif %}). Менеджер предложит новые условия; до этой даты можно заказать по текущим ценам: {{ links.portal }}"),
        ('Ваши договорные цены действуют до {{ event.last_day | day }}', "Здравствуйте, {{ recipient.name }}!\n\nДоговорные цены {{ company.legal_name }} на {{ event.skus_count }} SKU действуют до {{ event.last_day | day }} ({{ event.skus | join(', ') }}{% if event.skus_count > event.skus | length %}, ...{% endif %}). Менеджер предложит новые условия; до этой даты можно заказать по текущим ценам: {{ links.portal }}"),
    ),
    ('contract_expiring_manager', 'en'): (
        ('{{ company.legal_name }}: contract prices end on {{ event.last_day }}', "{{ event.skus_count }} contract price(s) end: {{ event.skus | join(', ') }}. Agree new terms with the client."),
        ('{{ company.legal_name }}: contract prices end on {{ event.last_day | day }}', "{{ event.skus_count }} contract price(s) end: {{ event.skus | join(', ') }}. Agree new terms with the client."),
    ),
    ('contract_expiring_manager', 'ru'): (
        ('{{ company.legal_name }}: договорные цены заканчиваются {{ event.last_day }}', "Заканчиваются договорные цены на {{ event.skus_count }} SKU: {{ event.skus | join(', ') }}. Согласуйте с клиентом новые условия."),
        ('{{ company.legal_name }}: договорные цены заканчиваются {{ event.last_day | day }}', "Заканчиваются договорные цены на {{ event.skus_count }} SKU: {{ event.skus | join(', ') }}. Согласуйте с клиентом новые условия."),
    ),
    ('stock_back', 'en'): (
        ("Back in stock: {{ event.skus | map(attribute='name') | join(', ') }}", "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) is back in stock: {{ s.available }} available.\n{% endfor %}It is on your list(s) {{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}"),
        ("Back in stock: {{ event.skus | map(attribute='name') | join(', ') }}", "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) is back in stock: {{ s.available | number }} available.\n{% endfor %}It is on your list(s) {{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}"),
    ),
    ('stock_back', 'ru'): (
        ("Снова в наличии: {{ event.skus | map(attribute='name') | join(', ') }}", "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) снова в наличии: {{ s.available }}.\n{% endfor %}Товар есть в ваших списках {{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}"),
        ("Снова в наличии: {{ event.skus | map(attribute='name') | join(', ') }}", "{% for s in event.skus %}{{ s.name }} ({{ s.sku }}) снова в наличии: {{ s.available | number }}.\n{% endfor %}Товар есть в ваших списках {{ event.lists | map(attribute='name') | join(', ') }}. {{ links.portal }}"),
    ),
    ('key_sku_out_manager', 'en'): (
        ('{{ company.legal_name }}: {{ event.sku }} is out of stock', "{{ event.name }} ({{ event.sku }}) is out of stock. It is in the client's A class: {{ event.revenue_minor | money(event.currency) }} in the last months, {{ (event.revenue_share | float * 100) | round | int }} % of its purchases. Offer a substitute or a delivery date."),
        ('{{ company.legal_name }}: {{ event.sku }} is out of stock', "{{ event.name }} ({{ event.sku }}) is out of stock. It is in the client's A class: {{ event.revenue_minor | money(event.currency) }} in the last months, {{ event.revenue_share | percent(0) }} of its purchases. Offer a substitute or a delivery date."),
    ),
    ('key_sku_out_manager', 'ru'): (
        ('{{ company.legal_name }}: {{ event.sku }} нет в наличии', '{{ event.name }} ({{ event.sku }}) закончился. Это товар группы A клиента: {{ event.revenue_minor | money(event.currency) }} за последние месяцы, {{ (event.revenue_share | float * 100) | round | int }} % его закупок. Предложите замену или срок поставки.'),
        ('{{ company.legal_name }}: {{ event.sku }} нет в наличии', '{{ event.name }} ({{ event.sku }}) закончился. Это товар группы A клиента: {{ event.revenue_minor | money(event.currency) }} за последние месяцы, {{ event.revenue_share | percent(0) }} его закупок. Предложите замену или срок поставки.'),
    ),
    ('regular_prices_changed', 'en'): (
        ('Prices changed on {{ event.skus | length }} product(s) you buy regularly', 'Hello {{ recipient.name }},\n\n{% for s in event.skus %}{{ s.name }} ({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → {{ s.new_unit_price_minor | money(event.currency) }} ({{ s.change_percent }} %)\n{% endfor %}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
        ('Prices changed on {{ event.skus | length }} product(s) you buy regularly', 'Hello {{ recipient.name }},\n\n{% for s in event.skus %}{{ s.name }} ({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → {{ s.new_unit_price_minor | money(event.currency) }} ({{ (s.change_percent | float / 100) | percent }})\n{% endfor %}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}'),
    ),
    ('regular_prices_changed', 'ru'): (
        ('Изменились цены на {{ event.skus | length }} товар(ов), которые вы покупаете', 'Здравствуйте, {{ recipient.name }}!\n\n{% for s in event.skus %}{{ s.name }} ({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → {{ s.new_unit_price_minor | money(event.currency) }} ({{ s.change_percent }} %)\n{% endfor %}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
        ('Изменились цены на {{ event.skus | length }} товар(ов), которые вы покупаете', 'Здравствуйте, {{ recipient.name }}!\n\n{% for s in event.skus %}{{ s.name }} ({{ s.sku }}): {{ s.old_unit_price_minor | money(event.currency) }} → {{ s.new_unit_price_minor | money(event.currency) }} ({{ (s.change_percent | float / 100) | percent }})\n{% endfor %}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}'),
    ),
    ('cross_sell_offer', 'en'): (
        ("Clients like {{ company.legal_name }} also buy {{ event.suggestions | map(attribute='category') | join(', ') }}", "Hello {{ recipient.name }},\n\n{% for g in event.suggestions %}* {{ g.reason }}{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') }}{% endif %}\n{% endfor %}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}"),
        ("Clients like {{ company.legal_name }} also buy {{ event.suggestions | map(attribute='category') | join(', ') }}", "Hello {{ recipient.name }},\n\n{% for g in event.suggestions %}* {{ g.reason }}{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') }}{% endif +%}\n{% endfor +%}\n{{ links.portal }}\n\nUnsubscribe: {{ links.unsubscribe }}"),
    ),
    ('cross_sell_offer', 'ru'): (
        ("Компании как {{ company.legal_name }} также покупают {{ event.suggestions | map(attribute='category') | join(', ') }}", "Здравствуйте, {{ recipient.name }}!\n\n{% for g in event.suggestions %}* {{ (g.peer_share | float * 100) | round | int }} % похожих компаний покупают {{ g.category }}{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') }}{% endif %}\n{% endfor %}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}"),
        ("Компании как {{ company.legal_name }} также покупают {{ event.suggestions | map(attribute='category') | join(', ') }}", "Здравствуйте, {{ recipient.name }}!\n\n{% for g in event.suggestions %}* {{ g.peer_share | percent(0) }} похожих компаний покупают {{ g.category }}{% if g.skus %}: {{ g.skus | map(attribute='name') | join(', ') }}{% endif +%}\n{% endfor +%}\n{{ links.portal }}\n\nОтписаться: {{ links.unsubscribe }}"),
    ),
    ('concentration_alert', 'en'): (
        ('{{ company.legal_name }} makes {{ (event.share * 100) | round(1) }} % of sales', '{{ company.legal_name }} passed {{ (event.level * 100) | round(0) | int }} % of our {{ event.currency }} sales (now {{ (event.share * 100) | round(1) }} %). Depending on one client this much is a risk: plan how to spread it.'),
        ('{{ company.legal_name }} makes {{ event.share | percent }} of sales', '{{ company.legal_name }} passed {{ event.level | percent(0) }} of our {{ event.currency }} sales (now {{ event.share | percent }}). Depending on one client this much is a risk: plan how to spread it.'),
    ),
    ('concentration_alert', 'ru'): (
        ('{{ company.legal_name }}: {{ (event.share * 100) | round(1) }} % продаж', '{{ company.legal_name }} превысил {{ (event.level * 100) | round(0) | int }} % наших продаж в {{ event.currency }} (сейчас {{ (event.share * 100) | round(1) }} %). Зависимость от одного клиента - риск: спланируйте, как её снизить.'),
        ('{{ company.legal_name }}: {{ event.share | percent }} продаж', '{{ company.legal_name }} превысил {{ event.level | percent(0) }} наших продаж в {{ event.currency }} (сейчас {{ event.share | percent }}). Зависимость от одного клиента - риск: спланируйте, как её снизить.'),
    ),
}
UPDATE = sa.text(
    "UPDATE templates SET subject = :to_subject, body = :to_body "
    "WHERE key = :key AND locale = :locale AND subject = :subject AND body = :body"
)


def _move(backwards: bool) -> None:
    for (key, locale), (seeded, now) in TEXTS.items():
        (subject, body), (to_subject, to_body) = (now, seeded) if backwards else (seeded, now)
        op.execute(
            UPDATE.bindparams(
                key=key,
                locale=locale,
                subject=subject,
                body=body,
                to_subject=to_subject,
                to_body=to_body,
            )
        )


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

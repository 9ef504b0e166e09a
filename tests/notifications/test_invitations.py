"""An invitation reaches the invitee by e-mail and only there: accounts publishes
invitation.created without the token, notifications mails the accept link (the token derived
from the invitation's id), and that link's token accepts the invitation in accounts. Through
the real broker and a real SMTP server."""

from __future__ import annotations

import re

from shared.testing.fixtures import client
from tests.accounts.factories import ADMIN
from tests.accounts.test_companies import outbox
from tests.notifications.world import eventually

ACCEPT_LINK = re.compile(r"http://127\.0\.0\.1:3000/invitations/([A-Za-z0-9_-]{20,100})")


async def test_the_invitee_accepts_with_the_link_the_email_brings(
    start_app, smtp, notifications_settings
):
    smtp.start()
    accounts = await start_app("accounts", run_workers=True)
    await start_app("notifications", **notifications_settings)
    async with client(accounts, ADMIN) as http:
        company = (await http.post("/companies", json={"legal_name": "Alfa Build LLC"})).json()
        answer = await http.post(
            f"/companies/{company['id']}/invitations",
            json={"email": "Anna@Alfa.example", "role": "company_admin"},
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["token"] is None  # a test run is no development: the e-mail only

    async def mail():
        return smtp.mailbox.to("anna@alfa.example")

    [message] = await eventually(mail, within=60)
    body = message.get_content()
    assert message["Subject"] == "Приглашение в Alfa Build LLC"  # the default locale
    assert "администратором" in body
    token = ACCEPT_LINK.search(body).group(1)
    published = await outbox(accounts, "com.b2b.invitation.created.v1")
    assert published and token not in str(published)  # no event carries the token

    async with client(accounts) as anonymous:
        accepted = await anonymous.post(
            f"/invitations/{token}/accept", json={"name": "Anna", "password": "long-password"}
        )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["company_id"] == company["id"]
    roles = {m["role"] for m in accepted.json()["memberships"]}
    assert roles == {"company_admin"}

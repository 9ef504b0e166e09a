"""Version 2 answers the lists of notifications a page at a time: read in pages of one, a list
is version 1's bare array, in its order; a company admin's pages hold its company's only."""

from __future__ import annotations

import uuid

from shared.auth import Role
from shared.testing.fixtures import as_role, client
from tests.notifications.world import ADMIN
from tests.paging import in_pages_of_one

HOOK = "https://93.184.215.14/b2b"  # public, and no DNS needed


async def test_rules_templates_and_webhooks_read_in_pages_of_one_are_the_version_1_arrays(
    start_app,
):
    app = await start_app("notifications")
    company = str(uuid.uuid4())
    async with client(app, ADMIN) as http:
        for whose in (None, company, company):
            created = await http.post(
                "/webhooks", json={"url": HOOK, "event_types": ["*"], "company_id": whose}
            )
            assert created.status_code == 201, created.text
        for path in ("/rules", "/templates", "/webhooks"):
            paged = await in_pages_of_one(http, path, {})
            whole = await http.get(path)
            assert whole.status_code == 200, whole.text
            assert paged == whole.json(), path
            assert len(paged) >= 3, path  # more than one page was read
    async with client(app, as_role(Role.COMPANY_ADMIN, company_id=company)) as http:
        own = await in_pages_of_one(http, "/webhooks", {})
    assert [s["company_id"] for s in own] == [company, company]

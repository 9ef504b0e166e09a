"""The governance use cases called directly with a session, no HTTP: who may approve, what
state a held feed or a version must be in, guardrails on unknown lists."""

from __future__ import annotations

import uuid

import pytest

from services.pricing.store import versions
from services.pricing.usecases import governance as flows
from shared.feeds.models import FeedJob, JobState
from shared.problems import Conflict, Forbidden, NotFound

POSTER, OVERRIDER, SECOND = "api_key:erp", "user:overrider", "user:second"


async def held_feed(session, state: str, **fields) -> uuid.UUID:
    job = FeedJob(
        kind="prices",
        owner=POSTER,
        content_sha256="0" * 64,
        format="csv",
        mode="all_or_nothing",
        scope="delta",
        file_path="/nowhere.csv",
        size_bytes=1,
        state=state,
        **fields,
    )
    session.add(job)
    await session.flush()
    return job.id


async def test_a_staged_feed_is_approved_by_a_second_person_only(pricing):
    woken: list[bool] = []
    async with pricing.state.sessionmaker() as session, session.begin():
        job_id = await held_feed(
            session, JobState.STAGED, options={"override": {"by": OVERRIDER}}, stage="held"
        )
        for who in (POSTER, OVERRIDER):
            with pytest.raises(Forbidden):
                await flows.approve_feed(session, job_id, who, lambda: woken.append(True))
        assert woken == []
        job = await flows.approve_feed(session, job_id, SECOND, lambda: woken.append(True))
        assert (job.state, job.options["approved_by"], job.stage) == (JobState.QUEUED, SECOND, None)
        assert woken == [True]
        with pytest.raises(Conflict):  # queued again: nothing waits for approval now
            await flows.approve_feed(session, job_id, SECOND, lambda: None)
        with pytest.raises(Conflict):
            await flows.decline_feed(session, job_id, SECOND, "too late")


async def test_only_a_feed_stopped_by_guardrails_is_overridden(pricing):
    async with pricing.state.sessionmaker() as session, session.begin():
        rejected = await held_feed(session, JobState.REJECTED, result={"error": "bad rows"})
        with pytest.raises(Conflict):
            await flows.override_feed(session, rejected, SECOND, "because", lambda: None)
        stopped = await held_feed(session, JobState.REJECTED, result={"guardrails": [{}]})
        job = await flows.override_feed(session, stopped, SECOND, "season start", lambda: None)
        assert job.state == JobState.QUEUED
        assert (job.options["override"]["by"], job.options["override"]["reason"]) == (
            SECOND,
            "season start",
        )
        with pytest.raises(NotFound):
            await flows.override_feed(session, uuid.uuid4(), SECOND, "why", lambda: None)


async def test_a_staged_version_is_approved_by_a_second_person_or_declined(pricing):
    async with pricing.state.sessionmaker() as session, session.begin():
        version = await versions.record_version(
            session, cause="test", created_by=POSTER, diff={}, table=None, staged=True
        )
        with pytest.raises(Forbidden):
            await flows.approve_version(session, version.id, POSTER)
        with pytest.raises(Conflict):  # staged, not applied: nothing to roll back
            await flows.rollback_version(session, version.id, SECOND, "undo")
        declined = await flows.decline_version(session, version.id, SECOND, "not now")
        assert (declined.state, declined.reason) == ("discarded", f"declined by {SECOND}: not now")
        with pytest.raises(Conflict):
            await flows.approve_version(session, version.id, SECOND)
        with pytest.raises(NotFound):
            await flows.decline_version(session, version.id + 1000, SECOND, "none")


async def test_guardrails_name_a_known_list_or_the_default(pricing):
    async with pricing.state.sessionmaker() as session, session.begin():
        with pytest.raises(NotFound) as unknown:
            await flows.put_guardrail(session, "NO-SUCH-LIST", {"enforce_floor": True})
        assert unknown.value.errors[0].field == "list_code"
        row = await flows.put_guardrail(session, "*", {"max_row_change_percent": 10})
        assert (row.list_code, row.max_row_change_percent) == ("*", 10)
        await flows.delete_guardrail(session, "*")
        with pytest.raises(NotFound):
            await flows.delete_guardrail(session, "*")

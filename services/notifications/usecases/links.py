"""Links in messages, opened without logging in (the signed token is the proof): unsubscribe
from a kind of email, answer the after-delivery survey (NPS or CSAT) or the churn
questionnaire. Each answer is published for analytics."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.domain import signing
from services.notifications.store import directory, surveys
from shared.clock import utcnow
from shared.contracts.notifications import ChurnSurveyAnsweredV1, SurveyAnsweredV1
from shared.events.outbox import record_event
from shared.problems import NotFound


def claims_of(link_secret: str, purpose: str, token: str) -> dict[str, Any]:
    """What a link's token says; a forged, altered or other-purpose token is an unknown link."""
    claims = signing.read_link_token(link_secret, purpose, token)
    if claims is None:
        raise NotFound("This link is not valid.")
    return claims


async def unsubscribe(session: AsyncSession, link_secret: str, token: str) -> str:
    """That kind of email off for that person; returns the kind."""
    claims = claims_of(link_secret, "unsubscribe", token)
    await directory.set_user_preferences(
        session, uuid.UUID(claims["u"]), [(claims["k"], "email", False)]
    )
    return str(claims["k"])


async def answer_survey(
    session: AsyncSession,
    link_secret: str,
    token: str,
    *,
    metric: str,
    score: int,
    comment: str | None,
) -> str:
    """Record (or replace) the score of a delivery; returns the survey's subject."""
    claims = claims_of(link_secret, "survey", token)
    values = {
        "company_id": uuid.UUID(claims["c"]),
        "user_id": uuid.UUID(claims["u"]),
        "subject": claims["s"],
        "touchpoint": claims["t"],
        "metric": metric,
        "score": score,
        "comment": comment,
    }
    await surveys.save_survey_answer(session, values)
    record_event(session, SurveyAnsweredV1(**values, answered_at=utcnow()))
    return str(claims["s"])


async def answer_churn_survey(
    session: AsyncSession, link_secret: str, token: str, answers: dict[str, Any]
) -> None:
    """Record (or replace) why a client stopped buying: `main_reason`, `product`, `service`,
    `sale`."""
    claims = claims_of(link_secret, "churn_survey", token)
    values = {"company_id": uuid.UUID(claims["c"]), "user_id": uuid.UUID(claims["u"]), **answers}
    now = utcnow()
    await surveys.save_churn_answer(session, values, answers, now)
    record_event(session, ChurnSurveyAnsweredV1(**values, answered_at=now))

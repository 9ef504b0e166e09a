"""Events the notifications service publishes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.contracts.orders import LossReason
from shared.events.envelope import EventContract, register

FEEDBACK_TOPIC = "notifications.feedback"


@register
class SurveyAnsweredV1(EventContract):
    """A client's person answered a survey link (after a delivery): NPS 0-10 or CSAT 1-5. A
    second answer to the same survey replaces the first and is published again."""

    event_type = "survey.answered.v1"
    topic = FEEDBACK_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    user_id: uuid.UUID
    subject: str = Field(description="What was rated, e.g. order=<order id>")
    touchpoint: str = Field(description="delivery")
    metric: str = Field(description="nps or csat")
    score: int
    comment: str | None = None
    answered_at: datetime


@register
class ChurnSurveyAnsweredV1(EventContract):
    """A person of a client that stopped buying answered the churn questionnaire: what did not
    suit in the product, in our service, at the time of sale, and the main reason."""

    event_type = "churn_survey.answered.v1"
    topic = FEEDBACK_TOPIC
    aggregate_type = "company"
    aggregate_key = "company_id"

    company_id: uuid.UUID
    user_id: uuid.UUID
    main_reason: LossReason
    product: str | None = None
    service: str | None = None
    sale: str | None = None
    answered_at: datetime

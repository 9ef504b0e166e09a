"""Links in messages, opened without logging in (the signed token is the proof): unsubscribe
from a kind of email, and answer the after-delivery survey (NPS or CSAT)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.dialects.postgresql import insert

from services.notifications.domain import signing
from services.notifications.settings import Settings
from services.notifications.store import directory
from services.notifications.store.models import ChurnSurveyResponse, SurveyResponse
from shared.clock import utcnow
from shared.contracts.notifications import ChurnSurveyAnsweredV1, SurveyAnsweredV1
from shared.contracts.orders import LossReason
from shared.db import SessionDep
from shared.events.outbox import record_event
from shared.fields import SINGLE_LINE, free_text
from shared.problems import NotFound

router = APIRouter(tags=["links"])
Token = Annotated[str, Path(max_length=2000, pattern=SINGLE_LINE)]  # a forged one is a 404


class Unsubscribed(BaseModel):
    kind: str
    channel: str = "email"
    enabled: bool = False


class SurveyAnswer(BaseModel):
    metric: Literal["nps", "csat"] = "nps"
    score: int = Field(ge=0, le=10, description="NPS 0-10, CSAT 1-5")
    comment: free_text(2000) | None = None

    @model_validator(mode="after")
    def _range(self) -> SurveyAnswer:
        if self.metric == "csat" and not 1 <= self.score <= 5:
            raise ValueError("CSAT is scored 1 to 5")
        return self


class SurveyRecorded(BaseModel):
    subject: str
    metric: str
    score: int


def _claims(request: Request, purpose: str, token: str) -> dict:
    settings: Settings = request.app.state.settings
    claims = signing.read_link_token(settings.link_secret.get_secret_value(), purpose, token)
    if claims is None:
        raise NotFound("This link is not valid.")
    return claims


@router.post(
    "/unsubscribe/{token}",
    summary="One-click unsubscribe (RFC 8058) from the kind of email the link came with",
)
async def unsubscribe(token: Token, request: Request, session: SessionDep) -> Unsubscribed:
    claims = _claims(request, "unsubscribe", token)
    await directory.set_user_preferences(
        session, uuid.UUID(claims["u"]), [(claims["k"], "email", False)]
    )
    return Unsubscribed(kind=claims["k"])


@router.post("/surveys/{token}", summary="Answer a survey; answering again replaces the score")
async def answer_survey(
    token: Token, body: SurveyAnswer, request: Request, session: SessionDep
) -> SurveyRecorded:
    claims = _claims(request, "survey", token)
    values = {
        "company_id": uuid.UUID(claims["c"]),
        "user_id": uuid.UUID(claims["u"]),
        "subject": claims["s"],
        "touchpoint": claims["t"],
        "metric": body.metric,
        "score": body.score,
        "comment": body.comment,
    }
    stmt = insert(SurveyResponse).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["subject", "user_id", "metric"],
            set_={
                "score": body.score,
                "comment": body.comment,
                "answered_at": stmt.excluded.answered_at,
            },
        )
    )
    record_event(session, SurveyAnsweredV1(**values, answered_at=utcnow()))
    return SurveyRecorded(subject=claims["s"], metric=body.metric, score=body.score)


class ChurnSurveyAnswer(BaseModel):
    main_reason: LossReason = Field(
        description="What mattered most: product, service, sale, price, delivery, other"
    )
    product: free_text(2000) | None = Field(None, description="What did not suit in it")
    service: free_text(2000) | None = Field(None, description="In our service")
    sale: free_text(2000) | None = Field(None, description="At the time of sale")


@router.post(
    "/churn-surveys/{token}",
    summary="Answer the questionnaire of a client that stopped buying; answering again replaces",
)
async def answer_churn_survey(
    token: Token, body: ChurnSurveyAnswer, request: Request, session: SessionDep
) -> ChurnSurveyAnswer:
    claims = _claims(request, "churn_survey", token)
    values = {
        "company_id": uuid.UUID(claims["c"]),
        "user_id": uuid.UUID(claims["u"]),
        **body.model_dump(),
    }
    stmt = insert(ChurnSurveyResponse).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["company_id", "user_id"],
            set_={**body.model_dump(), "answered_at": utcnow()},
        )
    )
    record_event(session, ChurnSurveyAnsweredV1(**values, answered_at=utcnow()))
    return body

"""Links in messages, opened without logging in (the signed token is the proof): unsubscribe
from a kind of email, and answer the after-delivery survey (NPS or CSAT)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, model_validator

from services.notifications.settings import Settings
from services.notifications.usecases import links as usecase
from shared.contracts.orders import LossReason
from shared.db import SessionDep
from shared.fields import SINGLE_LINE, multiline

router = APIRouter(tags=["links"])
Token = Annotated[str, Path(max_length=2000, pattern=SINGLE_LINE)]  # a forged one is a 404


class Unsubscribed(BaseModel):
    kind: str
    channel: str = "email"
    enabled: bool = False


class SurveyAnswer(BaseModel):
    metric: Literal["nps", "csat"] = "nps"
    score: int = Field(ge=0, le=10, description="NPS 0-10, CSAT 1-5")
    comment: multiline(2000) | None = None

    @model_validator(mode="after")
    def _range(self) -> SurveyAnswer:
        if self.metric == "csat" and not 1 <= self.score <= 5:
            raise ValueError("CSAT is scored 1 to 5")
        return self


class SurveyRecorded(BaseModel):
    subject: str
    metric: str
    score: int


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.link_secret.get_secret_value()


@router.post(
    "/unsubscribe/{token}",
    summary="One-click unsubscribe (RFC 8058) from the kind of email the link came with",
)
async def unsubscribe(token: Token, request: Request, session: SessionDep) -> Unsubscribed:
    return Unsubscribed(kind=await usecase.unsubscribe(session, _secret(request), token))


@router.post("/surveys/{token}", summary="Answer a survey; answering again replaces the score")
async def answer_survey(
    token: Token, body: SurveyAnswer, request: Request, session: SessionDep
) -> SurveyRecorded:
    subject = await usecase.answer_survey(
        session,
        _secret(request),
        token,
        metric=body.metric,
        score=body.score,
        comment=body.comment,
    )
    return SurveyRecorded(subject=subject, metric=body.metric, score=body.score)


class ChurnSurveyAnswer(BaseModel):
    main_reason: LossReason = Field(
        description="What mattered most: product, service, sale, price, delivery, other"
    )
    product: multiline(2000) | None = Field(None, description="What did not suit in it")
    service: multiline(2000) | None = Field(None, description="In our service")
    sale: multiline(2000) | None = Field(None, description="At the time of sale")


@router.post(
    "/churn-surveys/{token}",
    summary="Answer the questionnaire of a client that stopped buying; answering again replaces",
)
async def answer_churn_survey(
    token: Token, body: ChurnSurveyAnswer, request: Request, session: SessionDep
) -> ChurnSurveyAnswer:
    await usecase.answer_churn_survey(session, _secret(request), token, body.model_dump())
    return body

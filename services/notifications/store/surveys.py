"""Survey answers: one per (subject, person, metric), one churn questionnaire per (company,
person); answering again replaces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.store.models import ChurnSurveyResponse, SurveyResponse


async def save_survey_answer(session: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(SurveyResponse).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["subject", "user_id", "metric"],
            set_={
                "score": values["score"],
                "comment": values["comment"],
                "answered_at": stmt.excluded.answered_at,
            },
        )
    )


async def save_churn_answer(
    session: AsyncSession, values: dict[str, Any], answers: dict[str, Any], now: datetime
) -> None:
    stmt = insert(ChurnSurveyResponse).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["company_id", "user_id"], set_={**answers, "answered_at": now}
        )
    )

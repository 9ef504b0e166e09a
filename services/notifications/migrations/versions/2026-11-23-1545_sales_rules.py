"""sales rules: concentration alerts to the head of sales, the churn questionnaire and its
answers, win-back tasks for key clients (built-ins version 3)

Revision ID: notifications_0005
Revises: notifications_0004
Create Date: 2026-11-23 15:33:56.224571+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.notifications.migrations.builtin_seed import seed, unseed

revision: str = "notifications_0005"
down_revision: str | None = "notifications_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "churn_survey_responses",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("main_reason", sa.String(length=16), nullable=False),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("sale", sa.Text(), nullable=True),
        sa.Column(
            "answered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("company_id", "user_id", name=op.f("pk_churn_survey_responses")),
    )
    seed(op, revision)


def downgrade() -> None:
    unseed(op, revision)
    op.drop_table("churn_survey_responses")

"""the invitation e-mail: accounts' invitation.created to the invitee (built-ins version 4)

Revision ID: notifications_0007
Revises: notifications_0006
Create Date: 2026-12-06 09:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.notifications.builtin import INVITATION_RULES, INVITATION_TEMPLATES, seed

revision: str = "notifications_0007"
down_revision: str | None = "notifications_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed(op, 4)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM rules WHERE code = ANY(:codes)").bindparams(
            codes=[r["code"] for r in INVITATION_RULES]
        )
    )
    op.execute(
        sa.text("DELETE FROM templates WHERE key = ANY(:keys)").bindparams(
            keys=list(INVITATION_TEMPLATES)
        )
    )

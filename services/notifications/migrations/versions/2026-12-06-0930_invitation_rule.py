"""the invitation e-mail: accounts' invitation.created to the invitee (built-ins version 4)

Revision ID: notifications_0007
Revises: notifications_0006
Create Date: 2026-12-06 09:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from services.notifications.migrations.builtin_seed import seed, unseed

revision: str = "notifications_0007"
down_revision: str | None = "notifications_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed(op, revision)


def downgrade() -> None:
    unseed(op, revision)

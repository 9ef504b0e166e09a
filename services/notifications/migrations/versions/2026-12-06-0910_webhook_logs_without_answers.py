"""webhook_logs_without_answers: the delivery log kept up to 500 characters of what a
receiver answered; a subscriber sees the status and a short reason only, so those go.

Revision ID: notifications_0006
Revises: notifications_0005
Create Date: 2026-11-24 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "notifications_0006"
down_revision: str | None = "notifications_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE webhook_attempts SET error = 'HTTP ' || status_code "
        "WHERE status_code IS NOT NULL AND error IS NOT NULL"
    )
    op.execute(
        "UPDATE webhook_deliveries SET last_error = 'HTTP ' || last_status_code "
        "WHERE last_status_code IS NOT NULL AND last_error IS NOT NULL"
    )


def downgrade() -> None:
    pass  # what the receivers answered is not kept anywhere else

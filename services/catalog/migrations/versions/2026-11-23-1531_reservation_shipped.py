"""a reservation whose goods were shipped ends as `shipped`

Revision ID: catalog_0012
Revises: catalog_0011
Create Date: 2026-11-23 15:31:47.953437+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "catalog_0012"
down_revision: str | None = "catalog_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'held', 'confirmed', 'released', 'expired'"


def upgrade() -> None:
    op.drop_constraint("ck_reservations_state_known", "reservations")
    op.create_check_constraint(
        "ck_reservations_state_known", "reservations", f"state IN ({STATES}, 'shipped')"
    )


def downgrade() -> None:
    op.execute("UPDATE reservations SET state = 'released' WHERE state = 'shipped'")
    op.drop_constraint("ck_reservations_state_known", "reservations")
    op.create_check_constraint("ck_reservations_state_known", "reservations", f"state IN ({STATES})")

"""Kernel tables, version 2: the outbox keeps the W3C trace context an event was recorded in.

Frozen like kernel_v1: each service's migration tree applies it in a revision of its own.
"""

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(length=55), nullable=True))
    op.add_column("outbox", sa.Column("tracestate", sa.String(length=512), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "tracestate")
    op.drop_column("outbox", "traceparent")

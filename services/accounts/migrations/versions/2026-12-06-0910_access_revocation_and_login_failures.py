"""access_revocation_and_login_failures

Revision ID: accounts_0006
Revises: accounts_0005
Create Date: 2026-11-24 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'accounts_0006'
down_revision: str | None = 'accounts_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_login_failures'))
    )
    op.add_column('users', sa.Column('access_generation', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('access_revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_users_access_revoked_at'), 'users', ['access_revoked_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_users_access_revoked_at'), table_name='users')
    op.drop_column('users', 'access_revoked_at')
    op.drop_column('users', 'access_generation')
    op.drop_table('login_failures')

"""A client's contacts and the seller's interactions with them.

Revision ID: accounts_0011
Revises: accounts_0010
Create Date: 2026-12-06 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "accounts_0011"
down_revision: str | None = "accounts_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("buying_role", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("consents_to_messages", sa.Boolean(), nullable=False),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "buying_role IN ('decision_maker', 'purchasing', 'technical', 'owner', "
            "'accountant', 'other')",
            name=op.f("ck_contacts_buying_role"),
        ),
        sa.CheckConstraint(
            "preferred_channel IN ('phone', 'email', 'messenger', 'visit')",
            name=op.f("ck_contacts_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contacts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_contacts_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint(
            "company_id", "external_id", name=op.f("uq_contacts_company_id_external_id")
        ),
    )
    op.create_index(
        "ix_contacts_company_name_id", "contacts", ["company_id", "name", "id"], unique=False
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("manager_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("next_step", sa.String(length=300), nullable=True),
        sa.Column("next_step_date", sa.Date(), nullable=True),
        sa.Column("knowledge_goal_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('call', 'meeting', 'email', 'visit')", name=op.f("ck_interactions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_interactions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_interactions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["knowledge_goal_id"],
            ["knowledge_goals.id"],
            name=op.f("fk_interactions_knowledge_goal_id_knowledge_goals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["users.id"], name=op.f("fk_interactions_manager_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint(
            "company_id", "external_id", name=op.f("uq_interactions_company_id_external_id")
        ),
    )
    op.create_index(
        "ix_interactions_company_occurred",
        "interactions",
        ["company_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_interactions_contact_occurred",
        "interactions",
        ["contact_id", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("interactions")
    op.drop_table("contacts")

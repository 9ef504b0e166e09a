"""orders_carts_checkout

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-11-23 09:33:18.241013+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'orders_0002'
down_revision: str | None = 'orders_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE order_numbers")
    op.create_table('approval_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('above_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('buyer', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(above_minor IS NOT NULL AND currency IS NOT NULL) OR buyer IS NOT NULL', name=op.f('ck_approval_rules_says_something')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_rules'))
    )
    op.create_index(op.f('ix_approval_rules_company_id'), 'approval_rules', ['company_id'], unique=False)
    op.create_table('carts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts'))
    )
    op.create_index('uq_carts_owner_name', 'carts', ['company_id', 'owner', 'name'], unique=True)
    op.create_table('checkouts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('cart_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reservation_id', sa.Uuid(), nullable=True),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('started', 'reserved', 'placed', 'settled', 'failed')", name=op.f('ck_checkouts_state_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkouts'))
    )
    op.create_index('ix_checkouts_unfinished', 'checkouts', ['updated_at'], unique=False, postgresql_where=sa.text("state IN ('started', 'reserved', 'placed')"))
    op.create_index('uq_checkouts_key', 'checkouts', ['company_id', 'idempotency_key'], unique=True)
    op.create_table('companies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('legal_name', sa.String(length=300), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies')),
    sa.UniqueConstraint('external_id', name=op.f('uq_companies_external_id'))
    )
    op.create_table('orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('placed_by', sa.String(length=100), nullable=False),
    sa.Column('on_behalf_of_client', sa.Boolean(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reservation_id', sa.Uuid(), nullable=True),
    sa.Column('promised_from', sa.Date(), nullable=True),
    sa.Column('promised_to', sa.Date(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('portal', 'manager', 'erp')", name=op.f('ck_orders_source_known')),
    sa.CheckConstraint("status IN ('pending_approval', 'credit_hold', 'placed', 'confirmed', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_orders_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('external_id', name=op.f('uq_orders_external_id')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    op.create_index('ix_orders_company_placed', 'orders', ['company_id', sa.literal_column('placed_at DESC'), 'id'], unique=False)
    op.create_table('products',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('min_order_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('order_multiple', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('sellable', sa.Boolean(), nullable=False),
    sa.Column('replacement_sku', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_products'))
    )
    op.create_table('requisition_lists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requisition_lists'))
    )
    op.create_index('uq_requisition_lists_name', 'requisition_lists', ['company_id', 'name'], unique=True)
    op.create_table('cart_lines',
    sa.Column('cart_id', sa.Uuid(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('position', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cart_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_cart_lines_cart_id_carts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cart_id', 'sku', name=op.f('pk_cart_lines'))
    )
    op.create_table('order_lines',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('list_price_minor', sa.BigInteger(), nullable=True),
    sa.Column('price_rule', sa.String(length=200), nullable=False),
    sa.Column('priced_on', sa.Date(), nullable=False),
    sa.Column('delivered_quantity', sa.Numeric(precision=18, scale=3), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', 'line_no', name=op.f('pk_order_lines'))
    )
    op.create_table('order_transitions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_transitions_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_transitions'))
    )
    op.create_index(op.f('ix_order_transitions_order_id'), 'order_transitions', ['order_id'], unique=False)
    op.create_table('requisition_list_lines',
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['requisition_lists.id'], name=op.f('fk_requisition_list_lines_list_id_requisition_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'sku', name=op.f('pk_requisition_list_lines'))
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('requisition_list_lines')
    op.drop_index(op.f('ix_order_transitions_order_id'), table_name='order_transitions')
    op.drop_table('order_transitions')
    op.drop_table('order_lines')
    op.drop_table('cart_lines')
    op.drop_index('uq_requisition_lists_name', table_name='requisition_lists')
    op.drop_table('requisition_lists')
    op.drop_table('products')
    op.drop_index('ix_orders_company_placed', table_name='orders')
    op.drop_table('orders')
    op.drop_table('companies')
    op.drop_index('uq_checkouts_key', table_name='checkouts')
    op.drop_index('ix_checkouts_unfinished', table_name='checkouts', postgresql_where=sa.text("state IN ('started', 'reserved', 'placed')"))
    op.drop_table('checkouts')
    op.drop_index('uq_carts_owner_name', table_name='carts')
    op.drop_table('carts')
    op.drop_index(op.f('ix_approval_rules_company_id'), table_name='approval_rules')
    op.drop_table('approval_rules')
    op.execute("DROP SEQUENCE order_numbers")
    # ### end Alembic commands ###

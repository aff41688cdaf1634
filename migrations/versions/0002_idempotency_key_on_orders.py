"""Idempotency keys move onto the order they placed; members' orders are indexed by id

An order placed with an Idempotency-Key now carries the key and the request's fingerprint itself,
under a partial unique index (member, key): placing an order writes one row fewer and no longer
looks the key up first (a retry finds its order through the unique violation). The member index
becomes (member_id, id), the order the order list reads in, so listing needs no sort.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_HAS_KEY = sa.text("idempotency_key IS NOT NULL")


def upgrade():
    op.add_column('orders', sa.Column('idempotency_key', sa.String(length=100), nullable=True))
    op.add_column('orders', sa.Column('request_hash', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE orders SET "
        "idempotency_key = (SELECT k.\"key\" FROM idempotency_keys k WHERE k.order_id = orders.id), "
        "request_hash = (SELECT k.request_hash FROM idempotency_keys k WHERE k.order_id = orders.id) "
        "WHERE id IN (SELECT order_id FROM idempotency_keys)"
    )
    op.create_index('uq_orders_member_idempotency_key', 'orders', ['member_id', 'idempotency_key'], unique=True,
                    sqlite_where=_HAS_KEY, postgresql_where=_HAS_KEY)
    op.drop_table('idempotency_keys')
    op.drop_index('ix_orders_member_created', table_name='orders')
    op.create_index('ix_orders_member', 'orders', ['member_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_orders_member', table_name='orders')
    op.create_index('ix_orders_member_created', 'orders', ['member_id', 'created_at'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('member_id', 'key')
    )
    op.execute(
        "INSERT INTO idempotency_keys (member_id, \"key\", request_hash, order_id, created_at) "
        "SELECT member_id, idempotency_key, request_hash, id, created_at FROM orders "
        "WHERE idempotency_key IS NOT NULL"
    )
    op.drop_index('uq_orders_member_idempotency_key', table_name='orders')
    op.drop_column('orders', 'request_hash')
    op.drop_column('orders', 'idempotency_key')

"""A partial index of unpaid online orders per member, for the per-member limits on what unpaid
orders may hold

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_UNPAID = sa.text("status = 'pending_payment'")


def upgrade():
    op.create_index("ix_orders_member_unpaid", "orders", ["member_id"], sqlite_where=_UNPAID, postgresql_where=_UNPAID)


def downgrade():
    op.drop_index("ix_orders_member_unpaid", table_name="orders")

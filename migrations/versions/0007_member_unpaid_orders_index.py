"""A partial index of unpaid online orders per member, for the per-member limits on what unpaid
orders may hold

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_UNPAID = sa.text("status = 'pending_payment'")


def upgrade():
    op.create_index("ix_orders_member_unpaid", "orders", ["member_id"], sqlite_where=_UNPAID, postgresql_where=_UNPAID)


def downgrade():
    op.drop_index("ix_orders_member_unpaid", table_name="orders")

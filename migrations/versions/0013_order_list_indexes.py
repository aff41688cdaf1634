"""Order lists read a page in index order at any history size: (location_id, id) for a store's list,
(location_id, status, id) and (status, id) for lists by status; (status, expires_at) gives way to
(status, id), through which the sweeps read their (few) open orders

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 12:40:00

"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_orders_location_id", "orders", ["location_id", "id"])
    op.drop_index("ix_orders_location_status", table_name="orders")
    op.create_index("ix_orders_location_status", "orders", ["location_id", "status", "id"])
    op.drop_index("ix_orders_status_expires", table_name="orders")
    op.create_index("ix_orders_status_id", "orders", ["status", "id"])


def downgrade():
    op.drop_index("ix_orders_status_id", table_name="orders")
    op.create_index("ix_orders_status_expires", "orders", ["status", "expires_at"])
    op.drop_index("ix_orders_location_status", table_name="orders")
    op.create_index("ix_orders_location_status", "orders", ["location_id", "status"])
    op.drop_index("ix_orders_location_id", table_name="orders")

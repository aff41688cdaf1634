"""Third-party platforms: channel_orders links a platform's order id to ours (unique per platform),
channel_outbox holds the status changes owed to the platform

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "channel_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("platform_order_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("paid_amount", sa.Integer(), nullable=False),
        sa.Column("platform_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
        sa.UniqueConstraint("platform", "platform_order_id", name="uq_channel_orders_platform_order"),
    )
    op.create_table(
        "channel_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_channel_outbox_pending", "channel_outbox", ["next_attempt_at"],
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_channel_outbox_order", "channel_outbox", ["order_id", "id"])
    op.create_index("ix_channel_outbox_state", "channel_outbox", ["state", "id"])


def downgrade():
    op.drop_index("ix_channel_outbox_state", table_name="channel_outbox")
    op.drop_index("ix_channel_outbox_order", table_name="channel_outbox")
    op.drop_index("ix_channel_outbox_pending", table_name="channel_outbox")
    op.drop_table("channel_outbox")
    op.drop_table("channel_orders")

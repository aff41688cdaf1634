"""Escalations of orders nobody accepted in time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 10:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_escalations',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('order_id')
    )
    op.create_index(op.f('ix_order_escalations_location_id'), 'order_escalations', ['location_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_order_escalations_location_id'), table_name='order_escalations')
    op.drop_table('order_escalations')

"""Delivery notes (配送单): carrier or staff, the outcome at the door, the check-back at the store

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('tracking_no', sa.String(length=64), nullable=False),
    sa.Column('courier_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cod_amount', sa.Integer(), nullable=False),
    sa.Column('cash_collected', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=False),
    sa.Column('shipped_at', sa.DateTime(), nullable=False),
    sa.Column('shipped_by', sa.Integer(), nullable=False),
    sa.Column('outcome_at', sa.DateTime(), nullable=True),
    sa.Column('checked_back_at', sa.DateTime(), nullable=True),
    sa.Column('checked_back_by', sa.Integer(), nullable=True),
    sa.Column('cash_counted', sa.Integer(), nullable=True),
    sa.Column('cash_difference', sa.Integer(), nullable=True),
    sa.CheckConstraint("(mode = 'carrier' AND carrier <> '' AND tracking_no <> '') OR (mode = 'staff' AND courier_id IS NOT NULL)", name='ck_delivery_notes_carried'),
    sa.CheckConstraint("mode IN ('carrier', 'staff')", name='ck_delivery_notes_mode'),
    sa.CheckConstraint('cod_amount >= 0', name='ck_delivery_notes_cod'),
    sa.ForeignKeyConstraint(['checked_back_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['courier_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['shipped_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['locations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_index('ix_delivery_notes_courier_status', 'delivery_notes', ['courier_id', 'status'], unique=False)
    op.create_index('ix_delivery_notes_store_status', 'delivery_notes', ['store_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_delivery_notes_store_status', table_name='delivery_notes')
    op.drop_index('ix_delivery_notes_courier_status', table_name='delivery_notes')
    op.drop_table('delivery_notes')

"""Pickup codes, the audit of verification attempts, handed-over quantities per order line

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def upgrade():
    op.create_table('pickup_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('deadline_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('handed_over_at', sa.DateTime(), nullable=True),
    sa.Column('handed_over_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handed_over_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['locations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_index('uq_pickup_codes_open_code', 'pickup_codes', ['code'], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_index('ix_pickup_codes_code', 'pickup_codes', ['code'], unique=False)
    op.create_index('ix_pickup_codes_status_deadline', 'pickup_codes', ['status', 'deadline_at'], unique=False)
    op.create_table('pickup_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('input_kind', sa.String(length=8), nullable=False),
    sa.Column('input_hint', sa.String(length=16), nullable=False),
    sa.Column('confirm', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('guess', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['locations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pickup_attempts_staff_at', 'pickup_attempts', ['staff_id', 'at'], unique=False)
    op.create_index('ix_pickup_attempts_store_at', 'pickup_attempts', ['store_id', 'at'], unique=False)
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_over_qty', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_order_lines_handed_over', 'handed_over_qty >= 0 AND handed_over_qty <= qty')


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint('ck_order_lines_handed_over', type_='check')
        batch_op.drop_column('handed_over_qty')
    op.drop_index('ix_pickup_attempts_store_at', table_name='pickup_attempts')
    op.drop_index('ix_pickup_attempts_staff_at', table_name='pickup_attempts')
    op.drop_table('pickup_attempts')
    op.drop_index('ix_pickup_codes_status_deadline', table_name='pickup_codes')
    op.drop_index('ix_pickup_codes_code', table_name='pickup_codes')
    op.drop_index('uq_pickup_codes_open_code', table_name='pickup_codes')
    op.drop_table('pickup_codes')

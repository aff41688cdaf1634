"""Member returns (returns, return_lines); a member message may be about one return (return_id), so
the message centre's uniqueness is per order, kind and return

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 15:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('refuse_reason', sa.String(length=200), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('carrier', sa.String(length=32), nullable=False),
        sa.Column('tracking_no', sa.String(length=64), nullable=False),
        sa.Column('shipped_at', sa.DateTime(), nullable=True),
        sa.Column('received_by', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('amount >= 0', name='ck_returns_amount'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['location_id'], ['locations.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['staff.id']),
        sa.ForeignKeyConstraint(['received_by'], ['staff.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_returns_order_id', 'returns', ['order_id'])
    op.create_index('ix_returns_member', 'returns', ['member_id', 'id'])
    op.create_index('ix_returns_status', 'returns', ['status', 'id'])
    op.create_index('ix_returns_location_status', 'returns', ['location_id', 'status', 'id'])
    op.create_table(
        'return_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('qty', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.CheckConstraint('qty > 0', name='ck_return_lines_qty'),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id']),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id']),
        sa.ForeignKeyConstraint(['product_id'], ['products.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_return_lines_return_id', 'return_lines', ['return_id'])
    op.create_index('ix_return_lines_order_line_id', 'return_lines', ['order_line_id'])
    with op.batch_alter_table('member_messages') as batch:
        batch.add_column(sa.Column('return_id', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_constraint('uq_member_messages_order_kind', type_='unique')
        batch.create_unique_constraint('uq_member_messages_order_kind_return', ['order_id', 'kind', 'return_id'])


def downgrade():
    op.execute("DELETE FROM member_messages WHERE return_id <> 0")
    with op.batch_alter_table('member_messages') as batch:
        batch.drop_constraint('uq_member_messages_order_kind_return', type_='unique')
        batch.create_unique_constraint('uq_member_messages_order_kind', ['order_id', 'kind'])
        batch.drop_column('return_id')
    op.drop_table('return_lines')
    op.drop_table('returns')

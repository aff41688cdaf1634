"""The member's message centre (member_messages) and saved delivery addresses (member_addresses)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'member_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_id', 'kind', name='uq_member_messages_order_kind'),
    )
    op.create_index('ix_member_messages_member', 'member_messages', ['member_id', 'id'], unique=False)
    op.create_table(
        'member_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('province', sa.String(length=64), nullable=False),
        sa.Column('city', sa.String(length=64), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=False),
        sa.Column('street', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=False),
        sa.Column('contact_name', sa.String(length=50), nullable=False),
        sa.Column('contact_phone', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_member_addresses_member', 'member_addresses', ['member_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_member_addresses_member', table_name='member_addresses')
    op.drop_table('member_addresses')
    op.drop_index('ix_member_messages_member', table_name='member_messages')
    op.drop_table('member_messages')

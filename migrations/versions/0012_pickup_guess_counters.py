"""Pickup-code guess throttle: an atomic counter per clerk and per store

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pickup_guess_counters',
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )


def downgrade():
    op.drop_table('pickup_guess_counters')

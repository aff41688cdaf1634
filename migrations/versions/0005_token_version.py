"""Accounts carry a token version: bumped on deactivation or password change, it revokes every
token issued before

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN (SQLite 3.35+ has both): a batch rebuild of these tables would drop
    # them, which their foreign keys refuse once orders exist.
    for table in ("members", "staff"):
        op.add_column(table, sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    for table in ("members", "staff"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN token_version")

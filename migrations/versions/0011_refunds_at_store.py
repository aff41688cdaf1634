"""Refunds of money taken at the store, paid out at its counter

Money paid at the counter (到店付款, cash or card) or cash on delivery has no provider to send it back:
such a refund is owed at the store (status 'at_store') until a clerk pays it out, recorded with who
(paid_out_by), how (payout_method: cash | card) and when (done_at). Refunds of such payments written
before this migration sat 'pending' (or 'failed', once the retry job gave up on them): they become owed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 12:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_TAKEN_AT_STORE = "('store_cash', 'store_card', 'cod_cash')"


def upgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_out_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payout_method', sa.String(length=8), nullable=True))
        batch_op.create_foreign_key('fk_refunds_paid_out_by', 'staff', ['paid_out_by'], ['id'])
    op.execute(
        "UPDATE refunds SET status = 'at_store', last_error = '' WHERE status IN ('pending', 'failed') AND payment_id IN "
        f"(SELECT id FROM payments WHERE provider IN {_TAKEN_AT_STORE})"
    )


def downgrade():
    # Owed refunds go back to what the old code made of them (pending); paid-out ones stay succeeded.
    op.execute("UPDATE refunds SET status = 'pending' WHERE status = 'at_store'")
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint('fk_refunds_paid_out_by', type_='foreignkey')
        batch_op.drop_column('payout_method')
        batch_op.drop_column('paid_out_by')

"""Day-ends (日结) with their snapshots, shift handovers (交接班), and indexes on the dated columns the
store's book reads (completions, payments, refunds).

The day-end tables are append-only, like order_events: a closed day is evidence for the ERP.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

APPEND_ONLY = ("day_ends", "day_end_items", "day_end_lines")


def upgrade():
    op.create_table(
        'day_ends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=False),
        sa.Column('closed_by', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['locations.id']),
        sa.ForeignKeyConstraint(['closed_by'], ['staff.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('store_id', 'business_date', name='uq_day_ends_store_date'),
    )
    op.create_table(
        'day_end_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day_end_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('order_number', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('payment_method', sa.String(length=8), nullable=False),
        sa.Column('route', sa.String(length=16), nullable=False),
        sa.Column('purpose', sa.String(length=8), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['day_end_id'], ['day_ends.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'ref_id', name='uq_day_end_items_ref'),
    )
    op.create_index('ix_day_end_items_day_end_id', 'day_end_items', ['day_end_id'])
    op.create_table(
        'day_end_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day_end_id', sa.Integer(), nullable=False),
        sa.Column('order_number', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('sku', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('qty', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('location_code', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['day_end_id'], ['day_ends.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_day_end_lines_day_end', 'day_end_lines', ['day_end_id', 'id'])
    op.create_table(
        'shift_handovers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('shift_no', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=False),
        sa.Column('closed_by', sa.Integer(), nullable=False),
        sa.Column('expected_cash', sa.Integer(), nullable=False),
        sa.Column('counted_cash', sa.Integer(), nullable=False),
        sa.Column('difference', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['locations.id']),
        sa.ForeignKeyConstraint(['closed_by'], ['staff.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('store_id', 'shift_no', name='uq_shift_handovers_store_no'),
    )
    completed = sa.text("to_status = 'completed'")
    op.create_index('ix_order_events_completed_at', 'order_events', ['at'], sqlite_where=completed,
                    postgresql_where=completed)
    op.create_index('ix_payments_paid_at', 'payments', ['paid_at'])
    op.create_index('ix_refunds_created_at', 'refunds', ['created_at'])
    op.create_index('ix_refunds_done_at', 'refunds', ['done_at'])
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    else:
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{message}'; END $$")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade():
    op.drop_index('ix_refunds_done_at', table_name='refunds')
    op.drop_index('ix_refunds_created_at', table_name='refunds')
    op.drop_index('ix_payments_paid_at', table_name='payments')
    op.drop_index('ix_order_events_completed_at', table_name='order_events')
    op.drop_table('shift_handovers')
    for table in reversed(APPEND_ONLY):
        if op.get_bind().dialect.name != "sqlite":
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only() CASCADE")
        op.drop_table(table)  # (SQLite drops a table's triggers with it)

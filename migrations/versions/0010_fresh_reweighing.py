"""Fresh goods re-weighing (生鲜 多退少补)

Order lines keep the price per kg they were sold with (beside the standard weight they already keep)
and may be goods added to make up another line (adjusts_line_id); products carry their conversion's
offline item code and weighing tolerance; stores their waive limit; payments their purpose (the order,
or a top-up); line_weighings records each weighing and how its difference was settled.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_CURRENT = sa.text("status <> 'superseded'")


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_per_kg', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('adjusts_line_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_order_lines_adjusts_line_id', 'order_lines', ['adjusts_line_id'], ['id'])
    # Lines of weighed goods sold before this migration: the product's price per kg (unchanged since, as
    # far as anything recorded tells).
    op.execute(
        "UPDATE order_lines SET price_per_kg = "
        "(SELECT p.price_per_kg FROM products p WHERE p.id = order_lines.product_id) "
        "WHERE standard_weight_g IS NOT NULL"
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline_sku', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('weigh_tolerance_g', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('weigh_tolerance_bp', sa.Integer(), nullable=True))
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weigh_waive_limit', sa.Integer(), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=8), server_default='order', nullable=False))

    op.create_table('line_weighings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('expected_g', sa.Integer(), nullable=False),
    sa.Column('price_per_kg', sa.Integer(), nullable=False),
    sa.Column('line_cost', sa.Integer(), nullable=False),
    sa.Column('tolerance', sa.String(length=16), nullable=False),
    sa.Column('within_tolerance', sa.Boolean(), nullable=False),
    sa.Column('difference', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('settlement', sa.String(length=16), nullable=True),
    sa.Column('refunded', sa.Integer(), nullable=False),
    sa.Column('goods_value', sa.Integer(), nullable=False),
    sa.Column('waived', sa.Integer(), nullable=False),
    sa.Column('collected', sa.Integer(), nullable=False),
    sa.Column('due_change', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('adjustment_line_id', sa.Integer(), nullable=True),
    sa.Column('topup_payment_id', sa.Integer(), nullable=True),
    sa.Column('weighed_by', sa.String(length=64), nullable=False),
    sa.Column('weighed_at', sa.DateTime(), nullable=False),
    sa.Column('settled_by', sa.String(length=64), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('weight_g >= 0 AND expected_g > 0 AND price_per_kg > 0 AND line_cost >= 0',
                       name='ck_line_weighings_figures'),
    sa.CheckConstraint("source IN ('scale', 'typed')", name='ck_line_weighings_source'),
    sa.CheckConstraint('line_cost + difference >= 0', name='ck_line_weighings_refund_within_cost'),
    sa.CheckConstraint('refunded >= 0 AND goods_value >= 0 AND waived >= 0 AND collected >= 0',
                       name='ck_line_weighings_split_nonnegative'),
    sa.CheckConstraint("status <> 'settled' OR "
                       "refunded + goods_value + waived + collected + abs(due_change) = abs(difference)",
                       name='ck_line_weighings_settled_in_full'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], ),
    sa.ForeignKeyConstraint(['adjustment_line_id'], ['order_lines.id'], ),
    sa.ForeignKeyConstraint(['topup_payment_id'], ['payments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('line_weighings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_line_weighings_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_line_weighings_current', ['line_id'], unique=True,
                              sqlite_where=_CURRENT, postgresql_where=_CURRENT)


def downgrade():
    with op.batch_alter_table('line_weighings', schema=None) as batch_op:
        batch_op.drop_index('uq_line_weighings_current')
        batch_op.drop_index(batch_op.f('ix_line_weighings_order_id'))
    op.drop_table('line_weighings')
    # Plain DROP COLUMN (SQLite 3.35+): a batch would copy these tables, and SQLite refuses to drop the
    # old copy of a table other rows still refer to.
    op.drop_column('payments', 'purpose')
    op.drop_column('locations', 'weigh_waive_limit')
    for column in ('weigh_tolerance_bp', 'weigh_tolerance_g', 'offline_sku'):
        op.drop_column('products', column)
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint('fk_order_lines_adjusts_line_id', type_='foreignkey')
        batch_op.drop_column('adjusts_line_id')
        batch_op.drop_column('price_per_kg')

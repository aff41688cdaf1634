"""Hardware bridges (devices) and their print jobs

A device is a store PC's bridge; only the SHA-256 of its token is stored, and a revoked device keeps
its row (revoked_at) so its jobs stay attributable. Print jobs are durable: queued until the bridge
acknowledges them printed, failed or expired; dedupe_key keeps automatic jobs to one per order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:24:14.889170

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hint', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('connected_sid', sa.String(length=64), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('hardware', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['locations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_store_id'), ['store_id'], unique=False)

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('printer', sa.String(length=50), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('printed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('receipt', 'pickup_ticket', 'delivery_note', 'drawer_kick')", name='ck_print_jobs_kind'),
    sa.CheckConstraint("status IN ('queued', 'printed', 'failed', 'expired')", name='ck_print_jobs_status'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['locations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_device_status', ['device_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_print_jobs_store_created', ['store_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_print_jobs_store_created')
        batch_op.drop_index(batch_op.f('ix_print_jobs_order_id'))
        batch_op.drop_index('ix_print_jobs_device_status')

    op.drop_table('print_jobs')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_store_id'))

    op.drop_table('devices')

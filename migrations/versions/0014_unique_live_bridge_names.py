"""A store's live bridges have distinct names

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 16:00:00

Bridges registered before this revision may share a name within a store: all but the oldest of each
such group get " (2)", " (3)", ... appended (cut to fit the 50 characters) before the unique index is
created. Downgrading drops the index and keeps the names.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

LIVE = sa.text("revoked_at IS NULL")


def upgrade():
    _rename_duplicates(op.get_bind())
    op.create_index('uq_devices_store_live_name', 'devices', ['store_id', 'name'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def _rename_duplicates(conn) -> None:
    rows = conn.execute(sa.text("SELECT id, store_id, name FROM devices WHERE revoked_at IS NULL ORDER BY id")).all()
    taken = {(store_id, name) for _, store_id, name in rows}
    seen = set()
    for device_id, store_id, name in rows:
        if (store_id, name) not in seen:
            seen.add((store_id, name))
            continue
        number = 2
        while (store_id, _numbered(name, number)) in taken:
            number += 1
        renamed = _numbered(name, number)
        taken.add((store_id, renamed))
        conn.execute(sa.text("UPDATE devices SET name = :name WHERE id = :id"), {"name": renamed, "id": device_id})


def _numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[:50 - len(suffix)] + suffix


def downgrade():
    op.drop_index('uq_devices_store_live_name', table_name='devices')

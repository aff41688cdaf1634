"""The per-request token-version read (accounts.repository.current_token_version) on both databases:
it sees what other connections committed, and leaves nothing behind: on PostgreSQL the pooled
connection it borrowed goes back as it came (the read runs in autocommit, which must not leak to the
connection's next user); on SQLite its own connection holds no read snapshot that would stop a checkpoint."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from app.accounts.models import Member, Staff
from app.accounts.repository import current_token_version
from app.extensions import db

from .factories import build_chain


def test_the_read_sees_committed_changes_and_leaves_its_connection_as_it_came(app):
    build_chain(app)
    with app.app_context():
        member_id = db.session.query(Member.id).order_by(Member.id).first()[0]
        clerk_id = db.session.query(Staff.id).filter_by(username="clerkA").scalar()
        url = db.engine.url
        db.session.remove()
    engine = create_engine(url, pool_size=1, max_overflow=0)  # one connection: the read's is the next user's
    try:
        assert current_token_version(engine, "member", member_id) == 0
        with engine.begin() as conn:
            conn.execute(text("UPDATE members SET token_version = token_version + 1 WHERE id = :id"), {"id": member_id})
            conn.execute(text("UPDATE staff SET active = false WHERE id = :id"), {"id": clerk_id})
        assert current_token_version(engine, "member", member_id) == 1
        assert current_token_version(engine, "staff", clerk_id) is None  # deactivated
        assert current_token_version(engine, "member", 10**9) is None

        # The next user of that connection gets a transaction again: its uncommitted write is undone.
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                assert conn.connection.driver_connection.autocommit is False
            conn.execute(text("UPDATE members SET token_version = 99 WHERE id = :id"), {"id": member_id})
            conn.rollback()
        assert current_token_version(engine, "member", member_id) == 1
        if engine.dialect.name == "sqlite":  # the read's own connection holds no snapshot open afterwards
            with engine.connect() as conn:
                busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            assert busy == 0
    finally:
        engine.dispose()

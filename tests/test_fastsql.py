"""FastStatement runs prebuilt statements on the DB-API cursor; what it stores and reads back must be
exactly what SQLAlchemy Core stores and reads, on both databases."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.infra.fastsql import FastStatement, _bind_processor

metadata = MetaData()
things = Table(
    "fastsql_things", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), unique=True, nullable=False),
    Column("at", DateTime),
    Column("payload", JSON),
    Column("active", Boolean, default=True),
    Column("kind", String(10), default=lambda: "made"),
    Column("ref", String(10), unique=True),
)
INSERT = FastStatement(insert(things).returning(things.c.id))
BY_CODE = FastStatement(select(things).where(things.c.code == bindparam("code")))
ACTIVE_ONLY = FastStatement(select(things.c.code).where(things.c.active == True))  # noqa: E712 (a bound literal)
ADD_ONCE = FastStatement({  # SQLite answers the id through lastrowid, PostgreSQL through RETURNING
    "sqlite": sqlite_insert(things).on_conflict_do_nothing(index_elements=[things.c.code]),
    "postgresql": postgresql_insert(things).on_conflict_do_nothing(index_elements=[things.c.code]).returning(things.c.id),
})
DEACTIVATE = FastStatement(update(things).where(things.c.code == bindparam("c")).values(active=False))


@pytest.fixture
def connection(app):
    with app.app_context():
        metadata.create_all(db.engine)
        try:
            with db.engine.connect() as conn:
                yield conn
                conn.rollback()
        finally:
            metadata.drop_all(db.engine)


def test_rows_written_and_read_match_sqlalchemy_core(connection):
    at = datetime(2026, 11, 22, 3, 35, 34, 120)
    INSERT.execute(connection, {"code": "fast", "at": at, "payload": {"门店": [1, 2]}, "ref": None})
    connection.execute(insert(things).values(code="core", at=at, payload={"门店": [1, 2]}))

    fast = BY_CODE.first(connection, {"code": "fast"})
    core = connection.execute(select(things).where(things.c.code == "core")).one()
    assert (fast.at, fast.payload, fast.active, fast.kind) == (at, {"门店": [1, 2]}, True, "made")
    assert (fast.at, fast.payload, fast.active, fast.kind) == (core.at, core.payload, core.active, core.kind)
    # Stored the same way too (SQLite keeps dates as text: ordering and comparisons depend on it).
    stored = connection.execute(text("SELECT code, CAST(at AS TEXT) FROM fastsql_things ORDER BY code")).all()
    assert stored[0][1] == stored[1][1]


def test_update_returns_the_rowcount_and_literals_bind_themselves(connection):
    INSERT.execute(connection, {"code": "a", "at": None, "payload": None, "ref": None})
    INSERT.execute(connection, {"code": "b", "at": None, "payload": None, "ref": None})
    assert DEACTIVATE.execute(connection, {"c": "a"}) == 1
    assert DEACTIVATE.execute(connection, {"c": "nope"}) == 0
    assert [row.code for row in ACTIVE_ONLY.execute(connection)] == ["b"]
    assert BY_CODE.first(connection, {"code": "nope"}) is None


def test_insert_answers_the_new_id_or_none_when_the_conflict_clause_skipped_it(connection):
    first = ADD_ONCE.insert(connection, {"code": "once", "at": None, "payload": None, "ref": None})
    second = ADD_ONCE.insert(connection, {"code": "twice", "at": None, "payload": None, "ref": None})
    assert isinstance(first, int) and second == first + 1
    assert ADD_ONCE.insert(connection, {"code": "once", "at": None, "payload": None, "ref": None}) is None
    assert BY_CODE.first(connection, {"code": "twice"}).id == second
    ADD_ONCE.insert(connection, {"code": "r1", "at": None, "payload": None, "ref": "R"})
    with pytest.raises(IntegrityError):  # only the named conflict is skipped
        ADD_ONCE.insert(connection, {"code": "r2", "at": None, "payload": None, "ref": "R"})


def test_driver_errors_surface_as_sqlalchemy_exceptions(connection):
    INSERT.execute(connection, {"code": "same", "at": None, "payload": None, "ref": None})
    with pytest.raises(IntegrityError):
        INSERT.execute(connection, {"code": "same", "at": None, "payload": None, "ref": None})


def test_a_missing_parameter_is_refused_before_reaching_the_database(connection):
    with pytest.raises(KeyError, match="code"):
        BY_CODE.execute(connection, {})


@pytest.mark.parametrize("value", [
    datetime(2026, 11, 22, 3, 35, 34, 123), datetime(2026, 1, 2), datetime(999, 1, 1, 1, 1, 1, 1),
    datetime.max, datetime.min, datetime(2026, 11, 22, 8, tzinfo=timezone.utc),
])
def test_sqlite_datetime_text_is_sqlalchemys_own(value):
    dialect = sqlite.dialect()
    general = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert _bind_processor(DateTime(), dialect)(value) == general(value)


def test_sqlite_datetime_text_kept_for_repeats_is_always_the_values_own():
    dialect = sqlite.dialect()
    general = DateTime().dialect_impl(dialect).bind_processor(dialect)
    process = _bind_processor(DateTime(), dialect)
    a, b, c = (datetime(2026, 11, 22, 3, 35, s, 7) for s in (1, 2, 3))
    same_as_a = datetime(2026, 11, 22, 3, 35, 1, 7)
    sequence = [a, a, b, a, c, b, a, same_as_a, c, None, a]
    assert [process(v) if v is not None else None for v in sequence] == \
        [general(v) if v is not None else None for v in sequence]
    aware = datetime(2026, 11, 22, 8, tzinfo=timezone.utc)
    assert process(aware) == general(aware) and process(a) == general(a)
    # Every DATETIME parameter shares the kept texts: an order's created_at, updated_at and its event's
    # time are one object, formatted once.
    created_at, event_at = _bind_processor(DateTime(), dialect), _bind_processor(DateTime(), dialect)
    now = datetime(2026, 11, 22, 3, 35, 9, 1)
    assert event_at(now) is created_at(now) and created_at(now) == general(now)

"""Group commit (SQLite under gevent): units that start together share one transaction, each in its own
savepoint; a failing unit loses only its own work; nobody hears "done" before the COMMIT; a failed
COMMIT fails every unit of the batch. Run here on greenlets in one thread, as the server runs them."""
import os
from pathlib import Path

import gevent
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError

from app.infra.engine import configure_engine
from app.infra.group_commit import WRITER_CACHE_KIB, GroupCommit


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'group.db'}")
    configure_engine(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER UNIQUE, "
                          "parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"))
    begins = []  # write transactions (BEGIN IMMEDIATE) only; reads begin too

    @event.listens_for(engine, "begin")
    def count_write_transactions(conn):
        if conn.get_execution_options().get("storelink_immediate"):
            begins.append(1)

    engine.begins = begins
    yield engine
    engine.dispose()


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM item")).scalar_one()


def test_units_started_together_share_one_commit_and_a_failure_stays_its_own(engine):
    group = GroupCommit(engine)
    seen_after_commit = []

    def unit(n):
        with group.unit() as uow:
            uow.connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
            uow.after_commit(lambda: seen_after_commit.append((n, _count(engine))))
            if n == 7:
                raise ValueError("this unit fails after writing")
        return n

    jobs = [gevent.spawn(unit, n) for n in range(20)]
    gevent.joinall(jobs)
    assert isinstance(jobs[7].exception, ValueError)
    assert [j.value for j in jobs if j.successful()] == [n for n in range(20) if n != 7]
    assert len(engine.begins) == 1  # one transaction for the whole batch
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM item")).scalars()) == [n for n in range(20) if n != 7]
    # Each unit's after-commit work saw the batch already durable, from another connection.
    assert sorted(n for n, _ in seen_after_commit) == [n for n in range(20) if n != 7]
    assert {count for _, count in seen_after_commit} == {19}


def test_a_unit_breaking_a_constraint_rolls_back_to_its_savepoint_only(engine):
    group = GroupCommit(engine)

    def unit(n):
        with group.unit() as uow:
            uow.connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n % 3})

    jobs = [gevent.spawn(unit, n) for n in range(6)]
    gevent.joinall(jobs)
    assert sum(1 for j in jobs if isinstance(j.exception, IntegrityError)) == 3
    assert _count(engine) == 3


def test_a_failed_commit_fails_every_unit_of_the_batch(engine):
    group = GroupCommit(engine)
    results = []

    def unit(n):
        with group.unit() as uow:
            # The deferred foreign key is only checked at COMMIT; unit 0 breaks it for the whole batch.
            uow.connection.execute(text("INSERT INTO item (n, parent_id) VALUES (:n, :p)"),
                                   {"n": n, "p": 999 if n == 0 else None})
            uow.after_commit(lambda: results.append(n))

    jobs = [gevent.spawn(unit, n) for n in range(5)]
    gevent.joinall(jobs)
    assert all(isinstance(j.exception, IntegrityError) for j in jobs)
    assert results == [] and _count(engine) == 0


def test_units_that_start_after_a_commit_form_the_next_batch(engine):
    group = GroupCommit(engine)

    def unit(n):
        with group.unit() as uow:
            uow.connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})

    gevent.joinall([gevent.spawn(unit, n) for n in range(3)])
    gevent.joinall([gevent.spawn(unit, n) for n in range(3, 6)])
    assert len(engine.begins) == 2 and _count(engine) == 6


def test_a_connection_whose_commit_failed_is_clean_for_its_next_user(engine):
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("INSERT INTO item (n, parent_id) VALUES (1, 999)"))
        with pytest.raises(IntegrityError):
            transaction.commit()
    with engine.begin() as conn:  # the same pooled connection: it must be able to begin again
        conn.execute(text("INSERT INTO item (n) VALUES (2)"))
    assert _count(engine) == 1


def test_batches_write_through_one_kept_connection_replaced_after_a_failed_commit(engine):
    group = GroupCommit(engine)
    used = []

    def unit(n, parent=None):
        with group.unit() as uow:
            used.append(uow.connection.connection.dbapi_connection)
            uow.connection.execute(text("INSERT INTO item (n, parent_id) VALUES (:n, :p)"), {"n": n, "p": parent})

    with engine.connect() as first, engine.connect() as second:  # the pool now holds idle readers
        first.execute(text("SELECT 1")), second.execute(text("SELECT 1"))
    for n in range(3):
        gevent.spawn(unit, n).join()
    assert used[0] is used[1] is used[2]  # not the pool's turn-taking between connections
    assert used[0].execute("PRAGMA cache_size").fetchone()[0] == -WRITER_CACHE_KIB  # its cache lasts: room
    failed = gevent.spawn(unit, 3, 999)  # the deferred foreign key breaks this batch's COMMIT
    failed.join()
    assert isinstance(failed.exception, IntegrityError)
    gevent.spawn(unit, 4).join()
    assert used[4] is not used[3] and _count(engine) == 4  # a fresh writer, which can begin again
    group.close()
    assert group._writer is None


def test_nesting_units_is_refused_instead_of_deadlocking(engine):
    group = GroupCommit(engine)

    def nested():
        with group.unit():
            with group.unit():
                pass

    job = gevent.spawn(nested)
    job.join(timeout=5)
    assert isinstance(job.exception, RuntimeError) and _count(engine) == 0


def test_orm_session_work_in_a_unit_commits_with_the_batch_and_fails_alone(engine):
    from sqlalchemy.orm import Session

    group = GroupCommit(engine)

    def unit(n):
        with group.unit() as uow:
            assert isinstance(uow.session, Session)
            uow.session.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
            if n == 1:
                uow.session.execute(text("INSERT INTO item (n) VALUES (0)"))  # duplicate: this unit fails

    jobs = [gevent.spawn(unit, n) for n in range(4)]
    gevent.joinall(jobs)
    assert isinstance(jobs[1].exception, IntegrityError)
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM item")).scalars()) == [0, 2, 3]


def test_a_unit_that_yields_half_way_does_not_interleave_with_the_next(engine):
    group = GroupCommit(engine)
    order = []

    def slow(n):
        with group.unit() as uow:
            order.append(("start", n))
            uow.connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
            gevent.sleep(0.01)  # a unit that yields inside its transaction
            order.append(("end", n))
            if n == 0:
                raise ValueError("fails after yielding")

    jobs = [gevent.spawn(slow, n) for n in range(3)]
    gevent.joinall(jobs)
    # Each unit runs start to end before another begins (in whatever order they get the turn).
    assert [event for event, _ in order] == ["start", "end"] * 3
    assert [order[i][1] for i in range(0, 6, 2)] == [order[i][1] for i in range(1, 6, 2)]
    assert {n for _, n in order} == {0, 1, 2}
    assert isinstance(jobs[0].exception, ValueError)
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM item")).scalars()) == [1, 2]


def _sqlite_temp_files() -> set[str]:
    """SQLite's temporary files this process holds open (it names them etilqs_*, unlinked at once)."""
    fds = Path("/proc/self/fd")
    names = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if "etilqs_" in target:
            names.add(target)
    return names


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc to see open files")
def test_a_units_savepoint_journal_stays_in_memory_however_much_it_writes(engine):
    # Each unit's SAVEPOINT keeps the original of every page it changes in a sub-journal, which SQLite
    # moves to a temporary file once it passes 64 KiB unless temp_store is MEMORY: an order touches
    # about that many pages (its table and seven indexes, lines, history, stock), and writing them
    # out cost a quarter of placing one (docs/PERFORMANCE.md).
    with engine.begin() as conn:
        conn.execute(text("WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 20000) "
                          "INSERT INTO item (n) SELECT v FROM s"))
    group = GroupCommit(engine)
    before = _sqlite_temp_files()
    seen = []

    def unit():
        with group.unit() as uow:
            # Every 200th row: ~100 rows spread over the table's and its index's pages, far past 64 KiB.
            uow.connection.execute(text("UPDATE item SET n = -n WHERE id % 200 = 0"))
            seen.append(_sqlite_temp_files() - before)

    gevent.spawn(unit).join()
    gevent.spawn(unit).join()
    assert seen == [set(), set()]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM item WHERE n < 0")).scalar_one() == 0  # twice negated
    group.close()

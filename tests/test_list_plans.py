"""Every list query's plan over a long history (issue 8, item 8): 30,000 orders over three stores, mostly
closed, a few dozen open (the newest), with the statistics the server gathers (SQLite: ANALYZE under
analysis_limit, app/infra/sqlite_stats.py; PostgreSQL: ANALYZE, as autovacuum does).

The statements checked are the ones the application runs (captured as it runs them), so a change of
query shape is checked too. What must never happen: sorting a store's (or the chain's) whole history
to return one page, or reading it all. Figures at a million orders: docs/PERFORMANCE.md."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from app.api.staff import QUEUE_STATUSES
from app.clock import utcnow
from app.extensions import db
from app.infra.sqlite_stats import refresh_statistics
from app.messages import service as messages
from app.orders import queries
from app.realtime import catchup

from .factories import build_chain

HISTORY = 30_000  # one order a minute: three weeks
OPEN = 60  # the newest orders are still open, in every open status


@pytest.fixture
def history(app, backend):
    chain = build_chain(app)
    stores = [chain.stores[code] for code in ("A", "B", "C")]
    members = [chain.principals["m0"].id, chain.principals["m1"].id]
    open_status = "CASE value % {} {} END".format(
        len(QUEUE_STATUSES), " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(QUEUE_STATUSES)))
    with app.app_context():
        with db.engine.begin() as conn:
            a_minute_each = (":at + value * interval '1 minute'" if conn.dialect.name == "postgresql" else
                             "strftime('%Y-%m-%d %H:%M:%f', :at, '+' || value || ' minutes')")
            conn.execute(text(
                "INSERT INTO orders (number, member_id, channel, fulfilment, location_id, payment_method, "
                "payment_status, status, routing_reason, contact_name, contact_phone, note, goods_total, delivery_fee, "
                "total, created_at, updated_at) "
                "SELECT 'H' || value, CASE WHEN value % 2 = 0 THEN :m0 ELSE :m1 END, 'mall', 'pickup', "
                "CASE value % 3 WHEN 0 THEN :a WHEN 1 THEN :b ELSE :c END, 'online', 'paid', "
                f"CASE WHEN value > {HISTORY - OPEN} THEN {open_status} "
                "WHEN value % 100 < 85 THEN 'completed' WHEN value % 100 < 91 THEN 'cancelled' "
                "WHEN value % 100 < 97 THEN 'expired' ELSE 'rejected' END, "
                f"'', '', '', '', 100, 0, 100, {a_minute_each}, :at "
                f"FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < {HISTORY}) "
                "SELECT value FROM n) AS n"),
                {"m0": members[0], "m1": members[1], "a": stores[0], "b": stores[1], "c": stores[2],
                 "at": utcnow() - timedelta(days=30)})
            # Each order's history (placed, and the move to where it is now) and its member's message.
            for kind in ("placed", "status"):
                conn.execute(text("INSERT INTO order_events (order_id, at, actor, kind, from_status, to_status, reason) "
                                  "SELECT id, created_at, 'member:1', :kind, NULL, status, '' FROM orders"), {"kind": kind})
            conn.execute(text("INSERT INTO member_messages (member_id, order_id, kind, created_at, read_at) "
                              "SELECT member_id, id, 'pickup_code', created_at, created_at FROM orders"))
    _gather_statistics(app, backend)
    return chain, stores, members


def _gather_statistics(app, backend) -> None:
    """The statistics the server keeps (SQLite: app/infra/sqlite_stats.py) or autovacuum gathers (PostgreSQL)."""
    with app.app_context():
        if backend == "sqlite":
            assert refresh_statistics(db.engine) is True
        else:
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()


@contextmanager
def captured(app):
    """The statements run inside the block (text, parameters), as the driver received them."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan_of(app, run) -> list[str]:
    """The plans of the statements on orders that `run(connection)` executes."""
    with captured(app) as statements, app.app_context(), db.engine.connect() as conn:
        run(conn)
    return explain(app, statements)


def _no_full_sort(plan: str, backend: str) -> bool:
    """No sort of a whole history: on SQLite no temporary B-tree for ORDER BY (a page is read in index
    order); on PostgreSQL no Sort node and no sequential scan of orders."""
    if backend == "sqlite":
        return "TEMP B-TREE" not in plan and "SCAN orders" not in plan.replace("SCAN orders USING", "")
    return "Sort" not in plan and "Seq Scan on orders" not in plan


def test_a_clerks_order_list_reads_one_page_of_the_store_history_in_index_order(app, backend, history):
    _, stores, _ = history
    plans = plan_of(app, lambda conn: queries.list_orders(conn, location_id=stores[1], limit=20))
    assert _no_full_sort(plans[0], backend), plans[0]
    # PostgreSQL, which knows a third of the orders are the store's, may walk the primary key backwards
    # instead: no sort either, a page costs three rows read per row shown.
    assert backend != "sqlite" or "ix_orders_location_id" in plans[0], plans[0]
    # Next page (before_id) and a status filter, common or rare: the same index order, no sort.
    for kwargs in ({"before_id": HISTORY // 2}, {"status": "completed"}, {"status": "cancelled", "before_id": 20_000},
                   {"status": "rejected"}):
        plans = plan_of(app, lambda conn: queries.list_orders(conn, location_id=stores[1], limit=20, **kwargs))
        assert _no_full_sort(plans[0], backend), (kwargs, plans[0])


def test_hq_order_list_by_status_reads_one_page_in_index_order(app, backend, history):
    for status in ("cancelled", "rejected", "ready_to_ship"):
        plans = plan_of(app, lambda conn: queries.list_orders(conn, status=status, limit=20))
        assert _no_full_sort(plans[0], backend), (status, plans[0])
        assert backend != "sqlite" or "ix_orders_status_id" in plans[0], (status, plans[0])


def _walks_a_history(plan: str, backend: str) -> bool:
    """Reads orders (or their history entries) by store alone, or scans them: work that grows with history."""
    if backend == "sqlite":
        steps = plan.split(" | ")
        return any("(location_id=?)" in step or step.startswith(("SCAN orders", "SCAN o", "SCAN e", "SCAN order_events"))
                   for step in steps)
    return "Seq Scan on orders" in plan or "Seq Scan on order_events" in plan


def explain(app, statements) -> list[str]:
    """Plans of the captured statements that read orders or their history."""
    plans = []
    with app.app_context(), db.engine.connect() as conn:
        for statement, parameters in statements:
            if " orders" not in statement and "order_events" not in statement:
                continue
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                plans.append(" | ".join(row[3] for row in rows))
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                plans.append(" | ".join(row[0].strip() for row in rows))
    return plans


@pytest.mark.parametrize("query", ["", "?status=accepted"])
def test_the_clerk_queue_reads_open_orders_and_the_newest_event_without_walking_the_store_history(
        app, backend, history, query):
    """GET /clerk/orders: the open orders through (location_id, status), one status at a time (an
    (location_id, id) index invites SQLite to walk the store's history in id order instead), and the
    newest history entry without joining the store's orders."""
    chain, _, _ = history
    with captured(app) as statements:
        response = app.test_client().get(f"/api/v1/clerk/orders{query}", headers=chain.h("clerkA"))
    assert response.status_code == 200 and response.json["orders"]
    plans = explain(app, statements)
    assert len(plans) >= 2, statements  # the newest entry, the open orders (and their lines)
    for plan in plans:
        assert not _walks_a_history(plan, backend), plan
    if backend == "sqlite":
        searches = [step for plan in plans for step in plan.split(" | ") if step.startswith("SEARCH orders")]
        assert searches and all("ix_orders_location_status (location_id=? AND status=?" in s for s in searches), plans


def test_member_lists_read_one_page_through_the_member(app, backend, history):
    _, _, members = history
    plans = plan_of(app, lambda conn: queries.list_orders(conn, member_id=members[0], limit=20))
    assert _no_full_sort(plans[0], backend), plans[0]
    assert backend != "sqlite" or "ix_orders_member" in plans[0], plans[0]


def test_a_reconnecting_clerk_screen_is_replayed_entry_by_entry_not_from_the_store_history(app, backend, history):
    """missed_events for a store: from the client's last entry (and the look-back before it) on, in id order,
    each entry's store looked up by primary key; never through the store's orders (its whole history)."""
    _, stores, members = history
    with app.app_context(), db.engine.connect() as conn:
        last = conn.execute(text("SELECT max(id) FROM order_events")).scalar()
    plans = plan_of(app, lambda conn: catchup.missed_events(conn, after_id=last - 100, location_id=stores[0]))
    replay = [plan for plan in plans if "location_id" in plan or "entry_order" in plan or "SUBQUERY" in plan]
    assert replay, plans
    for plan in plans:
        assert not _walks_a_history(plan, backend), plan
        assert "BLOOM FILTER" not in plan, plan  # built by reading every order
    plans = plan_of(app, lambda conn: catchup.missed_events(conn, after_id=last - 100, member_id=members[0]))
    for plan in plans:
        assert not _walks_a_history(plan, backend), plan


def test_the_hq_escalation_list_reads_the_waiting_orders_not_every_escalation_ever(app, backend, history):
    """GET /hq/escalations: the escalated orders still waiting for acceptance. Escalations pile up with
    history (one order in fifty at a million orders: ~18,000 rows; one in five here), and the planner, which cannot know
    that few orders wait, may read them all and look each order up; the waiting orders come first
    through (status, id) and each one's escalation by its key."""
    chain, _, _ = history
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO order_escalations (order_id, location_id, escalated_at) "
                              "SELECT id, location_id, created_at FROM orders WHERE id % 5 = 0 OR status = 'awaiting_acceptance'"))
    _gather_statistics(app, backend)
    with captured(app) as statements:
        response = app.test_client().get("/api/v1/hq/escalations", headers=chain.h("hq"))
    assert response.status_code == 200 and response.json["escalations"], response.json
    plans = [plan for plan in explain(app, statements) if "order_escalations" in " ".join(s for s, _ in statements)]
    assert plans, statements
    for plan in plans:
        if backend == "sqlite":
            assert "SCAN order_escalations" not in plan and "SCAN e" not in plan.split(" | ")[0], plan
            assert not _walks_a_history(plan, backend), plan
        else:
            assert "Seq Scan on order_escalations" not in plan and not _walks_a_history(plan, backend), plan

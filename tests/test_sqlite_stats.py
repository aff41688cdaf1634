"""SQLite planner statistics: refreshed at start (and periodically); with them, the clerk queue over
a long history searches (location_id, status) for the open orders (every list query: test_list_plans.py)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from app.clock import utcnow
from app.extensions import db
from app.infra.sqlite_stats import refresh_statistics

from .factories import build_chain


def test_statistics_are_gathered_and_the_store_queue_uses_an_index(app, backend):
    chain = build_chain(app)
    with app.app_context():
        if backend != "sqlite":
            assert refresh_statistics(db.engine) is False  # PostgreSQL's autovacuum keeps its own
            return
        store, now = chain.stores["A"], utcnow()
        with db.engine.begin() as conn:  # a long history: 20,000 closed orders at one store
            conn.execute(text(
                "INSERT INTO orders (number, member_id, channel, fulfilment, location_id, payment_method, "
                "payment_status, status, routing_reason, contact_name, contact_phone, note, goods_total, delivery_fee, total, "
                "created_at, updated_at) "
                "SELECT 'H' || value, NULL, 'mall', 'pickup', :store, 'online', 'paid', 'completed', '', '', '', '', 100, 0, 100, "
                ":now, :now FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 20000) "
                "SELECT value FROM n)"), {"store": store, "now": now - timedelta(days=30)})
        assert refresh_statistics(db.engine) is True
        with db.engine.connect() as conn:
            stats = {row[0] for row in conn.execute(text("SELECT tbl FROM sqlite_stat1"))}
            def plan(sql):
                return " ".join(row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql), {"s": store}))

            # The clerk queue reads each open status's range of (location_id, status) (orders.queries.open_orders;
            # the whole queue's plans: tests/test_list_plans.py).
            queue = plan("SELECT id FROM orders WHERE location_id = :s AND status = 'accepted' ORDER BY id LIMIT 200")
    assert "orders" in stats
    assert "SEARCH orders USING" in queue and "ix_orders_location_status" in queue, queue

"""Migrations: the migrated schema is exactly what the models declare, and migrations that move data
carry it both ways. On SQLite (a file per test); the PostgreSQL suite runs on the migrated schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db


def _app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}", "SECRET_KEY": "m" * 40,
                       "DEMO_DATA": False, "TESTING": True})


def test_migrated_schema_matches_the_models(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert differences == []


def _a_store_and_a_member(conn) -> None:
    """Store 1 and member 1, in the columns every revision since 0001 has."""
    conn.execute(text(
        "INSERT INTO locations (id, code, name, kind, province, city, district, street, address_detail, "
        "phone, lat, lng, active) VALUES (1, 'S', '店', 'store', '上海市', '上海市', '徐汇区', '', '', '', 0, 0, 1)"))
    conn.execute(text("INSERT INTO members (id, phone, name, password_hash, level, points, created_at) "
                      "VALUES (1, '13800000009', '会员', 'x', 'normal', 0, '2026-11-22 00:00:00.000000')"))


def test_idempotency_keys_move_onto_their_orders_and_back(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            _a_store_and_a_member(conn)
            for order_id in (1, 2):
                conn.execute(text(
                    "INSERT INTO orders (id, number, member_id, channel, fulfilment, location_id, payment_method, "
                    "payment_status, status, routing_reason, contact_name, contact_phone, note, goods_total, "
                    "delivery_fee, total, created_at, updated_at) VALUES (:id, :n, 1, 'mall', 'pickup', 1, "
                    "'online', 'unpaid', 'pending_payment', '', '', '', '', 100, 0, 100, "
                    "'2026-11-22 00:00:00.000000', '2026-11-22 00:00:00.000000')"), {"id": order_id, "n": f"N{order_id}"})
            conn.execute(text("INSERT INTO idempotency_keys (member_id, key, request_hash, order_id, created_at) "
                              "VALUES (1, 'tap-1', 'h1', 1, '2026-11-22 00:00:00.000000')"))

        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, idempotency_key, request_hash FROM orders ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "tap-1", "h1"), (2, None, None)]

        downgrade(revision="0001")
        with db.engine.connect() as conn:
            keys = conn.execute(text("SELECT member_id, key, request_hash, order_id FROM idempotency_keys")).all()
            columns = {r[1] for r in conn.execute(text("PRAGMA table_info(orders)"))}
        assert [tuple(k) for k in keys] == [(1, "tap-1", "h1", 1)]
        assert "idempotency_key" not in columns
        db.engine.dispose()


def test_refunds_stuck_on_money_taken_at_the_store_become_owed_at_the_counter_and_back(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            _a_store_and_a_member(conn)
            conn.execute(text(
                "INSERT INTO orders (id, number, member_id, channel, fulfilment, location_id, payment_method, "
                "payment_status, status, routing_reason, contact_name, contact_phone, note, goods_total, "
                "delivery_fee, total, created_at, updated_at) VALUES (1, 'N1', 1, 'mall', 'pickup', 1, "
                "'at_store', 'refunded', 'cancelled', '', '', '', '', 300, 0, 300, "
                "'2026-11-22 00:00:00.000000', '2026-11-22 00:00:00.000000')"))
            for pid, provider in ((1, "store_cash"), (2, "cod_cash"), (3, "sandbox")):
                conn.execute(text(
                    "INSERT INTO payments (id, order_id, provider, out_trade_no, amount, purpose, status, pay_url, "
                    "created_at) VALUES (:id, 1, :p, :n, 100, 'order', 'succeeded', '', '2026-11-22 00:00:00.000000')"),
                    {"id": pid, "p": provider, "n": f"T{pid}"})
            for rid, pid, status in ((1, 1, "pending"), (2, 2, "failed"), (3, 3, "pending"), (4, 1, "succeeded")):
                conn.execute(text(
                    "INSERT INTO refunds (id, payment_id, order_id, refund_no, amount, reason, status, attempts, "
                    "last_error, created_at) VALUES (:id, :pid, 1, :no, 10, '', :s, 20, 'NotFound: 未知的支付渠道', "
                    "'2026-11-22 00:00:00.000000')"), {"id": rid, "pid": pid, "no": f"RF{rid}", "s": status})

        upgrade(revision="0011")
        with db.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text("SELECT id, status, last_error FROM refunds ORDER BY id"))]
        assert [r[:2] for r in rows] == [(1, "at_store"), (2, "at_store"), (3, "pending"), (4, "succeeded")]
        assert rows[0][2] == "" and rows[2][2] != ""  # the provider's complaint no longer applies to owed ones

        downgrade(revision="0010")
        with db.engine.connect() as conn:
            statuses = [r[0] for r in conn.execute(text("SELECT status FROM refunds ORDER BY id"))]
        assert statuses == ["pending", "pending", "pending", "succeeded"]
        db.engine.dispose()


def test_bridges_sharing_a_name_in_a_store_are_numbered_before_names_become_unique(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            _a_store_and_a_member(conn)
            for device_id, name, revoked in ((1, "收银台", None), (2, "收银台", None), (3, "收银台", "2026-11-22 01:00:00"),
                                             (4, "收银台 (2)", None), (5, "称重台", None)):
                conn.execute(text(
                    "INSERT INTO devices (id, store_id, name, token_hash, token_hint, created_at, created_by, revoked_at) "
                    "VALUES (:id, 1, :name, :hash, 'slb_', '2026-11-22 00:00:00.000000', 'staff:1', :revoked)"),
                    {"id": device_id, "name": name, "hash": f"h{device_id}", "revoked": revoked})

        upgrade(revision="0014")
        with db.engine.connect() as conn:
            names = [tuple(r) for r in conn.execute(text("SELECT id, name FROM devices ORDER BY id"))]
        # The oldest keeps its name; the next takes the first free number; a revoked one is left alone.
        assert names == [(1, "收银台"), (2, "收银台 (3)"), (3, "收银台"), (4, "收银台 (2)"), (5, "称重台")]

        downgrade(revision="0013")
        with db.engine.connect() as conn:
            indexes = {r[1] for r in conn.execute(text("PRAGMA index_list(devices)"))}
        assert "uq_devices_store_live_name" not in indexes
        db.engine.dispose()

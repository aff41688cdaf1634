"""Day-end (日结): the sales daily report against a hand-computed fixture of orders over two business
days around China midnight, closing (immutable; once, also when raced, on SQLite and PostgreSQL;
refused before the day ended and for another store's clerk), late events landing in the next open day,
and the ERP export (JSON, CSV with BOM)."""
from __future__ import annotations

import csv
import io
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

import app.clock as clock
from app.dayend.models import DayEnd, DayEndItem
from app.extensions import db
from app.infra.unit_of_work import unit_of_work
from app.orders.placement import parse_order_request, place_order

from .factories import build_chain
from .helpers import get_order, pay, place, race
from .test_delivery import _ready_delivery, _ship
from .test_pickup import VERIFY

DAY, NEXT = "2026-11-20", "2026-11-21"  # business dates (China time)
CLERK_DAY_END, CLERK_CLOSE = "/api/v1/clerk/day-end", "/api/v1/clerk/day-end/close"
HQ_DAY_ENDS, HQ_CLOSE = "/api/v1/hq/day-ends", "/api/v1/hq/day-ends/close"


def china(day: str, hhmm: str) -> datetime:
    """A China wall-clock time as stored (naive UTC)."""
    return datetime.fromisoformat(f"{day}T{hhmm}") - timedelta(hours=8)


@pytest.fixture
def clock_at(monkeypatch):
    """Set the application's clock (app.clock.utcnow) to a moment, for what happens inside the block."""

    @contextmanager
    def at(moment: datetime):
        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return moment.replace(tzinfo=timezone.utc).astimezone(tz)

        with monkeypatch.context() as patch:
            patch.setattr(clock, "datetime", Frozen)
            yield

    return at


def _hand_over(client, chain, oid, payment=None, member="m0"):
    code = get_order(client, chain, oid, who=member)["pickup"]["code"]
    body = {"code": code, "confirm": True, **({"payment": payment} if payment else {})}
    r = client.post(VERIFY, json=body, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    return r


def _accept_ready(client, chain, oid):
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200


def _phone_order(app, chain, items, who="m1"):
    """An order HQ's call centre (400 客服) placed for a member: channel phone, paid at the store."""
    request = parse_order_request({"items": [{"sku": s, "qty": q} for s, q in items], "fulfilment": "pickup",
                                   "store_id": chain.stores["A"], "payment": "at_store"})
    with app.app_context():
        order, _ = place_order(request, member_id=chain.principals[who].id, channel="phone", actor="hq:1")
    return order.id


def build_two_days(app, client, chain, deferred, clock_at) -> dict:
    """Store A's orders on business day DAY and just after its midnight (figures in the test below)."""
    ids = {}
    with clock_at(china(DAY, "09:00")):  # O5: paid online today, collected 00:01 tomorrow
        ids["o5"] = place(client, chain, items=[("MILK", 1)]).json["id"]
        pay(app, client, chain, ids["o5"], deferred)
        _accept_ready(client, chain, ids["o5"])
    with clock_at(china(DAY, "10:00")):  # O1: paid online, collected 23:59
        ids["o1"] = place(client, chain, items=[("MILK", 2)]).json["id"]
        pay(app, client, chain, ids["o1"], deferred)
        _accept_ready(client, chain, ids["o1"])
    with clock_at(china(DAY, "11:00")):  # O7: paid online, cancelled: refunded to the original route
        ids["o7"] = place(client, chain, items=[("MILK", 1)]).json["id"]
        pay(app, client, chain, ids["o7"], deferred)
        assert client.post(f"/api/v1/orders/{ids['o7']}/cancel", headers=chain.h("m0")).status_code == 200
    with clock_at(china(DAY, "14:00")):  # O6: 3 milk + 1 rice paid in cash at the counter, milk taken
        ids["o6"] = place(client, chain, items=[("MILK", 3), ("RICE", 1)], payment="at_store").json["id"]
        code = get_order(client, chain, ids["o6"])["pickup"]["code"]
        lines = {l["sku"]: l for l in client.post(VERIFY, json={"code": code}, headers=chain.h("clerkA")).json["lines"]}
        assert client.post(VERIFY, json={"code": code, "confirm": True, "payment": "cash", "lines": [
            {"line_id": lines["MILK"]["line_id"], "qty": 3}]}, headers=chain.h("clerkA")).status_code == 200
    with clock_at(china(DAY, "15:00")):  # ... the rest cancelled: the rice's 69.90 owed at the counter
        assert client.post(f"/api/v1/orders/{ids['o6']}/cancel", headers=chain.h("hq")).status_code == 200
    with clock_at(china(DAY, "16:00")):  # ... and paid out in cash
        (owed,) = client.get("/api/v1/clerk/refunds", headers=chain.h("clerkA")).json["owed"]
        assert client.post(f"/api/v1/clerk/refunds/{owed['id']}/pay-out", json={"method": "cash"},
                           headers=chain.h("clerkA")).status_code == 200
    with clock_at(china(DAY, "18:00")):  # O2: rice paid at the store in cash on collecting it
        ids["o2"] = place(client, chain, items=[("RICE", 1)], payment="at_store").json["id"]
        _hand_over(client, chain, ids["o2"], payment="cash")
    with clock_at(china(DAY, "19:00")):  # O3: a phone order, paid by card on collecting it
        ids["o3"] = _phone_order(app, chain, [("MILK", 1)])
        _hand_over(client, chain, ids["o3"], payment="card", member="m1")
    with clock_at(china(DAY, "20:00")):  # O4: store delivery, cash on delivery (2 milk + 5.00 fee)
        ids["o4"] = _ready_delivery(app, client, chain, payment="cod")
        assert _ship(client, chain, ids["o4"], courier_id=chain.principals["courierA"].id).status_code == 200
        assert client.post(f"/api/v1/courier/deliveries/{ids['o4']}/delivered", json={"cash_collected": 3680},
                           headers=chain.h("courierA")).status_code == 200
    with clock_at(china(DAY, "21:00")):  # ... its cash counted back at the store
        assert client.post(f"/api/v1/clerk/deliveries/{ids['o4']}/check-back", json={"cash_counted": 3680},
                           headers=chain.h("clerkA")).status_code == 200
    with clock_at(china(DAY, "23:59")):
        _hand_over(client, chain, ids["o1"])
    with clock_at(china(NEXT, "00:01")):
        _hand_over(client, chain, ids["o5"])
    return ids


def _figures(report: dict) -> dict:
    def pick(tally):
        return {k: (v["count"], v["amount"]) for k, v in tally.items() if v["count"]}

    sales, payments, refunds = report["sales"], report["payments"], report["refunds"]
    return {"sales": (sales["count"], sales["amount"]), "by_channel": pick(sales["by_channel"]),
            "by_payment_method": pick(sales["by_payment_method"]),
            "payments": (payments["count"], payments["amount"]), "payment_routes": pick(payments["by_route"]),
            "refunds": (refunds["count"], refunds["amount"]), "refund_routes": pick(refunds["by_route"]),
            "paid_out": pick(refunds["paid_out"]), "net_takings": report["net_takings"],
            "drawer_cash": report["drawer_cash"]}


# Hand-computed: MILK 15.90, RICE 69.90, store delivery fee 5.00 below 59.00.
DAY_FIGURES = {
    "sales": (4, 3180 + 6990 + 1590 + 3680),  # O1 (23:59), O2, O3, O4 — not O5 (00:01), not O6/O7 (cancelled)
    "by_channel": {"mall": (3, 3180 + 6990 + 3680), "phone": (1, 1590)},
    "by_payment_method": {"online": (1, 3180), "at_store": (2, 6990 + 1590), "cod": (1, 3680)},
    "payments": (7, 1590 + 3180 + 1590 + 11760 + 6990 + 1590 + 3680),
    "payment_routes": {"online": (3, 1590 + 3180 + 1590), "store_cash": (2, 11760 + 6990), "store_card": (1, 1590),
                       "cod_cash": (1, 3680)},
    "refunds": (2, 1590 + 6990), "refund_routes": {"original": (1, 1590), "at_store": (1, 6990)},
    "paid_out": {"cash": (1, 6990)},
    "net_takings": 30380 - 8580,
    "drawer_cash": 11760 + 6990 + 3680 - 6990,
}
NEXT_FIGURES = {"sales": (1, 1590), "by_channel": {"mall": (1, 1590)}, "by_payment_method": {"online": (1, 1590)},
                "payments": (0, 0), "payment_routes": {}, "refunds": (0, 0), "refund_routes": {}, "paid_out": {},
                "net_takings": 0, "drawer_cash": 0}


def _day(client, chain, day, who="clerkA"):
    r = client.get(CLERK_DAY_END, query_string={"date": day}, headers=chain.h(who))
    assert r.status_code == 200, r.json
    return r.json


def _close(client, chain, day, who="clerkA"):
    return client.post(CLERK_CLOSE, json={"date": day}, headers=chain.h(who))


def test_the_daily_report_counts_each_day_by_the_china_time_it_happened(app, client, deferred, clock_at):
    chain = build_chain(app)
    ids = build_two_days(app, client, chain, deferred, clock_at)
    day = _day(client, chain, DAY)
    assert (day["status"], day["ended"], day["store"]["code"]) == ("open", True, "A")
    assert _figures(day) == DAY_FIGURES
    assert sorted(s["order_id"] for s in day["sales_orders"]) == sorted([ids["o1"], ids["o2"], ids["o3"], ids["o4"]])
    assert _figures(_day(client, chain, NEXT)) == NEXT_FIGURES
    # HQ reads the same, for any store.
    hq = client.get(HQ_DAY_ENDS, query_string={"store_id": chain.stores["A"], "date": DAY}, headers=chain.h("hq"))
    assert hq.status_code == 200 and _figures(hq.json) == DAY_FIGURES
    # Another store's report holds none of it.
    assert _figures(_day(client, chain, DAY, who="clerkB"))["sales"] == (0, 0)


def test_a_closed_day_is_a_snapshot_and_later_events_land_in_the_next_open_day(app, client, deferred, clock_at):
    chain = build_chain(app)
    ids = build_two_days(app, client, chain, deferred, clock_at)
    closed = _close(client, chain, DAY)
    assert closed.status_code == 200, closed.json
    assert (closed.json["status"], closed.json["closed_by"]) == ("closed", "店员A")
    assert _figures(closed.json) == DAY_FIGURES
    again = _close(client, chain, DAY)
    assert (again.status_code, again.json["error"]["code"]) == (409, "day_already_closed")

    # A refund of the closed day's order, made the next morning: tomorrow's.
    with clock_at(china(NEXT, "08:00")), app.app_context(), unit_of_work() as uow:
        uow.refunds.refund_up_to(ids["o1"], 500, reason="退差价")
    # One stamped in the closed day but written after it closed (a transaction begun at 23:59:59
    # committing after the close): not in the closed report, counted in the next open day.
    with clock_at(china(DAY, "23:59")), app.app_context(), unit_of_work() as uow:
        uow.refunds.refund_up_to(ids["o2"], 300, reason="迟到的退款")

    assert _figures(_day(client, chain, DAY)) == DAY_FIGURES
    next_day = _figures(_day(client, chain, NEXT))
    assert next_day["refunds"] == (2, 800) and next_day["net_takings"] == -800
    assert next_day["refund_routes"] == {"original": (1, 500), "at_store": (1, 300)}
    # Closing the next day takes both; the day after has nothing of them.
    assert _figures(_close(client, chain, NEXT).json)["refunds"] == (2, 800)
    assert _figures(_day(client, chain, "2026-11-22"))["refunds"] == (0, 0)
    # The snapshot's rows are append-only in the database too.
    with app.app_context():
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("UPDATE day_end_items SET amount = 0"))
        db.session.rollback()
        db.session.remove()


def test_a_day_that_has_not_ended_in_china_cannot_be_closed(app, client, clock_at):
    chain = build_chain(app)
    with clock_at(china(DAY, "23:59")):
        r = _close(client, chain, DAY)
        assert (r.status_code, r.json["error"]["code"]) == (409, "day_not_ended")
        assert _day(client, chain, DAY)["ended"] is False
    with clock_at(china(NEXT, "00:00")):
        assert _close(client, chain, DAY).status_code == 200
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(DayEnd)).scalar_one() == 1
        db.session.remove()


def test_only_the_stores_own_clerk_or_hq_may_close_or_read_its_day(app, client):
    chain = build_chain(app)
    store_a = chain.stores["A"]
    other = client.post(CLERK_CLOSE, json={"date": DAY, "store_id": store_a}, headers=chain.h("clerkB"))
    assert (other.status_code, other.json["error"]["code"]) == (403, "other_store")
    peek = client.get(CLERK_DAY_END, query_string={"date": DAY, "store_id": store_a}, headers=chain.h("clerkB"))
    assert (peek.status_code, peek.json["error"]["code"]) == (403, "other_store")
    for who in ("clerkB", "courierA", "m0"):
        r = client.post(HQ_CLOSE, json={"store_id": store_a, "date": DAY}, headers=chain.h(who))
        assert (r.status_code, r.json["error"]["code"]) == (403, "forbidden_role")
    for who in ("courierA", "m0"):
        assert _close(client, chain, DAY, who=who).status_code == 403
    for body, code in (({"date": "2026-13-01"}, "invalid_date"), ({"date": "20261120"}, "invalid_date"), ({}, "invalid_date"),
                       ({"date": DAY, "store_id": "A"}, "invalid_field")):
        bad = client.post(HQ_CLOSE, json={"store_id": store_a, **body}, headers=chain.h("hq"))
        assert (bad.status_code, bad.json["error"]["code"]) == (422, code), body
    warehouse = client.post(HQ_CLOSE, json={"store_id": chain.stores["W"], "date": DAY}, headers=chain.h("hq"))
    assert (warehouse.status_code, warehouse.json["error"]["code"]) == (404, "store_not_found")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(DayEnd)).scalar_one() == 0
        db.session.remove()
    assert client.post(HQ_CLOSE, json={"store_id": store_a, "date": DAY}, headers=chain.h("hq")).status_code == 200


def test_concurrent_closes_of_one_day_write_one_report(app, client, deferred, clock_at):
    chain = build_chain(app)
    with clock_at(china(DAY, "12:00")):
        oid = place(client, chain, items=[("MILK", 2)]).json["id"]
        pay(app, client, chain, oid, deferred)
        _accept_ready(client, chain, oid)
        _hand_over(client, chain, oid)
    callers = ["clerkA", "hq"] * 5

    def close(i):
        who = callers[i]
        body = {"date": DAY, "store_id": chain.stores["A"]}
        return app.test_client().post(CLERK_CLOSE if who == "clerkA" else HQ_CLOSE, json=body, headers=chain.h(who))

    responses = race(len(callers), close)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: len(callers) - 1}, [r.json for r in responses]
    assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"day_already_closed"}
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(DayEnd)).scalar_one() == 1
        kinds = db.session.execute(select(DayEndItem.kind, func.count()).group_by(DayEndItem.kind)).all()
        assert sorted(tuple(row) for row in kinds) == [("payment", 1), ("sale", 1)]
        db.session.remove()


def test_the_erp_export_of_a_closed_day_as_json_and_csv(app, client, deferred, clock_at):
    chain = build_chain(app)
    ids = build_two_days(app, client, chain, deferred, clock_at)
    url = f"{HQ_DAY_ENDS}/{chain.stores['A']}/{DAY}"
    early = client.get(f"{url}.json", headers=chain.h("hq"))
    assert (early.status_code, early.json["error"]["code"]) == (409, "day_not_closed")
    assert _close(client, chain, DAY).status_code == 200
    assert client.get(f"{url}.json", headers=chain.h("clerkA")).status_code == 403

    doc = client.get(f"{url}.json", headers=chain.h("hq")).json
    assert client.get(url, query_string={"format": "json"}, headers=chain.h("hq")).json == doc
    numbers = {k: get_order(client, chain, oid, who="hq")["number"] for k, oid in ids.items()}
    assert (doc["store_code"], doc["business_date"]) == ("A", DAY)
    assert [(s["order_number"], s["channel"], s["payment_method"], s["amount"], s["completed_at"]) for s in doc["sales_orders"]] == [
        (numbers["o2"], "mall", "at_store", 6990, f"{DAY}T18:00:00+08:00"),
        (numbers["o3"], "phone", "at_store", 1590, f"{DAY}T19:00:00+08:00"),
        (numbers["o4"], "mall", "cod", 3680, f"{DAY}T20:00:00+08:00"),
        (numbers["o1"], "mall", "online", 3180, f"{DAY}T23:59:00+08:00"),
    ]
    assert sorted((l["order_number"], l["sku"], l["qty"], l["location_code"]) for l in doc["outbound_lines"]) == sorted([
        (numbers["o2"], "RICE", 1, "A"), (numbers["o3"], "MILK", 1, "A"), (numbers["o4"], "MILK", 2, "A"),
        (numbers["o1"], "MILK", 2, "A")])
    assert sorted((l["order_number"], l["sku"], l["qty"], l["unit_price"], l["amount"]) for l in doc["invoice_lines"]) == sorted([
        (numbers["o2"], "RICE", 1, 6990, 6990), (numbers["o3"], "MILK", 1, 1590, 1590),
        (numbers["o4"], "MILK", 2, 1590, 3180), (numbers["o4"], "FREIGHT", 1, 500, 500),
        (numbers["o1"], "MILK", 2, 1590, 3180)])
    assert sum(l["amount"] for l in doc["invoice_lines"]) == sum(s["amount"] for s in doc["sales_orders"])

    r = client.get(f"{url}.csv", headers=chain.h("hq"))
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    assert r.data.startswith("\ufeff".encode()) and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert list(rows[0]) == ["record_type", "store_code", "business_date", "order_number", "completed_at", "channel",
                             "payment_method", "sku", "name", "qty", "unit_price", "amount", "location_code"]
    assert Counter(row["record_type"] for row in rows) == {"sales_order": 4, "outbound_line": 4, "invoice_line": 5}
    rice = next(row for row in rows if row["record_type"] == "outbound_line" and row["sku"] == "RICE")
    assert (rice["name"], rice["qty"], rice["location_code"], rice["order_number"]) == ("大米 5kg", "1", "A", numbers["o2"])
    assert client.get(url, query_string={"format": "csv"}, headers=chain.h("hq")).data == r.data
    assert client.get(f"{url}.xml", headers=chain.h("hq")).json["error"]["code"] == "unknown_format"

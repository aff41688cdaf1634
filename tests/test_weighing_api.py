"""Re-weighing fresh goods through the API: each settlement path, partial refunds on a multi-line order,
the hand-over gate, a second weighing, cash on delivery, access and bad input."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.models import BY_WEIGHT, Product
from app.infra.unit_of_work import unit_of_work
from app.errors import Conflict
from app.extensions import db
from app.locations.models import Location
from app.orders import state
from app.orders.lifecycle import advance
from app.payments.models import Payment, Refund
from app.payments.sandbox import SandboxTransaction
from app.stock.models import StockItem

from .factories import build_chain, stock_row
from .helpers import confirm_payment, get_order, pay, pay_url, place

# 烧鸡 750 g/只 at 59.80 元/kg: 44.85 元 a piece. 卤牛肉 300 g/块 at 158.00 元/kg: 47.40 元 a piece.
CHICKEN_PIECE, BEEF_PIECE, MILK = 4485, 4740, 1590


def add_beef(app, chain, *, tolerance_bp=None, on_hand=20):
    with app.app_context(), unit_of_work() as uow:
        beef = Product(sku="BEEF", name="卤牛肉", category="熟食", sold_by=BY_WEIGHT, price_per_kg=15800,
                       standard_weight_g=300, unit="块", active=True, weigh_tolerance_bp=tolerance_bp)
        uow.session.add(beef)
        uow.session.flush()
        for store_id in chain.stores.values():
            uow.session.add(StockItem(location_id=store_id, product_id=beef.id, on_hand=on_hand, reserved=0))
        chain.products["BEEF"] = beef.id


def ready_order(app, client, chain, deferred, items, **kw):
    """A paid pickup order at store A, accepted and packed (待提货)."""
    oid = place(client, chain, items=items, **kw).json["id"]
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    return oid


def line_ids(client, chain, oid):
    return {l["sku"]: l["id"] for l in get_order(client, chain, oid)["lines"] if l["adjusts_line_id"] is None}


def weigh(client, chain, oid, weights, who="clerkA", source="typed"):
    lines = line_ids(client, chain, oid)
    body = {"lines": [{"line_id": lines[sku], "weight_g": g, "source": source} for sku, g in weights.items()]}
    return client.post(f"/api/v1/clerk/orders/{oid}/weighings", json=body, headers=chain.h(who))


def settle(client, chain, oid, line_sku, settlement, who="clerkA", **extra):
    line_id = line_ids(client, chain, oid)[line_sku]
    return client.post(f"/api/v1/clerk/orders/{oid}/lines/{line_id}/settlement",
                       json={"settlement": settlement, **extra}, headers=chain.h(who))


def hand_over(app, chain, oid, to=state.COMPLETED):
    with app.app_context():
        return advance(oid, to, chain.principals["clerkA"], "提货码核销")


def by_sku(statement):
    return {l["sku"]: l for l in statement["lines"]}


def refunds_and_ledger(app):
    with app.app_context():
        refunds = [(r.amount, r.status) for r in db.session.execute(select(Refund).order_by(Refund.id)).scalars()]
        booked = sum(t.refunded for t in db.session.execute(select(SandboxTransaction)).scalars())
        db.session.remove()
    return refunds, booked


def test_lighter_lines_of_a_multi_line_order_are_refunded_in_part(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2), ("BEEF", 1), ("MILK", 1)])
    total = 2 * CHICKEN_PIECE + BEEF_PIECE + MILK
    assert get_order(client, chain, oid)["total"] == total

    r = weigh(client, chain, oid, {"CHICKEN": 1420, "BEEF": 281}, source="scale")
    assert r.status_code == 200, r.json
    lines = by_sku(r.json)
    assert set(lines) == {"CHICKEN", "BEEF"}  # milk is not weighed goods
    chicken, beef = lines["CHICKEN"]["weighing"], lines["BEEF"]["weighing"]
    assert (lines["CHICKEN"]["expected_g"], chicken["delta_g"], chicken["difference"]) == (1500, -80, -478)
    assert (beef["delta_g"], beef["difference"]) == (-19, -300)  # 19 g x 158.00 元/kg = 3.002 元 -> 3.00
    assert chicken["choices"] == ["refund", "add_goods"] and chicken["source"] == "scale"
    assert r.json["all_settled"] is False

    assert settle(client, chain, oid, "CHICKEN", "refund").status_code == 200
    r = settle(client, chain, oid, "BEEF", "refund")
    assert r.status_code == 200 and r.json["all_settled"] is True
    assert r.json["totals"]["refunded"] == 778
    assert by_sku(r.json)["BEEF"]["weighing"]["weighed_value"] == BEEF_PIECE - 300

    order = get_order(client, chain, oid)
    assert order["payment_status"] == "partially_refunded"
    assert [e["kind"] for e in order["events"]][-4:] == ["weighed", "weighed", "weighing_settled", "weighing_settled"]
    assert "应退 4.78 元" in order["events"][-4]["reason"]
    refunds, booked = refunds_and_ledger(app)
    assert refunds == [(478, "succeeded"), (300, "succeeded")] and booked == 778

    hand_over(app, chain, oid)
    assert get_order(client, chain, oid)["status"] == "completed"


def test_cancelling_after_a_partial_refund_refunds_the_rest_once(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1400})
    assert settle(client, chain, oid, "CHICKEN", "refund").status_code == 200
    r = client.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "顾客不要了"}, headers=chain.h("hq"))
    assert r.status_code == 200 and r.json["payment_status"] == "refunded"
    refunds, booked = refunds_and_ledger(app)
    assert [a for a, _ in refunds] == [598, 2 * CHICKEN_PIECE - 598] and booked == 2 * CHICKEN_PIECE


def test_heavier_paid_in_cash_and_hand_over_waits_for_it(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    r = weigh(client, chain, oid, {"CHICKEN": 1583})
    w = by_sku(r.json)["CHICKEN"]["weighing"]
    assert (w["difference"], w["direction"], w["choices"]) == (496, "heavier", ["topup", "cash", "waive"])
    with pytest.raises(Conflict) as refused:
        hand_over(app, chain, oid)
    assert refused.value.code == "weighing_unsettled"
    assert stock_row(app, chain.stores["A"], chain.products["CHICKEN"]) == (50, 2)  # nothing left the store

    assert settle(client, chain, oid, "CHICKEN", "refund").json["error"]["code"] == "invalid_settlement"
    r = settle(client, chain, oid, "CHICKEN", "cash")
    assert r.status_code == 200
    assert (r.json["totals"]["collected"], r.json["all_settled"]) == (496, True)
    hand_over(app, chain, oid)
    assert stock_row(app, chain.stores["A"], chain.products["CHICKEN"]) == (48, 0)
    assert get_order(client, chain, oid)["payment_status"] == "paid"


def test_waiving_needs_a_reason_and_stays_within_the_store_limit(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain)
    with app.app_context(), unit_of_work() as uow:
        uow.session.get(Location, chain.stores["A"]).weigh_waive_limit = 400
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 1), ("BEEF", 1)])
    weigh(client, chain, oid, {"CHICKEN": 800, "BEEF": 320})  # +2.99 元, +3.16 元
    r = settle(client, chain, oid, "CHICKEN", "waive")
    assert (r.status_code, r.json["error"]["code"]) == (422, "reason_required")
    r = settle(client, chain, oid, "CHICKEN", "waive", reason="老顾客")
    assert r.status_code == 200 and r.json["totals"]["waived"] == 299
    r = settle(client, chain, oid, "BEEF", "waive", reason="老顾客")
    assert (r.status_code, r.json["error"]["code"]) == (409, "waive_over_limit")
    assert r.json["error"]["details"] == {"limit": 400, "waived": 299, "difference": 316}
    assert settle(client, chain, oid, "BEEF", "cash").status_code == 200


def test_goods_added_make_up_a_shortfall_and_leave_with_the_order(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1100})  # 400 g short: 23.92 元
    r = settle(client, chain, oid, "CHICKEN", "add_goods", sku="CHICKEN", qty=1)
    assert (r.status_code, r.json["error"]["code"]) == (422, "goods_exceed_shortfall")  # a piece is 44.85 元
    r = settle(client, chain, oid, "CHICKEN", "add_goods", sku="MILK", qty=1)
    assert r.status_code == 200, r.json
    w = by_sku(r.json)["CHICKEN"]["weighing"]
    assert (w["goods_value"], w["refunded"], w["settlement"]) == (MILK, 2392 - MILK, "add_goods")
    assert w["added_goods"][0]["sku"] == "MILK"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 1)  # set aside now
    order = get_order(client, chain, oid)
    added = [l for l in order["lines"] if l["adjusts_line_id"] is not None]
    assert [(l["sku"], l["qty"], l["line_total"]) for l in added] == [("MILK", 1, 0)]
    assert order["total"] == 2 * CHICKEN_PIECE  # what was paid does not change
    hand_over(app, chain, oid)
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (49, 0)  # left with the order
    assert refunds_and_ledger(app)[0] == [(2392 - MILK, "succeeded")]


def test_added_goods_need_stock(app, client, deferred):
    chain = build_chain(app, stock={("A", "CHICKEN"): 5, ("A", "MILK"): 0})
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1100})
    r = settle(client, chain, oid, "CHICKEN", "add_goods", sku="MILK")
    assert (r.status_code, r.json["error"]["code"]) == (409, "out_of_stock")
    assert by_sku(client.get(f"/api/v1/clerk/orders/{oid}/weighings", headers=chain.h("clerkA")).json)[
        "CHICKEN"]["weighing"]["status"] == "open"  # nothing half-written


def test_within_tolerance_nothing_to_settle(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain, tolerance_bp=200)  # 卤牛肉: ±2 %
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2), ("BEEF", 1)])
    r = weigh(client, chain, oid, {"CHICKEN": 1505, "BEEF": 306})  # chain default ±5 g; 6 g of 300 g = 2 %
    lines = by_sku(r.json)
    for sku, tolerance in (("CHICKEN", "±5 g"), ("BEEF", "±2%")):
        w = lines[sku]["weighing"]
        assert (w["within_tolerance"], w["difference"], w["status"], w["settlement"], w["choices"], w["tolerance"]) == \
            (True, 0, "settled", "none", [], tolerance)
    assert r.json["all_settled"] is True
    r = weigh(client, chain, oid, {"BEEF": 307})  # a re-weigh supersedes one on which nothing moved
    assert by_sku(r.json)["BEEF"]["weighing"]["difference"] == 111
    hand_over_refused = pytest.raises(Conflict)
    with hand_over_refused:
        hand_over(app, chain, oid)


def test_a_second_weighing_supersedes_an_open_one_and_is_refused_once_settled(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1400})
    r = weigh(client, chain, oid, {"CHICKEN": 1450}, source="scale")
    w = by_sku(r.json)["CHICKEN"]["weighing"]
    assert (w["weight_g"], w["difference"], w["source"]) == (1450, -299, "scale")
    settle(client, chain, oid, "CHICKEN", "refund")
    r = weigh(client, chain, oid, {"CHICKEN": 1500})
    assert (r.status_code, r.json["error"]["code"]) == (409, "line_already_settled")
    r = settle(client, chain, oid, "CHICKEN", "refund")
    assert (r.status_code, r.json["error"]["code"]) == (409, "line_already_settled")
    assert refunds_and_ledger(app)[0] == [(299, "succeeded")]  # refunded once
    events = [e for e in get_order(client, chain, oid)["events"] if e["kind"] == "weighed"]
    assert len(events) == 2  # the superseded weighing stays in the history


def test_a_store_delivery_is_weighed_before_it_ships(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("CHICKEN", 1)], fulfilment="store_delivery", store=None).json["id"]
    assert get_order(client, chain, oid)["location_id"] == chain.stores["A"]
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready"):
        client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA"))
    weigh(client, chain, oid, {"CHICKEN": 700})
    r = client.post(f"/api/v1/clerk/orders/{oid}/ship", headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "weighing_unsettled")
    settle(client, chain, oid, "CHICKEN", "refund")
    assert client.post(f"/api/v1/clerk/orders/{oid}/ship", headers=chain.h("clerkA")).json["status"] == "shipped"
    r = weigh(client, chain, oid, {"CHICKEN": 750})
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_weighable")  # the goods have left


def test_cash_on_delivery_settles_in_the_amount_due(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain)
    oid = place(client, chain, items=[("CHICKEN", 1), ("BEEF", 1)], fulfilment="store_delivery", store=None,
                payment="cod").json["id"]
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    total = get_order(client, chain, oid)["total"]
    r = weigh(client, chain, oid, {"CHICKEN": 700, "BEEF": 350})  # -2.99 元, +7.90 元
    lines = by_sku(r.json)
    assert lines["CHICKEN"]["weighing"]["choices"] == ["amount_due", "add_goods"]
    assert lines["BEEF"]["weighing"]["choices"] == ["amount_due", "waive"]
    assert settle(client, chain, oid, "CHICKEN", "refund").json["error"]["code"] == "invalid_settlement"
    settle(client, chain, oid, "CHICKEN", "amount_due")
    r = settle(client, chain, oid, "BEEF", "amount_due")
    assert r.json["amount_due"] == total - 299 + 790
    assert r.json["totals"]["due_change"] == 790 - 299
    assert refunds_and_ledger(app) == ([], 0)
    assert client.post(f"/api/v1/clerk/orders/{oid}/ship", headers=chain.h("clerkA")).status_code == 200


def test_the_member_sees_the_statement_of_their_own_order_only(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1583})
    settle(client, chain, oid, "CHICKEN", "cash")
    r = client.get(f"/api/v1/orders/{oid}/weighings", headers=chain.h("m0"))
    assert r.status_code == 200 and by_sku(r.json)["CHICKEN"]["weighing"]["settlement_label"] == "现金补款"
    assert client.get(f"/api/v1/orders/{oid}/weighings", headers=chain.h("m1")).status_code == 404
    assert client.get(f"/api/v1/orders/{oid}/weighings", headers=chain.h("clerkB")).status_code == 404
    receipt = client.get(f"/api/v1/clerk/orders/{oid}/weighings", headers=chain.h("clerkA")).json["receipt"]
    assert receipt == ["烧鸡 ×2  应 1500g  已付 89.70", "  实称 1583g(手输)  差额 +4.96", "  现金补款"]


def test_only_the_store_clerk_weighs_and_settles(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    for who, status in (("clerkB", 404), ("m0", 403), ("courierA", 403), ("hq", 403)):
        assert weigh(client, chain, oid, {"CHICKEN": 1400}, who=who).status_code == status, who
    weigh(client, chain, oid, {"CHICKEN": 1400})
    for who, status in (("clerkB", 404), ("m0", 403), ("courierA", 403), ("hq", 403)):
        assert settle(client, chain, oid, "CHICKEN", "refund", who=who).status_code == status, who
    assert client.post(f"/api/v1/clerk/orders/{oid}/weighings", json={"lines": []}).status_code == 401
    assert refunds_and_ledger(app) == ([], 0)


@pytest.mark.parametrize("line, code", [
    ({"weight_g": -1, "source": "typed"}, "invalid_weight"),
    ({"weight_g": 100_001, "source": "typed"}, "invalid_weight"),
    ({"weight_g": 1.5, "source": "typed"}, "invalid_weight"),
    ({"weight_g": True, "source": "typed"}, "invalid_weight"),
    ({"weight_g": 1400, "source": "guess"}, "invalid_source"),
    ({"weight_g": 1400}, "invalid_source"),
    ({"weight_g": 1400, "source": "scale", "device_id": "x"}, "invalid_device_id"),
    ({"weight_g": 1400, "source": "typed", "line_id": 2**63}, "invalid_line_id"),
    ({"weight_g": 1400, "source": "typed", "line_id": "1"}, "invalid_line_id"),
])
def test_bad_readings_are_refused_with_422(app, client, deferred, line, code):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    body = {"lines": [{"line_id": line_ids(client, chain, oid)["CHICKEN"], **line}]}
    r = client.post(f"/api/v1/clerk/orders/{oid}/weighings", json=body, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (422, code)


def test_lines_that_cannot_be_weighed(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2), ("MILK", 1)])
    lines = line_ids(client, chain, oid)
    post = lambda body: client.post(f"/api/v1/clerk/orders/{oid}/weighings", json=body, headers=chain.h("clerkA"))
    r = post({"lines": [{"line_id": lines["MILK"], "weight_g": 950, "source": "typed"}]})
    assert (r.status_code, r.json["error"]["code"]) == (422, "line_not_weighed_goods")
    r = post({"lines": [{"line_id": lines["CHICKEN"] + 100, "weight_g": 950, "source": "typed"}]})
    assert (r.status_code, r.json["error"]["code"]) == (404, "line_not_found")
    same = {"line_id": lines["CHICKEN"], "weight_g": 1400, "source": "typed"}
    assert post({"lines": [same, same]}).json["error"]["code"] == "duplicate_line"
    for body in ({"lines": "x"}, {}, {"lines": [1]}):
        assert post(body).status_code == 422
    r = settle(client, chain, oid, "CHICKEN", "refund")
    assert (r.status_code, r.json["error"]["code"]) == (404, "line_not_weighed")
    r = settle(client, chain, oid, "CHICKEN", "bogus")
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_settlement")
    placed = place(client, chain, items=[("CHICKEN", 1)]).json["id"]  # not paid, not accepted
    r = client.post(f"/api/v1/clerk/orders/{placed}/weighings",
                    json={"lines": [{"line_id": line_ids(client, chain, placed)["CHICKEN"], "weight_g": 700,
                                     "source": "typed"}]}, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_weighable")


# --- top-ups: a payment of its own kind on an order already paid --------------------------------------

def topup_url(client, chain, oid, who="m0"):
    r = client.post(f"/api/v1/orders/{oid}/topup", headers=chain.h(who))
    assert r.status_code == 200, r.json
    assert r.json["purpose"] == "topup"
    return r.json


def test_a_heavier_line_is_topped_up_by_the_member_through_the_sandbox(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2), ("BEEF", 1)])
    weigh(client, chain, oid, {"CHICKEN": 1583, "BEEF": 320})  # +4.96, +3.16
    assert settle(client, chain, oid, "CHICKEN", "topup").json["topup_due"] == 496
    assert client.post(f"/api/v1/orders/{oid}/topup", headers=chain.h("m1")).status_code == 404  # not theirs
    first = topup_url(client, chain, oid)
    assert first["amount"] == 496 and topup_url(client, chain, oid)["out_trade_no"] == first["out_trade_no"]
    r = settle(client, chain, oid, "BEEF", "topup")  # a second line: one top-up for both, a new payment
    assert r.json["topup_due"] == 812 and r.json["all_settled"] is False
    second = topup_url(client, chain, oid)
    assert (second["amount"], second["out_trade_no"] != first["out_trade_no"]) == (812, True)
    with pytest.raises(Conflict):
        hand_over(app, chain, oid)

    # The ordinary payment's guard holds: a paid order is not paid again.
    r = client.post(f"/api/v1/orders/{oid}/pay", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_payable")

    assert confirm_payment(client, second["pay_url"]).status_code == 200
    assert deferred.run_all(app) == [True]
    statement = client.get(f"/api/v1/orders/{oid}/weighings", headers=chain.h("m0")).json
    assert (statement["topup_due"], statement["all_settled"], statement["totals"]["collected"]) == (0, True, 812)
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("ready_for_pickup", "paid")
    assert order["events"][-1]["kind"] == "topup_paid"

    # The first top-up page, paid after all, settles nothing: its money goes straight back.
    assert confirm_payment(client, first["pay_url"]).status_code == 200
    assert deferred.run_all(app) == [True]
    assert get_order(client, chain, oid)["events"][-1]["kind"] == "late_payment"
    refunds, booked = refunds_and_ledger(app)
    assert refunds == [(496, "succeeded")] and booked == 496
    with app.app_context():
        payments = [(p.purpose, p.amount, p.status) for p in db.session.execute(select(Payment).order_by(Payment.id)).scalars()]
    assert payments == [("order", 2 * CHICKEN_PIECE + BEEF_PIECE, "succeeded"), ("topup", 496, "succeeded"),
                        ("topup", 812, "succeeded")]
    hand_over(app, chain, oid)

    # A repeated notification of the applied top-up is answered success and changes nothing.
    with app.app_context():
        txn = db.session.execute(select(SandboxTransaction).where(
            SandboxTransaction.out_trade_no == second["out_trade_no"])).scalar_one()
        body, headers = deferred_provider(app).notification_for(txn)
    again = client.post("/api/v1/payments/sandbox/notify", data=body, headers=headers)
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")


def deferred_provider(app):
    from app.payments import provider

    return provider.get("sandbox")


def test_a_top_up_not_paid_may_be_taken_in_cash_instead(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1583})
    settle(client, chain, oid, "CHICKEN", "topup")
    pending = topup_url(client, chain, oid)
    for other in ("topup", "refund"):
        assert settle(client, chain, oid, "CHICKEN", other).json["error"]["code"] == "line_already_settled"
    r = settle(client, chain, oid, "CHICKEN", "cash")
    assert r.status_code == 200 and r.json["all_settled"] is True and r.json["topup_due"] == 0
    r = client.post(f"/api/v1/orders/{oid}/topup", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "no_topup_due")
    assert confirm_payment(client, pending["pay_url"]).status_code == 200  # the shopper paid anyway
    assert deferred.run_all(app) == [True]
    assert refunds_and_ledger(app) == ([(496, "succeeded")], 496)
    assert get_order(client, chain, oid)["payment_status"] == "paid"


def test_a_top_up_paid_after_the_order_was_cancelled_is_refunded(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1583})
    settle(client, chain, oid, "CHICKEN", "topup")
    pending = topup_url(client, chain, oid)
    assert client.post(f"/api/v1/orders/{oid}/cancel", json={}, headers=chain.h("hq")).status_code == 200
    assert confirm_payment(client, pending["pay_url"]).status_code == 200
    assert deferred.run_all(app) == [True]
    refunds, booked = refunds_and_ledger(app)
    assert sorted(a for a, _ in refunds) == sorted([496, 2 * CHICKEN_PIECE]) and booked == 496 + 2 * CHICKEN_PIECE
    assert get_order(client, chain, oid)["payment_status"] == "refunded"


def test_a_late_ordinary_payment_on_a_paid_order_is_still_refunded(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("CHICKEN", 1)]).json["id"]
    first = pay_url(client, chain, oid)
    with app.app_context(), unit_of_work() as uow:  # a second payment opened before the first was notified
        original = uow.session.execute(select(Payment)).scalar_one()
        uow.session.add(Payment(order_id=oid, provider="sandbox", out_trade_no="PAYsecond", amount=original.amount,
                                status="pending", pay_url=""))
    assert confirm_payment(client, first).status_code == 200
    assert deferred.run_all(app) == [True]
    from app.payments.provider import get

    provider = get("sandbox")
    second = provider.create_payment(out_trade_no="PAYsecond", amount=CHICKEN_PIECE, subject="x",
                                     notify_url="http://localhost/api/v1/payments/sandbox/notify", return_url="")
    assert confirm_payment(client, second).status_code == 200
    assert deferred.run_all(app) == [True]
    order = get_order(client, chain, oid)
    assert (order["payment_status"], order["events"][-1]["kind"]) == ("paid", "late_payment")
    assert refunds_and_ledger(app) == ([(CHICKEN_PIECE, "succeeded")], CHICKEN_PIECE)


# --- the clerk's pickup hand-over (POST /clerk/pickups/verify) ----------------------------------------

VERIFY = "/api/v1/clerk/pickups/verify"


def test_the_pickup_hand_over_waits_for_every_weighed_line(app, client, deferred):
    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2), ("MILK", 1)])
    code = get_order(client, chain, oid)["pickup"]["code"]
    weigh(client, chain, oid, {"CHICKEN": 1583})
    assert client.post(VERIFY, json={"code": code}, headers=chain.h("clerkA")).status_code == 200  # preview
    r = client.post(VERIFY, json={"code": code, "confirm": True}, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "weighing_unsettled")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 1)  # nothing left, not even the milk
    settle(client, chain, oid, "CHICKEN", "cash")
    r = client.post(VERIFY, json={"code": code, "confirm": True}, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    assert get_order(client, chain, oid)["status"] == "completed"


def test_pay_at_store_settles_in_the_amount_due(app, client, deferred):
    chain = build_chain(app)
    add_beef(app, chain)
    oid = place(client, chain, items=[("CHICKEN", 2), ("BEEF", 1)], payment="at_store").json["id"]
    code = get_order(client, chain, oid)["pickup"]["code"]
    lines = by_sku(weigh(client, chain, oid, {"CHICKEN": 1420, "BEEF": 320}).json)
    assert lines["CHICKEN"]["weighing"]["choices"] == ["amount_due", "add_goods"]
    settle(client, chain, oid, "CHICKEN", "amount_due")
    r = settle(client, chain, oid, "BEEF", "amount_due")
    due = 2 * CHICKEN_PIECE + BEEF_PIECE - 478 + 316
    assert r.json["amount_due"] == due
    assert client.post(VERIFY, json={"code": code}, headers=chain.h("clerkA")).json["amount_due"] == due
    r = client.post(VERIFY, json={"code": code, "confirm": True, "payment": "cash"}, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    with app.app_context():
        payment = db.session.execute(select(Payment).where(Payment.order_id == oid)).scalar_one()
        assert (payment.provider, payment.amount) == ("store_cash", due)


# --- races: clerks tapping at once never refund twice nor keep two weighings of a line -------------------

def test_racing_settlements_refund_once(app, client, deferred):
    from collections import Counter

    from .helpers import race

    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1100})  # 23.92 元 short
    line_id = line_ids(client, chain, oid)["CHICKEN"]

    def tap(i):
        return app.test_client().post(f"/api/v1/clerk/orders/{oid}/lines/{line_id}/settlement",
                                      json={"settlement": ["refund", "add_goods"][i % 2], "sku": "MILK"},
                                      headers=chain.h("clerkA")).status_code

    assert Counter(race(8, tap)) == {200: 1, 409: 7}
    refunds, booked = refunds_and_ledger(app)
    assert len(refunds) == 1 and booked == refunds[0][0] in (2392, 2392 - MILK)  # refund, or milk and the rest


def test_racing_weighings_leave_one_current_weighing(app, client, deferred):
    from .helpers import race

    chain = build_chain(app)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    line_id = line_ids(client, chain, oid)["CHICKEN"]

    def tap(i):
        return app.test_client().post(f"/api/v1/clerk/orders/{oid}/weighings", json={
            "lines": [{"line_id": line_id, "weight_g": 1400 + i, "source": "typed"}]}, headers=chain.h("clerkA")).status_code

    assert set(race(8, tap)) == {200}  # each supersedes the one before: the order row serialises them
    from app.weighing.models import LineWeighing

    with app.app_context():
        statuses = [w.status for w in db.session.execute(select(LineWeighing)).scalars()]
        db.session.remove()
    assert sorted(statuses) == ["open"] + ["superseded"] * 7


def test_the_printed_receipt_shows_ordered_weighed_and_settled(app, client, deferred):
    from .test_devices import events, online_bridge

    chain = build_chain(app)
    _, _, bridge = online_bridge(app, client, chain)
    oid = ready_order(app, client, chain, deferred, [("CHICKEN", 2)])
    weigh(client, chain, oid, {"CHICKEN": 1100}, source="scale")
    settle(client, chain, oid, "CHICKEN", "add_goods", sku="MILK")
    code = get_order(client, chain, oid)["pickup"]["code"]
    r = client.post(VERIFY, json={"code": code, "confirm": True}, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    [job] = events(bridge, "/bridge", "print.job")  # the receipt printed by itself at the hand-over
    notes = job["document"]["notes"]
    start = notes.index("称重补退(多退少补):")
    assert notes[start + 1:start + 5] == ["烧鸡 ×2  应 1500g  已付 89.70", "  实称 1100g(秤)  差额 -23.92",
                                          "  增补商品", "  增补 鲜牛奶 ×1"]
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (49, 0)  # the added milk left too

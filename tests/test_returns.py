"""Member returns (退货): request on a completed order, HQ approves or refuses, the clerk of the order's store
receives the goods (restocked there, refunded to the original route, or owed at the counter for cash);
eligibility codes; role and store checks; receipt once under racing clerks and requests never beyond
what was handed over, on SQLite and PostgreSQL."""
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.payments.models import Refund
from app.returns import ReturnLine, ReturnRequest

from .factories import build_chain, stock_row
from .helpers import get_order, pay, place, race
from .test_pickup import VERIFY, _second_clerk

RETURNS = "/api/v1/hq/returns"
CLERK_RETURNS = "/api/v1/clerk/returns"


def _completed(app, client, chain, deferred, items=(("MILK", 2), ("RICE", 1)), who="m0", payment="online"):
    """A pickup order of `items` at store A, paid (online, or cash at the counter) and handed over;
    (order id, {sku: line})."""
    oid = place(client, chain, who=who, items=list(items), payment=payment).json["id"]
    if payment == "online":
        pay(app, client, chain, oid, deferred, who=who)
    code = get_order(client, chain, oid, who)["pickup"]["code"]
    extra = {"payment": "cash"} if payment == "at_store" else {}
    r = client.post(VERIFY, json={"code": code, "confirm": True, **extra}, headers=chain.h("clerkA"))
    assert r.status_code == 200, r.json
    order = get_order(client, chain, oid, who)
    assert order["status"] == "completed"
    return oid, {line["sku"]: line for line in order["lines"]}


def _ask(client, chain, oid, lines, who="m0", reason="quality", **extra):
    body = {"lines": [{"line_id": line["id"], "qty": qty} for line, qty in lines], "reason": reason, **extra}
    return client.post(f"/api/v1/orders/{oid}/returns", json=body, headers=chain.h(who))


def _post(client, chain, path, who, body=None):
    return client.post(path, json=body or {}, headers=chain.h(who))


def _error(response):
    return response.status_code, response.json["error"]["code"]


def _approved(app, client, chain, deferred, qty=1, **kwargs):
    oid, lines = _completed(app, client, chain, deferred, **kwargs)
    asked = _ask(client, chain, oid, [(lines["MILK"], qty)])
    assert asked.status_code == 201, asked.json
    rid = asked.json["id"]
    assert _post(client, chain, f"{RETURNS}/{rid}/approve", "hq").status_code == 200
    return oid, lines, rid


def test_a_member_returns_goods_hq_approves_the_store_receives_restocks_and_refunds_to_the_provider(app, client, deferred):
    chain = build_chain(app)
    oid, lines = _completed(app, client, chain, deferred)
    milk = (chain.stores["A"], chain.products["MILK"])
    assert stock_row(app, *milk) == (48, 0)
    options = get_order(client, chain, oid)["return_options"]
    assert {l["line_id"]: l["returnable"] for l in options["lines"]} == {lines["MILK"]["id"]: 2, lines["RICE"]["id"]: 1}

    asked = _ask(client, chain, oid, [(lines["MILK"], 2)], note="有异味")
    assert asked.status_code == 201, asked.json
    ret = asked.json
    assert (ret["status"], ret["status_label"], ret["amount"], ret["reason_label"], ret["note"]) == \
        ("requested", "待审核", 2 * 1590, "质量问题", "有异味")
    assert [(l["sku"], l["qty"]) for l in ret["lines"]] == [("MILK", 2)]
    assert [r["id"] for r in client.get("/api/v1/me/returns", headers=chain.h("m0")).json["returns"]] == [ret["id"]]
    assert client.get("/api/v1/me/returns", headers=chain.h("m1")).json["returns"] == []
    assert [r["id"] for r in client.get(f"{RETURNS}?status=requested", headers=chain.h("hq")).json["returns"]] == [ret["id"]]
    assert client.get(f"{RETURNS}?status=approved", headers=chain.h("hq")).json["returns"] == []
    assert _error(client.get(f"{RETURNS}?status=lost", headers=chain.h("hq"))) == (422, "invalid_query")
    # Not yet approved: nothing for the store to receive, and receiving is refused.
    assert client.get(CLERK_RETURNS, headers=chain.h("clerkA")).json["to_receive"] == []
    assert _error(_post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "clerkA")) == (409, "return_state_conflict")

    approved = _post(client, chain, f"{RETURNS}/{ret['id']}/approve", "hq")
    assert approved.status_code == 200 and approved.json["status_label"] == "已同意"
    assert _error(_post(client, chain, f"{RETURNS}/{ret['id']}/approve", "hq")) == (409, "return_state_conflict")
    assert [r["id"] for r in client.get(CLERK_RETURNS, headers=chain.h("clerkA")).json["to_receive"]] == [ret["id"]]
    # The other store's clerk neither sees it nor receives it; members and couriers have no business here.
    assert client.get(CLERK_RETURNS, headers=chain.h("clerkB")).json == {"to_receive": [], "received": []}
    assert _error(_post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "clerkB")) == (404, "return_not_found")
    assert _post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "m0").status_code == 403
    assert _post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "courierA").status_code == 403
    assert stock_row(app, *milk) == (48, 0)

    received = _post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "clerkA")
    assert received.status_code == 200, received.json
    assert (received.json["status"], received.json["received_by"]) == ("refunded", "店员A")
    assert stock_row(app, *milk) == (50, 0)
    again = _post(client, chain, f"{CLERK_RETURNS}/{ret['id']}/receive", "clerkA")
    assert _error(again) == (409, "already_received") and "店员A" in again.json["error"]["message"]

    order = get_order(client, chain, oid)
    assert order["payment_status"] == "partially_refunded"
    (refund,) = order["refunds"]
    assert (refund["amount"], refund["route"], refund["status"]) == (2 * 1590, "original", "succeeded")
    kinds = [e["kind"] for e in order["events"] if e["kind"].startswith("return_")]
    assert kinds == ["return_requested", "return_approved", "return_refunded"]
    assert order["returns"][0]["status_label"] == "已退款"
    assert [l["returnable"] for l in order["return_options"]["lines"]] == [0, 1]
    titles = [m["title"] for m in client.get("/api/v1/me/messages", headers=chain.h("m0")).json["messages"]]
    assert titles[:3] == ["退货已退款", "退货申请已同意", "退货申请已提交"]


def test_eligibility_is_refused_with_codes(app, client, deferred):
    chain = build_chain(app)
    oid, lines = _completed(app, client, chain, deferred)
    # Not the owner (no hint it exists), not a member, not completed.
    assert _error(_ask(client, chain, oid, [(lines["MILK"], 1)], who="m1")) == (404, "order_not_found")
    assert _ask(client, chain, oid, [(lines["MILK"], 1)], who="hq").status_code == 403
    assert _ask(client, chain, oid, [(lines["MILK"], 1)], who="clerkA").status_code == 403
    open_oid = place(client, chain, items=[("MILK", 1)]).json["id"]
    pay(app, client, chain, open_oid, deferred)
    open_line = get_order(client, chain, open_oid)["lines"][0]
    assert _error(_ask(client, chain, open_oid, [(open_line, 1)])) == (409, "order_not_completed")
    # Over quantity, unknown line, bad bodies.
    assert _error(_ask(client, chain, oid, [(lines["MILK"], 3)])) == (409, "over_quantity")
    assert _error(_ask(client, chain, oid, [(open_line, 1)])) == (422, "unknown_line")
    assert _error(_ask(client, chain, oid, [(lines["MILK"], 1)], reason="whim")) == (422, "invalid_return_reason")
    assert _error(_ask(client, chain, oid, [(lines["MILK"], 1)], reason="other")) == (422, "note_required")
    assert _error(_ask(client, chain, oid, [(lines["MILK"], 2), (lines["MILK"], 1)])) == (409, "over_quantity")
    for bad in ([], "all", [{"line_id": lines["MILK"]["id"], "qty": 0}], [{"line_id": True, "qty": 1}]):
        r = client.post(f"/api/v1/orders/{oid}/returns", json={"lines": bad, "reason": "quality"}, headers=chain.h("m0"))
        assert _error(r) == (422, "invalid_lines")
    # One unit asked, then the second: the third is over what was handed over.
    assert _ask(client, chain, oid, [(lines["MILK"], 1)]).status_code == 201
    assert _ask(client, chain, oid, [(lines["MILK"], 1)]).status_code == 201
    r = _ask(client, chain, oid, [(lines["MILK"], 1)])
    assert _error(r) == (409, "over_quantity") and r.json["error"]["details"]["returnable"] == 0
    # Past the window (configurable): refused, and the order page offers no return.
    app.config["RETURN_WINDOW_DAYS"] = 0
    assert _error(_ask(client, chain, oid, [(lines["RICE"], 1)])) == (409, "return_window_passed")
    assert get_order(client, chain, oid)["return_options"] is None
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(ReturnRequest)).scalar_one() == 2
        db.session.remove()


def test_weighed_fresh_lines_are_not_returned_online(app, client, deferred):
    chain = build_chain(app)
    oid, lines = _completed(app, client, chain, deferred, items=[("CHICKEN", 1), ("MILK", 1)])
    r = _ask(client, chain, oid, [(lines["CHICKEN"], 1)])
    assert _error(r) == (422, "weighed_line_not_returnable")
    assert {l["line_id"]: l["reason"] is not None for l in get_order(client, chain, oid)["return_options"]["lines"]} == \
        {lines["CHICKEN"]["id"]: True, lines["MILK"]["id"]: False}


def test_hq_refuses_with_a_reason_and_the_member_may_withdraw_only_while_requested(app, client, deferred):
    chain = build_chain(app)
    oid, lines = _completed(app, client, chain, deferred)
    rid = _ask(client, chain, oid, [(lines["MILK"], 2)]).json["id"]
    assert _post(client, chain, f"{RETURNS}/{rid}/approve", "m0").status_code == 403
    assert _post(client, chain, f"{RETURNS}/{rid}/refuse", "clerkA", {"reason": "x"}).status_code == 403
    assert _error(_post(client, chain, f"{RETURNS}/{rid}/refuse", "hq")) == (422, "refuse_reason_required")
    assert _error(_post(client, chain, f"{RETURNS}/999999/approve", "hq")) == (404, "return_not_found")
    refused = _post(client, chain, f"{RETURNS}/{rid}/refuse", "hq", {"reason": "商品已拆封"})
    assert refused.status_code == 200
    assert (refused.json["status_label"], refused.json["refuse_reason"]) == ("已拒绝", "商品已拆封")
    assert _error(_post(client, chain, f"{RETURNS}/{rid}/approve", "hq")) == (409, "return_state_conflict")
    assert _error(_post(client, chain, f"/api/v1/returns/{rid}/withdraw", "m0")) == (409, "return_state_conflict")
    # A refused return holds no units: the member may ask again, and withdraw that one.
    again = _ask(client, chain, oid, [(lines["MILK"], 2)])
    assert again.status_code == 201
    assert _error(_post(client, chain, f"/api/v1/returns/{again.json['id']}/withdraw", "m1")) == (404, "return_not_found")
    withdrawn = _post(client, chain, f"/api/v1/returns/{again.json['id']}/withdraw", "m0")
    assert withdrawn.status_code == 200 and withdrawn.json["status_label"] == "已撤销"
    assert _error(_post(client, chain, f"{RETURNS}/{again.json['id']}/approve", "hq")) == (409, "return_state_conflict")
    kinds = [e["kind"] for e in get_order(client, chain, oid)["events"] if e["kind"].startswith("return_")]
    assert kinds == ["return_requested", "return_refused", "return_requested", "return_withdrawn"]


def test_goods_sent_by_courier_carry_a_tracking_number_and_are_received_at_the_store(app, client, deferred):
    chain = build_chain(app)
    oid, lines, rid = _approved(app, client, chain, deferred)
    assert _error(_post(client, chain, f"/api/v1/returns/{rid}/ship", "m0", {"carrier": "顺丰"})) == (422, "invalid_shipping")
    assert _error(_post(client, chain, f"/api/v1/returns/{rid}/ship", "m1", {"carrier": "顺丰", "tracking_no": "SF1"})) == \
        (404, "return_not_found")
    shipped = _post(client, chain, f"/api/v1/returns/{rid}/ship", "m0", {"carrier": "顺丰", "tracking_no": "SF123456"})
    assert shipped.status_code == 200
    assert (shipped.json["status_label"], shipped.json["carrier"], shipped.json["tracking_no"]) == ("已寄回", "顺丰", "SF123456")
    (listed,) = client.get(CLERK_RETURNS, headers=chain.h("clerkA")).json["to_receive"]
    assert (listed["tracking_no"], listed["member"]["name"]) == ("SF123456", "会员0")
    assert _post(client, chain, f"{CLERK_RETURNS}/{rid}/receive", "clerkA").json["status"] == "refunded"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (49, 0)
    assert [r["id"] for r in client.get(CLERK_RETURNS, headers=chain.h("clerkA")).json["received"]] == [rid]


def test_a_cash_order_returned_is_refunded_at_the_store_counter(app, client, deferred):
    chain = build_chain(app)
    oid, lines, rid = _approved(app, client, chain, deferred, payment="at_store")
    assert _post(client, chain, f"{CLERK_RETURNS}/{rid}/receive", "clerkA").json["refund_route"] == "store"
    (refund,) = get_order(client, chain, oid)["refunds"]
    assert (refund["amount"], refund["route"], refund["status"]) == (1590, "store", "at_store")
    (owed,) = client.get("/api/v1/clerk/refunds", headers=chain.h("clerkA")).json["owed"]
    assert (owed["order_id"], owed["amount"], owed["paid_with"]) == (oid, 1590, "store_cash")


def test_two_clerks_receiving_the_same_return_at_once_restock_and_refund_once(app, client, deferred):
    chain = build_chain(app)
    second = _second_clerk(app, chain)
    for round_no in range(3):
        oid, _lines, rid = _approved(app, client, chain, deferred, qty=2)
        clerks = ["clerkA", second] * 4

        def receive(i):
            return _post(app.test_client(), chain, f"{CLERK_RETURNS}/{rid}/receive", clerks[i])

        responses = race(len(clerks), receive)
        assert Counter(r.status_code for r in responses) == {200: 1, 409: len(clerks) - 1}, [r.json for r in responses]
        assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"already_received"}
        # Each round's order took 2 milk out and brought 2 back: on-hand back at 50, never more.
        assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 0)
        order = get_order(client, chain, oid)
        assert [e["kind"] for e in order["events"]].count("return_refunded") == 1
        with app.app_context():
            amounts = db.session.execute(select(Refund.amount).where(Refund.order_id == oid)).scalars().all()
            assert amounts == [2 * 1590]
            db.session.remove()


def test_concurrent_requests_for_the_last_units_never_ask_back_more_than_was_handed_over(app, client, deferred):
    chain = build_chain(app)
    oid, lines = _completed(app, client, chain, deferred, items=[("MILK", 3)])
    assert _ask(client, chain, oid, [(lines["MILK"], 1)]).status_code == 201

    def ask(_):
        return _ask(app.test_client(), chain, oid, [(lines["MILK"], 1)])

    responses = race(8, ask)
    assert Counter(r.status_code for r in responses) == {201: 2, 409: 6}, [r.json for r in responses]
    assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"over_quantity"}
    with app.app_context():
        asked = db.session.execute(select(func.sum(ReturnLine.qty))).scalar_one()
        assert asked == 3
        db.session.remove()

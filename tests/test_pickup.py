"""Pickup codes: issued on payment, shown only to the owner, verified once at the own store, throttled,
audited, partial pickup, pay at the store; two clerks racing for one code on SQLite and PostgreSQL."""
from collections import Counter

import pytest
from sqlalchemy import select

from app.accounts.auth import Principal
from app.accounts.models import Staff
from app.infra.unit_of_work import unit_of_work
from app.extensions import db
from app.payments.models import Payment
from app.pickup import codes
from app.pickup.models import PickupAttempt, PickupCode

from .conftest import FAST_HASH, auth, token_for
from .factories import build_chain, stock_row
from .helpers import get_order, pay, place, race

VERIFY = "/api/v1/clerk/pickups/verify"


def _paid_pickup(app, client, chain, deferred, items=(("MILK", 2),), who="m0"):
    oid = place(client, chain, who=who, items=list(items)).json["id"]
    pay(app, client, chain, oid, deferred, who=who)
    return oid, get_order(client, chain, oid, who)["pickup"]["code"]


def _verify(client, chain, code, who="clerkA", **body):
    return client.post(VERIFY, json={"code": code, **body}, headers=chain.h(who))


def _statuses(client, chain, oid):
    return [(e["from"], e["to"]) for e in get_order(client, chain, oid)["events"] if e["to"]]


def _attempts(app):
    with app.app_context():
        rows = db.session.execute(select(PickupAttempt).order_by(PickupAttempt.id)).scalars().all()
        result = [(a.outcome, a.input_kind, a.confirm, a.guess, a.order_id) for a in rows]
        db.session.remove()
        return result


def _qr_payload(app, order_id, **kwargs):
    with app.app_context():
        row = db.session.execute(select(PickupCode).where(PickupCode.order_id == order_id)).scalar_one()
        db.session.remove()
    return codes.qr_token(app.config["SECRET_KEY"], row, ttl_seconds=kwargs.pop("ttl", 600), **kwargs)


def _second_clerk(app, chain, store="A", name="店员A2"):
    with app.app_context(), unit_of_work() as uow:
        staff = Staff(username=f"clerk-{name}", name=name, role="clerk", store_id=chain.stores[store],
                      password_hash=FAST_HASH)
        uow.session.add(staff)
        uow.session.flush()
        principal = Principal("staff", staff.id, "clerk", staff.store_id, name)
    chain.principals[name] = principal
    chain.tokens[name] = token_for(app, principal)
    return name


def test_paying_a_pickup_order_issues_a_12_digit_code_shown_only_to_its_owner(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    assert get_order(client, chain, oid)["pickup"] is None  # not before payment
    assert client.get(f"/api/v1/orders/{oid}/pickup-qr.png", headers=chain.h("m0")).json["error"]["code"] == \
        "pickup_code_not_issued"
    pay(app, client, chain, oid, deferred)
    pickup = get_order(client, chain, oid)["pickup"]
    assert len(pickup["code"]) == 12 and pickup["code"].isdigit() and pickup["status"] == "open"
    assert pickup["code_display"].replace(" ", "") == pickup["code"]
    assert pickup["deadline_at"] is not None
    # The clerk, HQ and other members never see the code.
    assert "pickup" not in get_order(client, chain, oid, "clerkA")
    assert "pickup" not in get_order(client, chain, oid, "hq")
    assert client.get(f"/api/v1/orders/{oid}", headers=chain.h("m1")).status_code == 404


def test_the_qr_image_is_for_the_owner_only_and_never_cached(app, client, deferred):
    chain = build_chain(app)
    oid, _ = _paid_pickup(app, client, chain, deferred)
    r = client.get(f"/api/v1/orders/{oid}/pickup-qr.png", headers=chain.h("m0"))
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.headers["Cache-Control"] == "no-store"
    assert client.get(f"/api/v1/orders/{oid}/pickup-qr.png", headers=chain.h("m1")).status_code == 404
    assert client.get(f"/api/v1/orders/{oid}/pickup-qr.png", headers=chain.h("clerkA")).status_code == 403
    assert client.get(f"/api/v1/orders/{oid}/pickup-qr.png").status_code == 401


def test_preview_shows_lines_member_and_amount_due_and_changes_nothing(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred, items=[("MILK", 2), ("RICE", 1)])
    r = _verify(client, chain, code)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["outcome"] == "previewed" and body["order"]["id"] == oid and body["amount_due"] == 0
    assert [(l["sku"], l["qty"], l["remaining"]) for l in body["lines"]] == [("MILK", 2, 2), ("RICE", 1, 1)]
    assert body["member"] == {"name": "会员0", "phone": "138****0000"}
    assert get_order(client, chain, oid)["status"] == "awaiting_acceptance"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)
    assert _attempts(app) == [("previewed", "typed", False, False, oid)]


def test_hand_over_at_any_step_records_the_implied_steps_and_commits_stock(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred)  # not even accepted yet
    r = _verify(client, chain, code[:4] + " " + code[4:8] + "-" + code[8:], confirm=True)
    assert r.status_code == 200, r.json
    assert r.json["outcome"] == "handed_over" and r.json["completed"] is True
    assert _statuses(client, chain, oid) == [
        (None, "pending_payment"), ("pending_payment", "awaiting_acceptance"), ("awaiting_acceptance", "accepted"),
        ("accepted", "ready_for_pickup"), ("ready_for_pickup", "completed")]
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (48, 0)
    assert get_order(client, chain, oid)["pickup"]["status"] == "used"


def test_a_second_scan_says_when_and_by_whom(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred)
    for action in ("accept", "ready"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA")).status_code == 200
    assert _verify(client, chain, code, confirm=True).status_code == 200
    for attempt in (code, _qr_payload(app, oid)):
        again = _verify(client, chain, attempt, confirm=True)
        assert again.status_code == 409
        error = again.json["error"]
        assert error["code"] == "already_picked_up" and "店员A" in error["message"]
        assert error["details"]["clerk"] == "店员A" and error["details"]["picked_up_at"]
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (48, 0)


def test_only_the_orders_own_store_and_only_clerks(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred)
    other = _verify(client, chain, code, who="clerkB", confirm=True)
    assert other.status_code == 403 and other.json["error"]["code"] == "wrong_store"
    assert _verify(client, chain, _qr_payload(app, oid), who="clerkB").json["error"]["code"] == "wrong_store"
    for who in ("courierA", "hq", "m0"):
        assert _verify(client, chain, code, who=who, confirm=True).status_code == 403
    assert get_order(client, chain, oid)["status"] == "awaiting_acceptance"
    assert [a[0] for a in _attempts(app)] == ["wrong_store", "wrong_store"]
    assert all(a[3] for a in _attempts(app))  # counted as guesses


def test_qr_payload_verifies_and_forged_or_expired_ones_do_not(app, client, deferred):
    chain = build_chain(app)
    oid, _ = _paid_pickup(app, client, chain, deferred)
    good = _qr_payload(app, oid)
    assert _verify(client, chain, good).json["order"]["id"] == oid
    forged = codes.qr_token("another-secret" * 3, type("Row", (), {"id": 1, "store_id": chain.stores["A"]}),
                            ttl_seconds=600)
    assert _verify(client, chain, forged).status_code == 404
    assert _verify(client, chain, good[:-2] + ("AA" if good[-2:] != "AA" else "BB")).status_code == 404
    expired = _qr_payload(app, oid, ttl=-1)
    r = _verify(client, chain, expired, confirm=True)
    assert r.status_code == 410 and r.json["error"]["code"] == "qr_expired"
    assert [(a[0], a[1], a[3]) for a in _attempts(app)] == [
        ("previewed", "qr", False), ("invalid_code", "qr", True), ("invalid_code", "qr", True),
        ("qr_expired", "qr", False)]


def test_typed_guessing_is_throttled_per_clerk_and_per_store(app, client, deferred):
    app.config.update(PICKUP_GUESSES_PER_CLERK=3, PICKUP_GUESSES_PER_STORE=5)
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred)
    wrong = f"{(int(code) + 1) % 10 ** 12:012d}"
    for _ in range(3):
        assert _verify(client, chain, wrong).status_code == 404
    throttled = _verify(client, chain, code)  # even the right code waits now
    assert throttled.status_code == 429 and throttled.json["error"]["code"] == "too_many_attempts"
    # Another clerk of the store may still try, until the store's budget is used up too.
    second = _second_clerk(app, chain)
    assert _verify(client, chain, wrong, who=second).status_code == 404
    assert _verify(client, chain, "not a code", who=second).status_code == 404
    assert _verify(client, chain, code, who=second).status_code == 429
    # Another store's clerk is not affected.
    assert _verify(client, chain, wrong, who="clerkB").status_code == 404
    outcomes = Counter((a[0], a[3]) for a in _attempts(app))
    assert outcomes == {("invalid_code", True): 6, ("too_many_attempts", False): 2}
    # Typed codes are kept masked in the audit.
    with app.app_context():
        hints = set(db.session.execute(select(PickupAttempt.input_hint)).scalars())
    assert code not in hints and "…" + wrong[-4:] in hints


def test_concurrent_guesses_never_pass_the_limit(app, client, deferred):
    """Guesses in flight at the same moment: each is counted (atomically) before it is checked, so no
    more than the limit are ever tried, per clerk and per store; the rest wait (429)."""
    app.config.update(PICKUP_GUESSES_PER_CLERK=3, PICKUP_GUESSES_PER_STORE=5)
    chain = build_chain(app)
    _paid_pickup(app, client, chain, deferred)
    second = _second_clerk(app, chain)

    def guess(i):
        return _verify(app.test_client(), chain, f"{900000000000 + i:012d}", who="clerkA").status_code

    assert Counter(race(30, guess)) == {404: 3, 429: 27}
    clerks = [second] * 30  # the store's budget (5) has 2 left

    def guess_at_store(i):
        return _verify(app.test_client(), chain, f"{800000000000 + i:012d}", who=clerks[i]).status_code

    assert Counter(race(30, guess_at_store)) == {404: 2, 429: 28}
    outcomes = Counter((a[0], a[3]) for a in _attempts(app))
    assert outcomes == {("invalid_code", True): 5, ("too_many_attempts", False): 55}


def test_a_found_code_is_not_counted_as_a_guess(app, client, deferred):
    app.config.update(PICKUP_GUESSES_PER_CLERK=2, PICKUP_GUESSES_PER_STORE=30)
    chain = build_chain(app)
    _oid, code = _paid_pickup(app, client, chain, deferred)
    for _ in range(5):  # previews of a real code: no guesses, however many
        assert _verify(client, chain, code).status_code == 200
    wrong = f"{(int(code) + 1) % 10 ** 12:012d}"
    assert [_verify(client, chain, wrong).status_code for _ in range(3)] == [404, 404, 429]
    r = _verify(client, chain, code)
    assert r.status_code == 429 and 0 < r.json["error"]["details"]["retry_after_seconds"] <= 600


def test_partial_pickup_keeps_the_rest_open_on_the_same_code(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred, items=[("MILK", 3), ("RICE", 1)])
    lines = {l["sku"]: l["line_id"] for l in _verify(client, chain, code).json["lines"]}
    r = _verify(client, chain, code, confirm=True, lines=[{"line_id": lines["MILK"], "qty": 2}])
    assert r.status_code == 200, r.json
    assert r.json["completed"] is False and r.json["handed_over"] == [{"line_id": lines["MILK"], "qty": 2}]
    order = get_order(client, chain, oid)
    assert order["status"] == "ready_for_pickup" and order["pickup"]["status"] == "open"
    assert {l["sku"]: l["handed_over_qty"] for l in order["lines"]} == {"MILK": 2, "RICE": 0}
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (48, 1)
    assert any(e["kind"] == "partial_pickup" and "鲜牛奶×2" in e["reason"] for e in order["events"])
    too_many = _verify(client, chain, code, confirm=True, lines=[{"line_id": lines["MILK"], "qty": 2}])
    assert too_many.status_code == 422 and too_many.json["error"]["code"] == "qty_exceeds_remaining"
    foreign = _verify(client, chain, code, confirm=True, lines=[{"line_id": 999, "qty": 1}])
    assert foreign.status_code == 422 and foreign.json["error"]["code"] == "invalid_line"
    rest = _verify(client, chain, code, confirm=True)  # everything still open
    assert rest.status_code == 200 and rest.json["completed"] is True
    assert rest.json["handed_over"] == [{"line_id": lines["MILK"], "qty": 1}, {"line_id": lines["RICE"], "qty": 1}]
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (47, 0)
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (49, 0)
    assert _verify(client, chain, code, confirm=True).json["error"]["code"] == "already_picked_up"


def test_cancelling_a_partly_collected_order_releases_only_what_is_left(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred, items=[("MILK", 3)])
    line = _verify(client, chain, code).json["lines"][0]["line_id"]
    assert _verify(client, chain, code, confirm=True, lines=[{"line_id": line, "qty": 1}]).status_code == 200
    assert client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("hq")).status_code == 200
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (49, 0)
    assert _verify(client, chain, code).json["error"]["code"] == "code_void"


def test_pay_at_store_gets_a_code_at_once_and_is_paid_at_the_counter(app, client, deferred):
    chain = build_chain(app)
    placed = place(client, chain, items=[("MILK", 2)], payment="at_store")
    assert placed.status_code == 201, placed.json
    oid = placed.json["id"]
    order = get_order(client, chain, oid)
    assert order["status"] == "awaiting_acceptance" and order["payment_status"] == "unpaid"
    code = order["pickup"]["code"]
    preview = _verify(client, chain, code)
    assert preview.json["amount_due"] == 3180
    unpaid = _verify(client, chain, code, confirm=True)
    assert unpaid.status_code == 422 and unpaid.json["error"]["code"] == "payment_required"
    assert get_order(client, chain, oid)["payment_status"] == "unpaid"
    r = _verify(client, chain, code, confirm=True, payment="cash")
    assert r.status_code == 200, r.json
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("completed", "paid")
    assert any(e["kind"] == "payment" and "现金" in e["reason"] for e in order["events"])
    with app.app_context():
        payment = db.session.execute(select(Payment).where(Payment.order_id == oid)).scalar_one()
        assert (payment.provider, payment.amount, payment.status) == ("store_cash", 3180, "succeeded")
    # Only pickup orders may be paid at the store.
    bad = place(client, chain, items=[("MILK", 1)], fulfilment="store_delivery", store=None, payment="at_store")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "at_store_not_available"


def test_unpaid_and_closed_orders_cannot_be_handed_over(app, client, deferred):
    chain = build_chain(app)
    oid, code = _paid_pickup(app, client, chain, deferred)
    assert client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0")).status_code == 200
    r = _verify(client, chain, code, confirm=True)
    assert r.status_code == 409 and r.json["error"]["code"] == "code_void"
    assert client.get(f"/api/v1/orders/{oid}/pickup-qr.png", headers=chain.h("m0")).status_code == 409


@pytest.mark.parametrize("body", [{}, {"code": 5}, {"code": ""}, {"code": "x" * 600}, {"code": "1", "confirm": "yes"},
                                  {"code": "1", "lines": []}, {"code": "1", "lines": [{"line_id": "a", "qty": 1}]},
                                  {"code": "1", "lines": [{"line_id": 1, "qty": 0}]}, {"code": "1", "payment": "iou"}])
def test_bad_verify_requests_are_422(app, client, body):
    chain = build_chain(app)
    r = client.post(VERIFY, json=body, headers=chain.h("clerkA"))
    assert r.status_code == 422, r.json


def test_two_clerks_confirming_the_same_code_at_once_exactly_one_wins(app, client, deferred):
    chain = build_chain(app)
    second = _second_clerk(app, chain)
    winners = []
    for round_ in range(3):
        oid, code = _paid_pickup(app, client, chain, deferred, items=[("MILK", 1)])
        clerks = ["clerkA", second] * 3

        def confirm(i):
            return _verify(app.test_client(), chain, code if i % 2 else _qr_payload(app, oid), who=clerks[i],
                           confirm=True)

        responses = race(len(clerks), confirm)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: 1, 409: len(clerks) - 1}, [r.json for r in responses]
        assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"already_picked_up"}
        winners.append(next(r for r in responses if r.status_code == 200).json["order"]["id"])
        completions = [e for e in get_order(client, chain, oid)["events"] if e["to"] == "completed"]
        assert len(completions) == 1
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (47, 0)  # three units, each committed once

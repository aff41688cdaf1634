"""Payments through the sandbox provider: pay page, signed asynchronous notification, idempotency, late
notifications, refunds to the original route, and expiry of unpaid orders."""
import json
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.orders.lifecycle import expire_overdue
from app.payments.models import Payment, Refund
from app.payments.sandbox import SIGNATURE_HEADER, SandboxRefund, SandboxTransaction

from .factories import build_chain, stock_row
from .helpers import confirm_payment, get_order, pay, pay_url, place


def _notification(app, deferred):
    (fn, args), = deferred.calls
    with app.app_context():
        body, headers = fn.__self__.notification_for(db.session.get(SandboxTransaction, args[0]))
        db.session.remove()
    return body, headers


def test_pay_page_shows_amount_and_confirm_button(app, client):
    chain = build_chain(app)
    oid = place(client, chain, items=[("CHICKEN", 2)]).json["id"]
    url = pay_url(client, chain, oid)
    page = client.get(url.split("localhost", 1)[1])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "¥89.70" in html.replace("</small>", "").replace("<small>", "")  # 2 × 750 g × 59.80 元/kg
    assert "确认支付" in html


def test_pay_returns_the_same_payment_until_it_is_paid(app, client):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    assert pay_url(client, chain, oid) == pay_url(client, chain, oid)
    with app.app_context():
        assert len(db.session.execute(select(Payment)).scalars().all()) == 1


def test_notification_marks_order_paid_and_repeats_are_answered_success(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    assert confirm_payment(client, pay_url(client, chain, oid)).status_code == 200
    assert get_order(client, chain, oid)["payment_status"] == "unpaid"  # asynchronous: not yet notified
    body, headers = _notification(app, deferred)
    assert deferred.run_all(app) == [True]
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"], order["expires_at"]) == ("awaiting_acceptance", "paid", None)
    again = client.post("/api/v1/payments/sandbox/notify", data=body, headers=headers)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert [e["to"] for e in get_order(client, chain, oid)["events"]].count("awaiting_acceptance") == 1


def test_second_confirm_on_the_pay_page_does_not_charge_twice(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    url = pay_url(client, chain, oid)
    assert confirm_payment(client, url).status_code == 200
    r = confirm_payment(client, url)
    assert (r.status_code, r.json["error"]["code"]) == (409, "already_paid")
    with app.app_context():
        assert len(db.session.execute(select(SandboxTransaction)).scalars().all()) == 1


def test_bad_signature_and_tampered_body_are_refused_and_change_nothing(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    confirm_payment(client, pay_url(client, chain, oid))
    body, headers = _notification(app, deferred)
    tampered = json.loads(body)
    tampered["amount"] = 1
    cases = [
        (json.dumps(tampered).encode(), headers),
        (body, {**headers, SIGNATURE_HEADER: headers[SIGNATURE_HEADER][:-4] + "0000"}),
        (body, {"Content-Type": "application/json"}),
        (body, {**headers, SIGNATURE_HEADER: f"t={int(time.time()) - 3600},v1=" + headers[SIGNATURE_HEADER].split("v1=")[1]}),
    ]
    for data, hdrs in cases:
        r = client.post("/api/v1/payments/sandbox/notify", data=data, headers=hdrs)
        assert (r.status_code, r.json["error"]["code"]) == (400, "bad_signature")
    assert get_order(client, chain, oid)["payment_status"] == "unpaid"
    r = client.post("/api/v1/payments/nosuch/notify", data=body, headers=headers)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_provider")


def test_failed_delivery_is_retried_later_like_a_real_provider(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    confirm_payment(client, pay_url(client, chain, oid))
    from app.payments import provider

    sandbox = provider.get("sandbox")
    real_transport = sandbox.transport
    sandbox.transport = lambda *a: 503  # the merchant is down
    try:
        assert deferred.run_all(app) == [False]
    finally:
        sandbox.transport = real_transport
    with app.app_context():
        txn = db.session.execute(select(SandboxTransaction)).scalar_one()
        assert (txn.notify_status, txn.notify_attempts) == ("pending", 1)
        assert sandbox.deliver_due() == 0  # not due yet
        txn.next_notify_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert sandbox.deliver_due() == 1
        db.session.remove()
    assert get_order(client, chain, oid)["payment_status"] == "paid"


def test_unpaid_orders_expire_and_release_stock(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 3})
    oid = place(client, chain, items=[("MILK", 3)]).json["id"]
    assert place(client, chain, items=[("MILK", 1)]).status_code == 409
    with app.app_context():
        assert expire_overdue() == []  # not yet due
        assert expire_overdue(now=utcnow() + timedelta(minutes=16)) == [oid]
    order = get_order(client, chain, oid)
    assert order["status"] == "expired"
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (3, 0)
    assert place(client, chain, items=[("MILK", 3)]).status_code == 201


def test_order_times_are_utc_instants_and_unpaid_orders_lapse_after_the_timeout(app, client):
    chain = build_chain(app)
    before = utcnow().replace(tzinfo=timezone.utc)
    placed = place(client, chain).json
    created, expires = (datetime.fromisoformat(placed[k]) for k in ("created_at", "expires_at"))
    assert placed["created_at"].endswith("Z") and placed["updated_at"] == placed["created_at"]
    assert before <= created <= utcnow().replace(tzinfo=timezone.utc)
    assert expires - created == timedelta(seconds=app.config["PAYMENT_TIMEOUT_SECONDS"])
    stored = get_order(client, chain, placed["id"])  # read back from the database: the same instants
    assert (stored["created_at"], stored["expires_at"]) == (placed["created_at"], placed["expires_at"])
    assert stored["events"][0]["at"] == placed["created_at"]


def test_late_notification_after_expiry_refunds_to_the_original_route(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("RICE", 1)]).json["id"]
    confirm_payment(client, pay_url(client, chain, oid))
    with app.app_context():
        assert expire_overdue(now=utcnow() + timedelta(minutes=16)) == [oid]
    assert deferred.run_all(app) == [True]  # the provider's notification arrives after the order closed
    order = get_order(client, chain, oid)
    assert (order["status"], order["payment_status"]) == ("expired", "refunded")
    assert "late_payment" in [e["kind"] for e in order["events"]]
    with app.app_context():
        refund = db.session.execute(select(Refund)).scalar_one()
        assert (refund.amount, refund.status) == (6990, "succeeded")
        booked = db.session.execute(select(SandboxRefund)).scalar_one()
        txn = db.session.execute(select(SandboxTransaction)).scalar_one()
        assert (booked.amount, booked.txn_id, txn.refunded) == (6990, txn.txn_id, 6990)
    assert stock_row(app, chain.stores["A"], chain.products["RICE"]) == (50, 0)


def test_cancelling_a_paid_order_refunds_in_full_once(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, items=[("MILK", 2)]).json["id"]
    pay(app, client, chain, oid, deferred)
    r = client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0"))
    assert (r.json["status"], r.json["payment_status"]) == ("cancelled", "refunded")
    with app.app_context():
        refunds = db.session.execute(select(Refund)).scalars().all()
        assert [(x.amount, x.status) for x in refunds] == [(3180, "succeeded")]
        from app.payments import provider, refunds as refund_module

        # Executing the same refund again is a no-op at our side and at the provider.
        assert refund_module.execute(refunds[0].id) is False
        provider.get("sandbox").refund(out_trade_no=db.session.execute(select(Payment)).scalar_one().out_trade_no,
                                       refund_no=refunds[0].refund_no, amount=3180)
        assert db.session.execute(select(SandboxTransaction)).scalar_one().refunded == 3180


def test_refund_the_provider_refuses_stays_pending_for_retry(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    pay(app, client, chain, oid, deferred)
    from app.payments import provider
    from app.payments.provider import RefundFailed

    sandbox = provider.get("sandbox")
    original = sandbox.refund

    def refuse(**kwargs):
        raise RefundFailed("渠道维护中")

    sandbox.refund = refuse
    try:
        client.post(f"/api/v1/orders/{oid}/cancel", headers=chain.h("m0"))
    finally:
        sandbox.refund = original
    with app.app_context():
        refund = db.session.execute(select(Refund)).scalar_one()
        assert (refund.status, refund.attempts, refund.last_error) == ("pending", 1, "渠道维护中")
        from app.payments.refunds import retry_pending

        assert retry_pending() == 1
        db.session.rollback()  # end this session's earlier read: the retry committed on its own connection
        assert db.session.execute(select(Refund)).scalar_one().status == "succeeded"


def test_cod_order_cannot_be_paid_online_and_paid_order_cannot_be_paid_again(app, client, deferred):
    chain = build_chain(app)
    cod = place(client, chain, fulfilment="store_delivery", store=None, payment="cod").json["id"]
    r = client.post(f"/api/v1/orders/{cod}/pay", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_online_payment")
    oid = place(client, chain).json["id"]
    pay(app, client, chain, oid, deferred)
    r = client.post(f"/api/v1/orders/{oid}/pay", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_payable")

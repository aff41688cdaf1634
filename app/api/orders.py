from flask import current_app, jsonify, request, url_for
from ..accounts.models import MEMBER
from ..delivery import service as delivery
from ..extensions import db
from ..orders import lifecycle, queries, quote, state
from ..orders.models import PARTIALLY_REFUNDED, PICKUP, REFUNDED
from ..orders.placement import parse_order_request, place_order, request_fingerprint
from ..payments import refunds
from ..payments.service import start_payment
from ..repositories import reader
from ..returns import service as returns
from . import (bp, current_application, current_request, json_body, json_response, optional_int_arg,
               optional_json_body, optional_text, principal, require)
from .pickup import pickup_dict
from .serializers import order_dict

MAX_PAGE = 100


@bp.post("/orders")
@require(MEMBER)
def create_order():
    body = json_body()
    who = principal()
    order, created = place_order(
        parse_order_request(body), member_id=who.id, actor=who.actor,
        idempotency_key=current_request().headers.get("Idempotency-Key"), fingerprint=request_fingerprint(body),
        payment_timeout_seconds=current_application().config["PAYMENT_TIMEOUT_SECONDS"],
        limits=current_application().extensions["storelink_member_limits"],
    )
    if created:
        return json_response(order_dict(order), 201)
    return json_response(order_dict(order), 200, {"Idempotent-Replay": "true"})


@bp.post("/orders/quote")
@require(MEMBER)
def quote_order():
    """What placing this request would do (location, reason, fee, method change), placing nothing."""
    return jsonify(quote.quote(reader(), parse_order_request(json_body())))


@bp.get("/orders")
def list_orders():
    """Members see their own orders, store staff their store's, HQ everyone's; newest first."""
    who = principal()
    limit = optional_int_arg("limit", minimum=1, maximum=MAX_PAGE) or 20
    orders = queries.list_orders(
        db.session.connection(), limit=limit, before_id=optional_int_arg("before_id", minimum=1),
        member_id=who.id if who.is_member else None,
        location_id=who.store_id if not (who.is_member or who.is_hq) else None,
        status=request.args.get("status") or None,
    )
    return jsonify(orders=[order_dict(o) for o in orders], next_before_id=orders[-1].id if len(orders) == limit else None)


@bp.get("/orders/<int:order_id>")
def get_order(order_id: int):
    connection = db.session.connection()
    order = queries.order(connection, order_id)
    who = principal()
    lifecycle.check_access(order, who)
    data = order_dict(order, queries.history(connection, order.id))
    # Where any money for goods not delivered goes: back to its route, or owed at the store's counter
    # (looked up only for an order with refunds: phones poll this answer).
    refunded = order.payment_status in (REFUNDED, PARTIALLY_REFUNDED)
    data["refunds"] = refunds.refunds_of_order(reader(), order.id) if refunded else []
    if who.is_member and order.status == state.COMPLETED:  # 申请退货: what may be returned, and the returns
        data.update(returns.order_returns(reader(), order, window_days=current_application().config["RETURN_WINDOW_DAYS"]))
    if who.is_member and order.fulfilment == PICKUP:  # the code is the owner's alone (HQ and clerks never see it)
        code = reader().pickup.of_order(order.id)
        data["pickup"] = pickup_dict(code) if code is not None else None
    return jsonify(data)


@bp.post("/orders/<int:order_id>/pay")
@require(MEMBER)
def pay_order(order_id: int):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    payment = start_payment(
        order_id, principal(),
        notify_url=base + url_for("api.payment_notification", provider="sandbox"),
        return_url=f"{base}{url_for('web.order_page', order_id=order_id)}",  # the mall's order page
    )
    return jsonify(order_id=order_id, payment_id=payment.id, provider=payment.provider,
                   out_trade_no=payment.out_trade_no, amount=payment.amount, pay_url=payment.pay_url)


@bp.post("/orders/<int:order_id>/cancel")
@require(MEMBER, "hq")
def cancel_order(order_id: int):
    reason = optional_text(optional_json_body(), "reason")
    return jsonify(order_dict(lifecycle.cancel(order_id, principal(), reason)))


@bp.post("/orders/<int:order_id>/confirm-receipt")
@require(MEMBER)
def confirm_receipt(order_id: int):
    """确认收货 of the member's own shipped delivery."""
    return jsonify(order_dict(delivery.confirm_receipt(order_id, principal())))

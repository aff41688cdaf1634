"""Re-weighing fresh goods (生鲜 多退少补): the clerk weighs and settles, the member sees it and pays a top-up."""
from flask import current_app, jsonify, url_for

from ..accounts.models import CLERK, HQ, MEMBER
from ..errors import ValidationFailed
from ..extensions import db
from ..orders import lifecycle, queries
from ..weighing import gate, rules, service, topup
from ..weighing.statement import receipt_lines, statement
from . import bp, json_body, optional_text, principal, require

gate.install()  # the pickup hand-over waits for every weighed line to be settled


def _statement(order_id: int, *, receipt: bool = False) -> dict:
    connection = db.session.connection()
    order = queries.order(connection, order_id, with_lines=False)
    lifecycle.check_access(order, principal())
    data = statement(connection, order)
    if receipt:
        data["receipt"] = receipt_lines(connection, order)
    return data


@bp.post("/clerk/orders/<int:order_id>/weighings")
@require(CLERK)
def weigh_lines(order_id: int):
    """Weights for the order's weighed lines (the scale's stable reading, or typed): each line's difference
    and the settlement choices."""
    readings = service.parse_readings(json_body())
    service.weigh(order_id, principal(), readings, default_tolerance=current_app.config["WEIGH_TOLERANCE"])
    return jsonify(_statement(order_id))


@bp.get("/clerk/orders/<int:order_id>/weighings")
@require(CLERK, HQ)
def weighing_statement(order_id: int):
    """The order's re-weighing statement with the receipt's lines."""
    return jsonify(_statement(order_id, receipt=True))


@bp.post("/clerk/orders/<int:order_id>/lines/<int:line_id>/settlement")
@require(CLERK)
def settle_line(order_id: int, line_id: int):
    body = json_body()
    settlement = body.get("settlement")
    if settlement not in rules.SETTLEMENTS:
        raise ValidationFailed(f"settlement 必须是 {', '.join(rules.SETTLEMENTS)} 之一", code="invalid_settlement")
    qty = body.get("qty", 1)
    sku = body.get("sku")
    service.settle(order_id, line_id, principal(), settlement, reason=optional_text(body, "reason"),
                   goods_sku=sku, goods_qty=qty, default_waive_limit=current_app.config["WEIGH_WAIVE_LIMIT"])
    return jsonify(_statement(order_id))


@bp.get("/orders/<int:order_id>/weighings")
def order_weighings(order_id: int):
    """The member's (or the store's) view: weighed lines, differences, how settled, the top-up to pay."""
    return jsonify(_statement(order_id))


@bp.post("/orders/<int:order_id>/topup")
@require(MEMBER)
def pay_topup(order_id: int):
    """Start (or reopen) the top-up payment for the order's heavier lines; returns the provider's pay URL."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    payment = topup.start_topup(
        order_id, principal(),
        notify_url=base + url_for("api.payment_notification", provider="sandbox"),
        return_url=f"{base}{url_for('web.order_page', order_id=order_id)}",  # the mall's order page
    )
    return jsonify(order_id=order_id, payment_id=payment.id, provider=payment.provider, purpose=payment.purpose,
                   out_trade_no=payment.out_trade_no, amount=payment.amount, pay_url=payment.pay_url)

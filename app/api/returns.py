"""Member returns (退货): thin adapters to app.returns.service. The member asks and follows, HQ decides,
the clerk of the store the goods come back to receives them (restock and refund)."""
from flask import jsonify, request

from ..accounts.models import CLERK, HQ, MEMBER
from ..errors import ValidationFailed
from ..repositories import reader
from ..returns import STATUSES
from ..returns import service as returns
from . import bp, current_application, json_body, optional_json_body, optional_text, principal, require


@bp.post("/orders/<int:order_id>/returns")
@require(MEMBER)
def request_return(order_id: int):
    """{lines: [{line_id, qty}], reason, note?}"""
    body = json_body()
    created = returns.request_return(order_id, principal(), lines=body.get("lines"), reason=body.get("reason"),
                                     note=optional_text(body, "note"),
                                     window_days=current_application().config["RETURN_WINDOW_DAYS"])
    return jsonify(created), 201


@bp.get("/me/returns")
@require(MEMBER)
def my_returns():
    return jsonify(returns=returns.member_returns(reader(), principal().id))


@bp.post("/returns/<int:return_id>/withdraw")
@require(MEMBER)
def withdraw_return(return_id: int):
    return jsonify(returns.withdraw(return_id, principal()))


@bp.post("/returns/<int:return_id>/ship")
@require(MEMBER)
def ship_return(return_id: int):
    """{carrier, tracking_no}: the member sent the goods back by courier."""
    body = json_body()
    return jsonify(returns.ship(return_id, principal(), carrier=optional_text(body, "carrier", 32),
                                tracking_no=optional_text(body, "tracking_no", 64)))


@bp.get("/hq/returns")
@require(HQ)
def hq_returns():
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ValidationFailed("未知的退货状态", code="invalid_query", details={"statuses": list(STATUSES)})
    return jsonify(returns=returns.hq_returns(reader(), status))


@bp.post("/hq/returns/<int:return_id>/approve")
@require(HQ)
def approve_return(return_id: int):
    return jsonify(returns.approve(return_id, principal()))


@bp.post("/hq/returns/<int:return_id>/refuse")
@require(HQ)
def refuse_return(return_id: int):
    """{reason}: why HQ refuses (shown to the member)."""
    return jsonify(returns.refuse(return_id, principal(), optional_text(optional_json_body(), "reason")))


@bp.get("/clerk/returns")
@require(CLERK)
def store_returns():
    """Approved returns whose goods come back to the clerk's store, and those received lately."""
    return jsonify(returns.store_returns(reader(), principal().store_id))


@bp.post("/clerk/returns/<int:return_id>/receive")
@require(CLERK, HQ)
def receive_return(return_id: int):
    """The goods are here: restocked at the store and refunded to the original route, once."""
    return jsonify(returns.receive(return_id, principal()))

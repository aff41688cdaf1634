"""Pickup codes over HTTP: the member's QR image, and verification at the counter."""
from flask import Response, current_app

from ..accounts.models import CLERK, MEMBER
from ..errors import Conflict, NotFound
from ..extensions import db
from ..orders import queries
from ..pickup import codes, verification
from ..repositories import reader
from . import bp, json_body, json_response, principal, require


@bp.get("/orders/<int:order_id>/pickup-qr.png")
@require(MEMBER)
def pickup_qr(order_id: int):
    """The member's own pickup QR, only once the order has a code (paid, or placed to pay at the store)."""
    connection = db.session.connection()
    code = owned_pickup_code(connection, order_id, principal())
    if code is None:
        raise Conflict("订单支付后才会生成提货码", code="pickup_code_not_issued")
    if code.status != codes.OPEN:
        raise Conflict("提货码已使用或已失效", code="pickup_code_closed", details={"status": code.status})
    token = codes.qr_token(current_app.config["SECRET_KEY"], code,
                           ttl_seconds=current_app.config["PICKUP_QR_TTL_SECONDS"])
    # Never cached: each fetch signs a fresh token (with a fresh expiry).
    return Response(codes.qr_png(token), mimetype="image/png", headers={"Cache-Control": "no-store"})


def owned_pickup_code(connection, order_id: int, who):
    """The pickup code of the caller's own order (None if it has none yet); 404 for anyone else's order."""
    order = queries.order(connection, order_id, with_lines=False)
    if not (who.is_member and order.member_id == who.id):
        raise NotFound("订单不存在", code="order_not_found")
    return reader().pickup.of_order(order_id)


def pickup_dict(code) -> dict:
    """The pickup part of the owner's order detail."""
    return {"code": code.code, "code_display": codes.display(code.code), "status": code.status,
            "qr_url": f"/api/v1/orders/{code.order_id}/pickup-qr.png", "issued_at": code.issued_at,
            "deadline_at": code.deadline_at, "handed_over_at": code.handed_over_at}


@bp.post("/clerk/pickups/verify")
@require(CLERK)
def verify_pickup():
    """{code, confirm: false} previews the order; {code, confirm: true, lines?, payment?} hands it over."""
    request = verification.parse_request(json_body())
    result = verification.verify(request, principal(), verification.settings_from(current_app.config))
    return json_response(result)

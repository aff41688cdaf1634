from flask import current_app, jsonify

from ..accounts import revocation
from ..accounts.models import HQ
from ..errors import ValidationFailed
from ..ids import is_row_id
from ..orders import phone_orders
from ..orders.placement import parse_order_request
from ..stock import service as stock
from . import bp, json_body, principal, require
from .serializers import order_dict


@bp.post("/hq/stock")
@require(HQ)
def set_stock():
    """Set a location's on-hand for a SKU ({"on_hand": n}) or adjust it ({"delta": ±n})."""
    body = json_body()
    location_id, sku = body.get("location_id"), body.get("sku")
    has_on_hand, has_delta = "on_hand" in body, "delta" in body
    if has_on_hand == has_delta:
        raise ValidationFailed("请提供 on_hand 或 delta 之一", code="invalid_body")
    value = body["on_hand"] if has_on_hand else body["delta"]
    if not is_row_id(location_id):
        raise ValidationFailed("location_id 必须是正整数", code="invalid_field", details={"field": "location_id"})
    if not isinstance(value, int) or isinstance(value, bool):
        name = "on_hand" if has_on_hand else "delta"
        raise ValidationFailed(f"{name} 必须是整数", code="invalid_field", details={"field": name})
    if not isinstance(sku, str):
        raise ValidationFailed("sku 必须是文本", code="invalid_sku")
    if has_on_hand:
        level = stock.count(location_id, sku, on_hand=value)
    else:
        level = stock.count(location_id, sku, delta=value)
    return jsonify({"location_id": level.location_id, "sku": sku, "on_hand": level.on_hand, "reserved": level.reserved,
                    "available": level.available})


@bp.post("/hq/staff/<int:staff_id>/deactivate")
@require(HQ)
def deactivate_staff(staff_id: int):
    """Takes a staff account out of service: its tokens are refused at once, its open sockets closed."""
    return jsonify(revocation.deactivate_staff(staff_id, principal()))


@bp.post("/hq/orders")
@require(HQ)
def place_phone_order():
    """A phone order (400 客服): the order body a member would send, plus `caller_phone`."""
    body = json_body()
    caller = phone_orders.parse_caller_phone(body.get("caller_phone"))
    order, member = phone_orders.place_for_caller(
        parse_order_request({k: v for k, v in body.items() if k != "caller_phone"}), caller, principal(),
        payment_timeout_seconds=current_app.config["PAYMENT_TIMEOUT_SECONDS"])
    return jsonify({**order_dict(order), "caller_is_member": member}), 201

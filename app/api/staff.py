"""Store staff actions on their own store's orders (clerk centre, delivery staff)."""
from flask import jsonify, request

from ..accounts.models import CLERK, COURIER, HQ
from ..errors import NotFound
from ..extensions import db
from ..orders import lifecycle, queries, state
from . import bp, optional_int_arg, optional_json_body, optional_text, principal, require
from .serializers import order_dict

QUEUE_STATUSES = (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP, state.READY_TO_SHIP)


@bp.get("/clerk/orders")
@require(CLERK, HQ)
def clerk_queue():
    """The store's open orders, oldest first; `after_id` lets a reconnecting screen catch up."""
    who = principal()
    orders = queries.list_orders(
        db.session.connection(), statuses=QUEUE_STATUSES, status=request.args.get("status") or None,
        location_id=who.store_id if not who.is_hq else optional_int_arg("store_id", minimum=1),
        after_id=optional_int_arg("after_id", minimum=0), limit=200, oldest_first=True,
    )
    return jsonify(orders=[order_dict(o) for o in orders])


@bp.post("/clerk/orders/<int:order_id>/<action>")
@require(CLERK, HQ)
def clerk_action(order_id: int, action: str):
    reason = optional_text(optional_json_body(), "reason")
    if action == "accept":
        order = lifecycle.advance(order_id, state.ACCEPTED, principal(), reason)
    elif action == "ready":
        order = lifecycle.mark_ready(order_id, principal(), reason)
    elif action == "ship":
        order = lifecycle.advance(order_id, state.SHIPPED, principal(), reason)
    else:
        raise NotFound(f"未知操作 {action}", code="unknown_action")
    return jsonify(order_dict(order))


@bp.post("/courier/deliveries/<int:order_id>/delivered")
@require(COURIER, CLERK, HQ)
def delivered(order_id: int):
    reason = optional_text(optional_json_body(), "reason") or "客户已签收"
    return jsonify(order_dict(lifecycle.advance(order_id, state.COMPLETED, principal(), reason,
                                                   only_from=(state.SHIPPED,))))


@bp.post("/courier/deliveries/<int:order_id>/rejected")
@require(COURIER, CLERK, HQ)
def rejected(order_id: int):
    reason = optional_text(optional_json_body(), "reason")
    return jsonify(order_dict(lifecycle.reject_delivery(order_id, principal(), reason)))

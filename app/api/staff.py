"""Store staff actions on their own store's orders (clerk centre, delivery staff)."""
from flask import jsonify, request

from ..accounts.models import CLERK, COURIER, HQ
from ..errors import NotFound
from ..extensions import db
from ..orders import lifecycle, queries, state
from ..realtime import catchup
from . import bp, optional_int_arg, optional_json_body, optional_text, principal, require
from .serializers import order_dict, orders_json

# The clerk centre's groups: to accept, to prepare, waiting for pickup, to ship, out for delivery.
QUEUE_STATUSES = (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP, state.READY_TO_SHIP,
                  state.SHIPPED)


@bp.get("/clerk/orders")
@require(CLERK, HQ)
def clerk_queue():
    """The store's open orders, oldest first, with counts per status and `last_event_id`: the newest
    history entry of the store, from which the screen's Socket.IO connection catches up after a drop
    (auth {"token", "last_event_id"})."""
    who = principal()
    connection = db.session.connection()
    store_id = who.store_id if not who.is_hq else optional_int_arg("store_id", minimum=1)
    # Read first: an event committed after this read is replayed, never lost.
    last_event_id = catchup.latest_event_id(connection, location_id=store_id) if store_id else 0
    orders = queries.list_orders(
        connection, statuses=QUEUE_STATUSES, status=request.args.get("status") or None,
        location_id=store_id, after_id=optional_int_arg("after_id", minimum=0), limit=500, oldest_first=True,
    )
    counts = {status: 0 for status in QUEUE_STATUSES}
    for order in orders:
        counts[order.status] = counts.get(order.status, 0) + 1
    return jsonify(orders=orders_json(orders), counts=counts, last_event_id=last_event_id)


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

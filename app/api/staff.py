"""Store staff actions on their own store's orders (clerk centre, delivery staff)."""
from flask import current_app, jsonify, request

from ..accounts.models import CLERK, COURIER, HQ
from ..channels.platforms import EXTENSION_KEY as PLATFORMS_KEY, platform_tags
from ..delivery import service as delivery
from ..escalation import service as escalation
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..orders import lifecycle, queries, state
from ..orders.models import PLATFORM
from ..payments import refunds
from .. import realtime
from ..repositories import reader
from . import bp, optional_int_arg, optional_json_body, optional_text, principal, require
from .serializers import order_dict

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
    last_event_id = realtime.resume_point(connection, store_id) if store_id else 0
    orders = queries.open_orders(
        connection, QUEUE_STATUSES, status=request.args.get("status") or None,
        location_id=store_id, after_id=optional_int_arg("after_id", minimum=0), limit=500,
    )
    counts = {status: 0 for status in QUEUE_STATUSES}
    for order in orders:
        counts[order.status] = counts.get(order.status, 0) + 1
    data = [order_dict(o) for o in orders]
    _attach_notes(data)
    _attach_platforms(data)
    return jsonify(orders=data, counts=counts, last_event_id=last_event_id)


def _attach_platforms(orders: list[dict]) -> None:
    """A platform's orders say which platform (and its order id) sent them."""
    ids = [o["id"] for o in orders if o["channel"] == PLATFORM]
    tags = platform_tags(reader(), current_app.extensions[PLATFORMS_KEY], ids) if ids else {}
    for order in orders:
        order["platform"] = tags.get(order["id"])


def _attach_notes(orders: list[dict]) -> None:
    notes = delivery.notes_by_order(db.session, [o["id"] for o in orders if o["status"] != state.READY_FOR_PICKUP])
    names = delivery.staff_names(db.session, [n.courier_id for n in notes.values()])
    for order in orders:
        order["delivery"] = delivery.note_dict(notes.get(order["id"]), names)


@bp.post("/clerk/orders/<int:order_id>/<action>")
@require(CLERK, HQ)
def clerk_action(order_id: int, action: str):
    body = optional_json_body()
    reason = optional_text(body, "reason")
    if action == "accept":
        order = lifecycle.advance(order_id, state.ACCEPTED, principal(), reason)
    elif action == "ready":
        order = lifecycle.mark_ready(order_id, principal(), reason)
    elif action == "ship":
        return _ship(order_id, body)
    else:
        raise NotFound(f"未知操作 {action}", code="unknown_action")
    return jsonify(order_dict(order))


def _ship(order_id: int, body: dict):
    """{carrier, tracking_no} for a carrier, {courier_id} for one of the store's couriers, {} for the
    clerk delivering it personally."""
    courier_id = body.get("courier_id")
    if courier_id is not None and (not isinstance(courier_id, int) or isinstance(courier_id, bool)):
        raise ValidationFailed("courier_id 必须是整数", code="invalid_courier")
    order, note = delivery.ship(order_id, principal(), carrier=optional_text(body, "carrier", 32),
                                tracking_no=optional_text(body, "tracking_no", 64), courier_id=courier_id)
    return jsonify({**order_dict(order), "delivery": _note_json(note)})


@bp.get("/clerk/couriers")
@require(CLERK)
def store_couriers():
    """Who can take a store delivery (the store's active couriers)."""
    return jsonify(couriers=[{"id": s.id, "name": s.name or s.username, "phone": s.phone}
                             for s in delivery.store_couriers(db.session, principal().store_id)])


@bp.get("/clerk/deliveries")
@require(CLERK)
def deliveries_to_check_back():
    """Deliveries waiting for 回店校验: COD cash to count, rejected goods to check back in."""
    pairs = delivery.to_check_back(db.session, principal().store_id)
    return jsonify(deliveries=_pairs_json(pairs))


@bp.post("/clerk/deliveries/<int:order_id>/check-back")
@require(CLERK, HQ)
def check_back(order_id: int):
    body = optional_json_body()
    order, note = delivery.check_back(order_id, principal(), cash_counted=body.get("cash_counted"))
    return jsonify({**order_dict(order), "delivery": _note_json(note)})


@bp.get("/clerk/refunds")
@require(CLERK)
def store_refunds():
    """Refunds owed at the store's counter (money taken at the store: 到店付款, cash on delivery) and
    the ones recently paid out there."""
    return jsonify(refunds.store_refunds(reader(), principal().store_id))


@bp.post("/clerk/refunds/<int:refund_id>/pay-out")
@require(CLERK)
def pay_out_refund(refund_id: int):
    """{method: cash | card}: the clerk handed the refund over the counter."""
    return jsonify(refunds.pay_out(refund_id, principal(), optional_json_body().get("method")))


@bp.get("/courier/deliveries")
@require(COURIER)
def my_deliveries():
    """The courier's deliveries still out: address, contact, amount to collect."""
    return jsonify(deliveries=_pairs_json(delivery.courier_deliveries(db.session, principal())))


@bp.post("/courier/deliveries/<int:order_id>/delivered")
@require(COURIER, CLERK, HQ)
def delivered(order_id: int):
    body = optional_json_body()
    order, note = delivery.delivered(order_id, principal(), cash_collected=body.get("cash_collected"),
                                     reason=optional_text(body, "reason"))
    return jsonify({**order_dict(order), "delivery": _note_json(note)})


@bp.post("/courier/deliveries/<int:order_id>/rejected")
@require(COURIER, CLERK, HQ)
def rejected(order_id: int):
    order, note = delivery.rejected(order_id, principal(), reason=optional_text(optional_json_body(), "reason"))
    return jsonify({**order_dict(order), "delivery": _note_json(note)})


def _note_json(note):
    return delivery.note_dict(note, delivery.staff_names(db.session, [note.courier_id]) if note else {})


def _pairs_json(pairs) -> list[dict]:
    names = delivery.staff_names(db.session, [note.courier_id for _, note in pairs])
    return [{**order_dict(order), "delivery": delivery.note_dict(note, names)} for order, note in pairs]


@bp.get("/hq/escalations")
@require(HQ)
def hq_escalations():
    """Orders escalated for waiting too long to be accepted, still waiting (HQ's view in the clerk centre)."""
    return jsonify(escalations=escalation.open_escalations(reader()))

"""Shipping a store delivery, the outcome at the door, and the check-back at the store (回店校验).

Each function is one transaction on the locked order. Stock and money follow the goods:
- shipping commits the reserved stock (the goods left the store);
- a rejection (拒签) only records it: the goods are on their way back, and are restocked — and a paid
  order refunded to its original route — when the clerk checks them back in;
- cash collected at the door (货到付款) counts only when the clerk counts it back at the store; the
  difference against what was due is recorded, and the order is paid then.
"""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.auth import Principal
from ..accounts.models import CLERK, COURIER, HQ, Staff
from ..channels.platforms import label as platform_label
from ..clock import utcnow
from ..errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from ..orders import state
from ..orders import lifecycle
from ..orders.lifecycle import check_access, load_order
from ..orders.models import COD, PAID, PARTIALLY_REFUNDED, PICKUP, PLATFORM, UNPAID, Order
from ..orders.records import OrderRecord
from ..payments.models import COD_CASH, SUCCEEDED, Payment
from ..stock import service as stock
from ..weighing.gate import amount_due as weighing_amount_due, ensure_settled as ensure_weighings_settled
from .models import CARRIER, DELIVERED, OUT, REJECTED, RETURNED, SETTLED, STAFF, DeliveryNote

MAX_CENTS = 100_000_000


def ship(order_id: int, who: Principal, *, carrier: str = "", tracking_no: str = "", courier_id: int | None = None):
    """待发货 → 已发货 with a delivery note: a carrier and its tracking number, or one of the store's staff
    (a courier, or by default the clerk who ships it). Returns (order, note)."""
    with unit_of_work() as uow:
        order = _locked(uow, order_id, who, roles=(CLERK, HQ))
        if order.fulfilment == PICKUP:
            raise IllegalTransition("自提订单不能发货", details={"from": order.status, "to": state.SHIPPED})
        state.ensure_legal(order.status, state.SHIPPED, order.fulfilment)
        ensure_weighings_settled(uow.connection, order.id)  # re-weighed fresh goods: differences settled first
        mode, courier, carrier, tracking_no, how = _how_shipped(uow, order, who, carrier, tracking_no, courier_id)
        shipped, entry = state.transition(uow, order, state.SHIPPED, actor=who.actor, reason=how)
        stock.hand_over(uow, order.location_id, order.line_quantities())
        # Cash on delivery collects the amount due: the total as re-weighing settled it.
        cod = weighing_amount_due(uow.connection, order) if order.payment_method == COD and order.payment_status == UNPAID else 0
        note = DeliveryNote(order_id=order.id, store_id=order.location_id, mode=mode, carrier=carrier,
                            tracking_no=tracking_no, courier_id=courier.id if courier else None, status=OUT,
                            cod_amount=cod, shipped_at=utcnow(), shipped_by=who.id)
        uow.session.add(note)
        _announce(uow, shipped, entry.id)
    return shipped, note


def _how_shipped(uow, order: OrderRecord, who: Principal, carrier: str, tracking_no: str, courier_id: int | None):
    """(mode, courier, carrier, tracking number, history reason) of shipping the order as asked: by a
    carrier, by one of the store's staff (by default the clerk), or, when nothing is said of a platform's
    order, handed to the platform's rider."""
    rider = _platform_rider(uow, order) if not (carrier or tracking_no or courier_id is not None) else None
    if rider is not None:
        carrier, tracking_no = rider
        return CARRIER, None, carrier, tracking_no, f"交{carrier}取货:平台订单号 {tracking_no}"
    if carrier or tracking_no:
        if not (carrier and tracking_no) or courier_id is not None:
            raise ValidationFailed("快递发货需要 carrier 和 tracking_no(或改为指派配送员 courier_id)",
                                   code="invalid_shipping")
        return CARRIER, None, carrier, tracking_no, f"快递发货:{carrier} {tracking_no}"
    courier = _store_staff(uow.session, courier_id if courier_id is not None else who.id, order.location_id)
    return STAFF, courier, carrier, tracking_no, f"门店自配送:{courier.name or courier.username}"


def _platform_rider(uow, order: OrderRecord) -> tuple[str, str] | None:
    """(carrier, tracking number) of the hand-over to a delivery platform's rider — "美团骑手" and the
    platform's order number — for an order a platform sent; None for any other order."""
    if order.channel != PLATFORM:
        return None
    link = uow.channels.of_order(order.id)
    return (f"{platform_label({}, link.platform)}骑手", link.platform_order_id) if link is not None else None


def delivered(order_id: int, who: Principal, *, cash_collected: int | None = None, reason: str = ""):
    """Signed for (已签收). A COD order needs the cash the courier collected; it counts once checked back."""
    with unit_of_work() as uow:
        order, note = _at_the_door(uow, order_id, who)
        if note is not None and note.cod_amount > 0:
            if not _is_cents(cash_collected):
                raise ValidationFailed(f"货到付款订单请填写实收现金(应收 {note.cod_amount / 100:.2f} 元)",
                                       code="cash_required", details={"cod_amount": note.cod_amount})
            reason = reason or f"客户已签收,代收现金 {cash_collected / 100:.2f} 元(待回店校验)"
        done, entry = state.transition(uow, order, state.COMPLETED, actor=who.actor, reason=reason or "客户已签收")
        _signed_for(note, cash_collected)
        _announce(uow, done, entry.id)
    return done, note


def confirm_receipt(order_id: int, who: Principal):
    """确认收货: the member says a shipped, paid delivery arrived; its delivery note closes as signed for
    (nothing to collect), so it leaves the courier's round. Cash on delivery is the courier's to close
    (the cash must be collected first)."""
    with unit_of_work() as uow:
        order = load_order(uow, order_id)
        if not (who.is_member and order.member_id == who.id):
            raise NotFound("订单不存在", code="order_not_found")
        if order.fulfilment == PICKUP or order.status != state.SHIPPED:
            raise IllegalTransition(f"订单状态为「{state.LABELS[order.status]}」,不能确认收货",
                                    details={"from": order.status, "to": state.COMPLETED})
        if order.payment_status not in (PAID, PARTIALLY_REFUNDED):  # partially: a re-weighing refund
            raise Forbidden("货到付款订单由配送员收款后完成", code="cod_confirm_by_courier")
        note = _note_of(uow.session, order.id, lock=True)
        done, entry = state.transition(uow, order, state.COMPLETED, actor=who.actor, reason="会员确认收货")
        _signed_for(note, None)
        _announce(uow, done, entry.id)
    return done


def _signed_for(note: DeliveryNote | None, cash_collected: int | None) -> None:
    """The note of a delivery signed for: settled, or, with cash to collect, delivered until it is
    counted back at the store. (Orders shipped before delivery notes existed have none.)"""
    if note is None:
        return
    note.status = DELIVERED if note.cod_amount > 0 else SETTLED
    note.cash_collected = cash_collected if note.cod_amount > 0 else None
    note.outcome_at = utcnow()


def rejected(order_id: int, who: Principal, *, reason: str = ""):
    """拒签: recorded now; the goods come back to the store and are restocked (and a paid order refunded)
    when the clerk checks them back in."""
    with unit_of_work() as uow:
        order, note = _at_the_door(uow, order_id, who)
        why = reason or "客户拒签"
        rejected_order, entry = state.transition(
            uow, order, state.REJECTED, actor=who.actor,
            reason=f"{why}(货物退回门店,入库后{'退款' if order.payment_status == PAID else '关闭'})")
        if note is None:  # shipped before delivery notes existed: nothing will come back through one
            rejected_order, _ = _return_to_stock(uow, rejected_order, who)
        else:
            note.status, note.reject_reason, note.outcome_at = REJECTED, why[:200], utcnow()
        _announce(uow, rejected_order, entry.id)
    return rejected_order, note


def check_back(order_id: int, who: Principal, *, cash_counted: int | None = None):
    """回店校验 at the store: COD cash counted (the difference recorded, the order paid), or rejected
    goods checked back in (restocked; a paid order refunded to its original route)."""
    with unit_of_work() as uow:
        order = _locked(uow, order_id, who, roles=(CLERK, HQ))
        note = _note_of(uow.session, order.id, lock=True)
        if note is None or note.status not in (DELIVERED, REJECTED):
            raise Conflict("该订单没有待回店校验的配送单", code="nothing_to_check_back")
        if note.status == DELIVERED:
            order, entry = _count_cash(uow, order, note, cash_counted, who)
        else:
            order, entry = _return_to_stock(uow, order, who)
            note.status = RETURNED
        note.checked_back_at, note.checked_back_by = utcnow(), who.id
        _announce(uow, order, entry.id)
    return order, note


def _count_cash(uow, order: OrderRecord, note: DeliveryNote, counted, who: Principal):
    if not _is_cents(counted):
        raise ValidationFailed("请填写清点的现金金额(分)", code="cash_required", details={"cod_amount": note.cod_amount})
    now = utcnow()
    if counted > 0:
        uow.payments.add(Payment(order_id=order.id, provider=COD_CASH, out_trade_no=f"COD{order.id}",
                                 provider_txn_id=who.actor, amount=counted, status=SUCCEEDED, created_at=now,
                                 paid_at=now))
    note.cash_counted, note.cash_difference, note.status = counted, counted - note.cod_amount, SETTLED
    paid = order._replace(payment_status=PAID)
    state.save(uow, order, paid)
    return paid, state.record(uow, order.id, actor=who.actor, kind="cod_checked", reason=(
        f"回店校验:应收 {note.cod_amount / 100:.2f} 元,配送员报收 {(note.cash_collected or 0) / 100:.2f} 元,"
        f"清点 {counted / 100:.2f} 元,差额 {(counted - note.cod_amount) / 100:.2f} 元"))


def _return_to_stock(uow, order: OrderRecord, who: Principal):
    stock.restock(uow, order.location_id, order.line_quantities())
    entry = state.record(uow, order.id, actor=who.actor, kind="returned", reason="拒签货物已退回门店入库")
    if order.payment_status == PAID:
        order = lifecycle.refund_in_full(uow, order, actor=who.actor, reason="拒签退款")
    return order, entry


def courier_deliveries(session, who: Principal) -> list[tuple[Order, DeliveryNote]]:
    """The courier's deliveries still out (oldest first)."""
    rows = session.execute(
        select(Order, DeliveryNote).join(DeliveryNote, DeliveryNote.order_id == Order.id)
        .where(DeliveryNote.courier_id == who.id, DeliveryNote.status == OUT, Order.status == state.SHIPPED)
        .order_by(DeliveryNote.id)).all()
    return [(order, note) for order, note in rows]


def to_check_back(session, store_id: int) -> list[tuple[Order, DeliveryNote]]:
    """The store's deliveries waiting for 回店校验: COD cash to count, rejected goods to check in."""
    rows = session.execute(
        select(Order, DeliveryNote).join(DeliveryNote, DeliveryNote.order_id == Order.id)
        .where(DeliveryNote.store_id == store_id, DeliveryNote.status.in_((DELIVERED, REJECTED)))
        .order_by(DeliveryNote.id)).all()
    return [(order, note) for order, note in rows]


def notes_by_order(session, order_ids: list[int]) -> dict[int, DeliveryNote]:
    if not order_ids:
        return {}
    notes = session.execute(select(DeliveryNote).where(DeliveryNote.order_id.in_(order_ids))).scalars()
    return {note.order_id: note for note in notes}


def store_couriers(session, store_id: int) -> list[Staff]:
    return list(session.execute(select(Staff).where(Staff.store_id == store_id, Staff.role == COURIER,
                                                    Staff.active.is_(True)).order_by(Staff.id)).scalars())


def note_dict(note: DeliveryNote | None, courier_names: dict | None = None) -> dict | None:
    if note is None:
        return None
    return {"mode": note.mode, "carrier": note.carrier, "tracking_no": note.tracking_no, "courier_id": note.courier_id,
            "courier_name": (courier_names or {}).get(note.courier_id), "status": note.status,
            "cod_amount": note.cod_amount, "cash_collected": note.cash_collected, "reject_reason": note.reject_reason,
            "shipped_at": note.shipped_at, "outcome_at": note.outcome_at, "checked_back_at": note.checked_back_at,
            "cash_counted": note.cash_counted, "cash_difference": note.cash_difference}


def staff_names(session, ids) -> dict[int, str]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    return {s.id: s.name or s.username for s in session.execute(select(Staff).where(Staff.id.in_(ids))).scalars()}


def _at_the_door(uow, order_id: int, who: Principal):
    order = _locked(uow, order_id, who, roles=(COURIER, CLERK, HQ))
    if order.status != state.SHIPPED:
        raise IllegalTransition(f"订单状态为「{state.LABELS[order.status]}」,不能执行该操作",
                                details={"from": order.status})
    note = _note_of(uow.session, order.id, lock=True)
    if who.role == COURIER and note is not None and note.courier_id != who.id:
        raise Forbidden("这不是指派给您的配送单", code="not_your_delivery")
    if note is not None and note.status != OUT:
        raise Conflict("配送结果已登记", code="outcome_recorded")
    return order, note


def _locked(uow, order_id: int, who: Principal, *, roles) -> OrderRecord:
    if who.role not in roles:
        raise Forbidden("没有权限执行此操作", code="forbidden_role")
    order = load_order(uow, order_id)
    check_access(order, who)
    return order


def _note_of(session, order_id: int, *, lock: bool = False) -> DeliveryNote | None:
    query = select(DeliveryNote).where(DeliveryNote.order_id == order_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def _store_staff(session, staff_id: int, store_id: int) -> Staff:
    staff = session.get(Staff, staff_id) if isinstance(staff_id, int) and 0 < staff_id < 2 ** 62 else None
    if staff is None or not staff.active or staff.store_id != store_id or staff.role not in (COURIER, CLERK):
        raise ValidationFailed("配送员必须是本门店在职的配送员或店员", code="invalid_courier")
    return staff


def _is_cents(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CENTS


def _announce(uow, order: OrderRecord, event_id: int) -> None:
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status, event_id=event_id)

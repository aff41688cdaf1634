"""Weighing an order's fresh-goods lines and settling each line's difference: one transaction each.

Rules that are decisions, stated here once:
- Who: a clerk of the order's own store, while the goods are still in the store (备货中, 待提货, 待发货).
- Which lines: lines of weighed goods (sold per piece with a standard weight and a price per kg).
- A second weighing of a line supersedes the first while nothing has moved on it (not settled yet, or
  within tolerance); once money or goods moved (or a top-up was asked for) it is refused: the history
  keeps the superseded weighing.
- Lighter: refund to the original route (partial refund), or goods added (增补商品, an adjustment line
  whose stock is reserved now and committed at hand-over with the rest), the rest of the shortfall refunded.
  Heavier: a top-up paid by the member, cash taken by the clerk, or waived with a reason within the
  store's per-order limit. Cash on delivery: the amount due changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..accounts.auth import Principal
from ..catalog.models import Product
from ..clock import utcnow
from ..infra.unit_of_work import unit_of_work
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..ids import is_row_id
from ..locations.models import Location
from ..orders import state
from ..orders.lifecycle import check_access, load_order
from ..orders.models import AT_STORE, COD, PAID, PARTIALLY_REFUNDED, UNPAID
from ..orders.pricing import piece_price
from ..orders.records import OrderRecord
from ..payments.refunds import refund_payment, refundable_amount
from ..stock import service as stock
from . import rules
from .models import AWAITING_PAYMENT, CURRENT, OPEN, SETTLED, SOURCES, SUPERSEDED, LineWeighing

# Paid (or to be paid on hand-over) and still in the store: a pickup may be weighed before the store has
# even accepted it (the clerk meets the member at the counter).
WEIGHABLE_STATUSES = (state.AWAITING_ACCEPTANCE, state.ACCEPTED, state.READY_FOR_PICKUP, state.READY_TO_SHIP)
# Orders paid when the goods leave settle in the amount due.
PAID_ON_HANDOVER = (COD, AT_STORE)
MAX_LINES = 50
MAX_ADDED_PIECES = 99


@dataclass(frozen=True)
class Reading:
    """One line's weight as the clerk captured it."""

    line_id: int
    weight_g: int
    source: str
    device_id: int | None = None


def parse_readings(body) -> list[Reading]:
    raw = body.get("lines") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LINES:
        raise ValidationFailed(f"lines 必须是 1 到 {MAX_LINES} 项的数组", code="invalid_lines")
    readings, seen = [], set()
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationFailed("lines 的每一项必须是 {line_id, weight_g, source}", code="invalid_lines")
        line_id, weight, source, device = (item.get(k) for k in ("line_id", "weight_g", "source", "device_id"))
        if not is_row_id(line_id):
            raise ValidationFailed("line_id 必须是订单行的 id", code="invalid_line_id")
        if line_id in seen:
            raise ValidationFailed("同一行在一次称重中只能出现一次", code="duplicate_line", details={"line_id": line_id})
        seen.add(line_id)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= rules.MAX_WEIGHT_G:
            raise ValidationFailed(f"weight_g 必须是 0 到 {rules.MAX_WEIGHT_G} 的整数(克)", code="invalid_weight",
                                   details={"line_id": line_id})
        if source not in SOURCES:
            raise ValidationFailed("source 必须是 scale 或 typed", code="invalid_source", details={"line_id": line_id})
        if device is not None and not is_row_id(device):
            raise ValidationFailed("device_id 必须是设备 id", code="invalid_device_id")
        readings.append(Reading(line_id, weight, source, device if source == "scale" else None))
    return readings


def weigh(order_id: int, who: Principal, readings: list[Reading], *, default_tolerance: rules.Tolerance) -> int:
    """Record the weighings and each line's difference; a line within tolerance is settled at once."""
    with unit_of_work() as uow:
        order = _store_order(uow, order_id, who)
        lines = {line.id: line for line in order.lines}
        products = _products(uow.session, [lines[r.line_id].product_id for r in readings if r.line_id in lines])
        current = _current_weighings(uow.session, order.id)
        now = utcnow()
        for reading in readings:
            line = lines.get(reading.line_id)
            if line is None:
                raise NotFound("订单中没有这一行", code="line_not_found", details={"line_id": reading.line_id})
            if not is_weighable_line(line):
                raise ValidationFailed(f"「{line.name}」不是称重商品", code="line_not_weighed_goods",
                                       details={"line_id": line.id})
            _supersede(current.get(line.id), line)
            product = products[line.product_id]
            tolerance = rules.Tolerance.of_product(product.weigh_tolerance_g, product.weigh_tolerance_bp,
                                                   default_tolerance)
            a = rules.assess(rules.Conversion(line.standard_weight_g, line.price_per_kg), line.qty,
                             line.line_total, reading.weight_g, tolerance)
            weighing = LineWeighing(
                order_id=order.id, line_id=line.id, weight_g=reading.weight_g, source=reading.source,
                device_id=reading.device_id, pieces=line.qty, expected_g=a.expected_g, price_per_kg=a.price_per_kg,
                line_cost=a.line_cost, tolerance=tolerance.describe(), within_tolerance=a.within_tolerance,
                difference=a.difference, status=OPEN, weighed_by=who.actor, weighed_at=now,
                refunded=0, goods_value=0, waived=0, collected=0, due_change=0, reason="",
            )
            if a.difference == 0:
                mark_settled(weighing, rules.NONE, rules.Split(), who.actor, now)
            uow.session.add(weighing)
            uow.session.flush()  # the superseded row first: one current weighing per line (unique index)
            event = state.record(uow, order.id, actor=who.actor, kind="weighed",
                                 reason=_weighed_text(line, a, reading))
        announce(uow, order, event.id)
        return order.id


def settle(order_id: int, line_id: int, who: Principal, settlement: str, *, reason: str = "",
           goods_sku: str | None = None, goods_qty: int = 1, default_waive_limit: int) -> int:
    """Settle a weighed line's difference the way the clerk and the shopper agreed."""
    with unit_of_work() as uow:
        session = uow.session
        order = _store_order(uow, order_id, who)
        weighing = _current_weighings(session, order.id).get(line_id) if is_row_id(line_id) else None
        if weighing is None:
            raise NotFound("该行尚未称重", code="line_not_weighed", details={"line_id": line_id})
        # A top-up not paid yet may still be taken in cash or waived; the payment opened for it then settles
        # nothing (paid after all, it is refunded as late).
        switching = weighing.status == AWAITING_PAYMENT and settlement in (rules.CASH, rules.WAIVE)
        if weighing.status != OPEN and not switching:
            raise Conflict("该行差额已处理", code="line_already_settled", details={"line_id": line_id})
        if switching:
            weighing.topup_payment_id = None
        cod = order.payment_method in PAID_ON_HANDOVER
        direction = _direction(weighing.difference)
        allowed = rules.choices(direction, cash_on_delivery=cod)
        if settlement not in allowed:
            raise ValidationFailed(f"该差额只能选择:{'、'.join(rules.LABELS[c] for c in allowed)}",
                                   code="invalid_settlement", details={"choices": list(allowed)})
        now = utcnow()
        line = next(line for line in order.lines if line.id == line_id)
        goods_value = 0
        if settlement == rules.ADD_GOODS:
            goods_value = _add_goods(uow, order, line, goods_sku or line.sku, goods_qty, -weighing.difference)
        if settlement == rules.WAIVE:
            _check_waive(session, order, weighing.difference, reason, default_waive_limit)
        split = rules.split(settlement, weighing.difference, goods_value=goods_value, cash_on_delivery=cod)
        if split.refunded:
            order = _refund(uow, order, split.refunded, reason=f"称重差额退款:{line.name}")
        weighing.reason = reason[:200]
        if settlement == rules.TOPUP:
            weighing.settlement, weighing.status = rules.TOPUP, AWAITING_PAYMENT  # settled when the top-up is paid
        else:
            mark_settled(weighing, settlement, split, who.actor, now)
        event = state.record(uow, order.id, actor=who.actor, kind="weighing_settled",
                             reason=_settled_text(line, weighing, split, goods_value))
        announce(uow, order, event.id)
        return order.id


def is_weighable_line(line) -> bool:
    return line.standard_weight_g is not None and line.price_per_kg is not None and line.adjusts_line_id is None


def _store_order(uow, order_id: int, who: Principal) -> OrderRecord:
    order = load_order(uow, order_id)
    if who.is_member:
        raise Forbidden("会员不能称重", code="forbidden_role")
    check_access(order, who)
    if order.payment_method in PAID_ON_HANDOVER and order.payment_status != UNPAID:
        raise Conflict("订单已在交付时收款,不能再称重结算", code="not_weighable", details={"status": order.status})
    if order.status not in WEIGHABLE_STATUSES:
        raise Conflict(f"订单状态为「{state.LABELS[order.status]}」,不能称重或结算差额", code="not_weighable",
                       details={"status": order.status})
    return order


def _products(session, product_ids) -> dict[int, Product]:
    if not product_ids:
        return {}
    return {p.id: p for p in session.execute(select(Product).where(Product.id.in_(set(product_ids)))).scalars()}


def _current_weighings(session, order_id: int) -> dict[int, LineWeighing]:
    rows = session.execute(select(LineWeighing).where(
        LineWeighing.order_id == order_id, LineWeighing.status.in_(CURRENT))).scalars()
    return {w.line_id: w for w in rows}


def _supersede(previous: LineWeighing | None, line) -> None:
    """The explicit rule for a second weighing: it replaces one on which nothing has moved yet."""
    if previous is None:
        return
    nothing_moved = previous.status == OPEN or (previous.status == SETTLED and previous.settlement == rules.NONE)
    if not nothing_moved:
        raise Conflict(f"「{line.name}」的差额已按「{rules.LABELS[previous.settlement]}」处理,不能重新称重",
                       code="line_already_settled", details={"line_id": line.id})
    previous.status = SUPERSEDED


def _direction(difference: int) -> str:
    return rules.HEAVIER if difference > 0 else rules.LIGHTER if difference < 0 else rules.EVEN


def mark_settled(weighing: LineWeighing, settlement: str, split: rules.Split, actor: str, now) -> None:
    weighing.settlement, weighing.status = settlement, SETTLED
    weighing.refunded, weighing.goods_value, weighing.waived = split.refunded, split.goods_value, split.waived
    weighing.collected, weighing.due_change = split.collected, split.due_change
    weighing.settled_by, weighing.settled_at = actor, now


def _add_goods(uow, order: OrderRecord, line, sku: str, qty, shortfall: int) -> int:
    """增补商品: goods worth at most the shortfall, set aside now (reserved) and handed over with the order."""
    if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_ADDED_PIECES:
        raise ValidationFailed(f"增补数量必须在 1 到 {MAX_ADDED_PIECES} 之间", code="invalid_quantity")
    if not isinstance(sku, str) or not sku or len(sku) > 32:
        raise ValidationFailed("sku 必须是文本", code="invalid_sku")
    product = uow.session.execute(select(Product).where(Product.sku == sku, Product.active.is_(True))).scalar_one_or_none()
    if product is None:
        raise NotFound("商品不存在或已下架", code="unknown_sku", details={"sku": sku})
    value = piece_price(product) * qty
    if value > shortfall:
        raise ValidationFailed(f"增补商品价值 {value / 100:.2f} 元超过差额 {shortfall / 100:.2f} 元",
                               code="goods_exceed_shortfall", details={"value": value, "shortfall": shortfall})
    stock.reserve(uow, order.location_id, [(product.id, qty)])
    # Free of charge (the shortfall pays for it), handed over and committed with the order's other lines.
    uow.orders.insert_lines(order.id, [dict(
        product_id=product.id, sku=product.sku, name=product.name, qty=qty, unit_price=0, line_total=0,
        standard_weight_g=None, handed_over_qty=0, price_per_kg=None, adjusts_line_id=line.id)])
    return value


def _check_waive(session, order: OrderRecord, difference: int, reason: str, default_limit: int) -> None:
    if not reason:
        raise ValidationFailed("免收差额需要填写原因", code="reason_required")
    limit = session.execute(select(Location.weigh_waive_limit).where(Location.id == order.location_id)).scalar_one()
    limit = default_limit if limit is None else limit
    waived = session.execute(select(func.coalesce(func.sum(LineWeighing.waived), 0)).where(
        LineWeighing.order_id == order.id, LineWeighing.status == SETTLED)).scalar_one()
    if waived + difference > limit:
        raise Conflict(f"本单免收合计不能超过 {limit / 100:.2f} 元(已免收 {waived / 100:.2f} 元)",
                       code="waive_over_limit", details={"limit": limit, "waived": waived, "difference": difference})


def _refund(uow, order: OrderRecord, amount: int, *, reason: str) -> OrderRecord:
    """A partial refund to the original route, spread over the order's payments oldest first; returns
    the order as it now is (partially refunded)."""
    payments = uow.payments.succeeded_for_order(order.id)
    refundable = {p.id: (p, refundable_amount(uow, p)) for p in payments}
    try:
        plan = rules.allocate_refund(amount, [(pid, left) for pid, (_, left) in refundable.items()])
    except ValueError:
        raise Conflict("退款金额超过已支付金额", code="refund_exceeds_paid") from None
    for payment_id, part in plan:
        refund_payment(uow, refundable[payment_id][0], part, reason=reason)
    if order.payment_status != PAID:
        return order
    after = order._replace(payment_status=PARTIALLY_REFUNDED, updated_at=utcnow())
    state.save(uow, order, after)
    return after


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _weighed_text(line, a: rules.Assessment, reading: Reading) -> str:
    how = "电子秤" if reading.source == "scale" else "手工录入"
    if a.within_tolerance:
        outcome = "在允差内,无需补退"
    elif a.difference == 0:
        outcome = "差额不足 1 分,无需补退"
    else:
        outcome = f"{'应补' if a.difference > 0 else '应退'} {_yuan(abs(a.difference))} 元"
    return (f"称重 {line.name} ×{line.qty}:应 {a.expected_g} g,实称 {a.actual_g} g({how}),"
            f"{outcome}")


def _settled_text(line, weighing: LineWeighing, split: rules.Split, goods_value: int) -> str:
    label = rules.LABELS[weighing.settlement]
    text = f"{line.name} 差额 {_yuan(weighing.difference)} 元:{label}"
    if weighing.settlement == rules.TOPUP:
        text += ",待会员支付"
    if goods_value:
        text += f"(增补商品价值 {_yuan(goods_value)} 元)"
    if split.refunded:
        text += f",原路退回 {_yuan(split.refunded)} 元"
    if weighing.reason:
        text += f";原因:{weighing.reason}"
    return text


def announce(uow, order: OrderRecord, event_id: int) -> None:
    """The order changed without changing status: clerk screens and the member's page refresh (the
    history entry's id lets a reconnecting screen catch up)."""
    uow.publish("order.status", order_id=order.id, status=order.status, location_id=order.location_id,
                member_id=order.member_id, payment_status=order.payment_status, event_id=event_id, weighing=True)

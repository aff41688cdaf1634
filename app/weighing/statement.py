"""An order's re-weighing statement: per weighed line what was ordered, what was weighed, the difference
and how it was settled; the top-up still to pay, a cash-on-delivery order's amount due. Shown on the
clerk's re-weigh screen and the member's order page, and printed on the receipt."""
from __future__ import annotations

from sqlalchemy import select

from ..orders.models import AT_STORE, COD, OrderLine
from . import rules
from .models import AWAITING_PAYMENT, CURRENT, OPEN, SETTLED, LineWeighing

_weighings = LineWeighing.__table__
_lines = OrderLine.__table__


def statement(connection, order) -> dict:
    """`order`: a row or object with the Order's columns."""
    lines = connection.execute(select(_lines).where(_lines.c.order_id == order.id).order_by(_lines.c.id)).all()
    current = {w.line_id: w for w in connection.execute(select(_weighings).where(
        _weighings.c.order_id == order.id, _weighings.c.status.in_(CURRENT)))}
    cod = order.payment_method in (COD, AT_STORE)  # paid when the goods leave: settled in the amount due
    added = {}
    for line in lines:
        if line.adjusts_line_id is not None:
            added.setdefault(line.adjusts_line_id, []).append({"line_id": line.id, "sku": line.sku, "name": line.name,
                                                                "qty": line.qty})
    entries = [_entry(line, current.get(line.id), added.get(line.id, []), cod) for line in lines
               if line.standard_weight_g is not None and line.price_per_kg is not None and line.adjusts_line_id is None]
    weighed = [w for w in current.values()]
    topup_due = sum(w.difference for w in weighed if w.status == AWAITING_PAYMENT)
    due_change = sum(w.due_change for w in weighed if w.status == SETTLED)
    return {
        "order_id": order.id,
        "lines": entries,
        "all_settled": all(w.status == SETTLED for w in weighed),
        "topup_due": topup_due,
        "amount_due": order.total + due_change if cod else None,
        "totals": {name: sum(getattr(w, name) for w in weighed if w.status == SETTLED)
                   for name in ("refunded", "goods_value", "waived", "collected", "due_change")},
    }


def _entry(line, weighing, added: list, cod: bool) -> dict:
    entry = {
        "line_id": line.id, "sku": line.sku, "name": line.name, "qty": line.qty,
        "standard_weight_g": line.standard_weight_g, "price_per_kg": line.price_per_kg,
        "expected_g": line.qty * line.standard_weight_g, "line_total": line.line_total, "weighing": None,
    }
    if weighing is None:
        return entry
    direction = rules.HEAVIER if weighing.difference > 0 else rules.LIGHTER if weighing.difference < 0 else rules.EVEN
    entry["weighing"] = {
        "id": weighing.id, "weight_g": weighing.weight_g, "source": weighing.source, "device_id": weighing.device_id,
        "delta_g": weighing.weight_g - weighing.expected_g, "tolerance": weighing.tolerance,
        "within_tolerance": weighing.within_tolerance, "difference": weighing.difference, "direction": direction,
        "weighed_value": weighing.line_cost + weighing.difference, "status": weighing.status,
        "settlement": weighing.settlement,
        "settlement_label": rules.LABELS.get(weighing.settlement, "") if weighing.settlement else "",
        "choices": list(rules.choices(direction, cash_on_delivery=cod)) if weighing.status == OPEN else [],
        "refunded": weighing.refunded, "goods_value": weighing.goods_value, "waived": weighing.waived,
        "collected": weighing.collected, "due_change": weighing.due_change, "reason": weighing.reason,
        "added_goods": added, "weighed_by": weighing.weighed_by, "weighed_at": weighing.weighed_at,
        "settled_at": weighing.settled_at,
    }
    return entry


def receipt_lines(connection, order) -> list[str]:
    """The receipt's re-weighing section as text lines (ordered, weighed, difference, how settled), for a
    print job."""
    data = statement(connection, order)
    out = []
    for entry in data["lines"]:
        w = entry["weighing"]
        out.append(f"{entry['name']} ×{entry['qty']}  应 {entry['expected_g']}g  已付 {entry['line_total'] / 100:.2f}")
        if w is None:
            out.append("  未称重")
            continue
        out.append(f"  实称 {w['weight_g']}g({'秤' if w['source'] == 'scale' else '手输'})  差额 {w['difference'] / 100:+.2f}")
        how = w["settlement_label"] or "待处理"
        if w["status"] == AWAITING_PAYMENT:
            how += "(待支付)"
        out.append(f"  {how}")
        for goods in w["added_goods"]:
            out.append(f"  增补 {goods['name']} ×{goods['qty']}")
    if data["amount_due"] is not None:
        out.append(f"应收合计 {data['amount_due'] / 100:.2f}")
    return out


def receipt_section(connection, order) -> list[str]:
    """The printed receipt's re-weighing lines, headed; nothing when no line was weighed."""
    if not any(entry["weighing"] for entry in statement(connection, order)["lines"]):
        return []
    return ["称重补退(多退少补):", *receipt_lines(connection, order)]

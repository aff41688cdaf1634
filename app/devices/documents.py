"""Print documents built from an order: what a receipt, a pickup ticket and a delivery note say. The
bridge lays them out for its paper (hardware_bridge/printing/render.py reads this shape)."""
from __future__ import annotations

from ..clock import business_time
from ..locations.models import Location
from ..orders import state
from ..orders.models import PAID, PICKUP

FULFILMENT_LABELS = {"pickup": "门店自提", "store_delivery": "门店配送", "express": "总仓发货"}
PAYMENT_LABELS = {"online": "在线支付", "cod": "货到付款"}


def yuan(cents: int) -> str:
    return f"{cents / 100:.2f}"


def masked_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def order_document(order, store: Location | None, kind: str) -> dict:
    """`order`: an OrderRecord with its lines (orders.queries.order)."""
    meta = [["单号", order.number], ["时间", business_time(order.created_at).strftime("%Y-%m-%d %H:%M")],
            ["方式", FULFILMENT_LABELS.get(order.fulfilment, order.fulfilment)],
            ["状态", state.LABELS.get(order.status, order.status)]]
    if order.contact_name or order.contact_phone:
        meta.append(["顾客", f"{order.contact_name} {masked_phone(order.contact_phone)}".strip()])
    if kind == "delivery_note" and order.address:
        a = order.address
        meta.append(["地址", "".join(str(a.get(k) or "") for k in ("province", "city", "district", "street", "detail"))])
    if order.note:
        meta.append(["备注", order.note])
    lines = [{"name": line.name, "qty": line.qty, "amount": yuan(line.line_total),
              "note": f"约 {line.standard_weight_g * line.qty} g" if line.standard_weight_g else None}
             for line in order.lines]
    totals = [["商品金额", yuan(order.goods_total)]]
    if order.delivery_fee:
        totals.append(["配送费", yuan(order.delivery_fee)])
    totals.append(["合计", yuan(order.total)])
    paid = "已支付" if order.payment_status == PAID else PAYMENT_LABELS.get(order.payment_method, "")
    document = {
        "kind": kind, "store": store.name if store else "", "meta": meta, "lines": lines, "totals": totals,
        "notes": [f"支付:{paid}"] if paid else [],
        "qr": f"storelink:order:{order.number}", "qr_caption": "订单号二维码",
        "footer": "谢谢惠顾,欢迎再来" if kind == "receipt" else (store.phone if store and store.phone else ""),
    }
    if kind == "pickup_ticket" and order.fulfilment == PICKUP:
        document["notes"].append("请凭提货码到店提货")
    if kind == "delivery_note":
        document["notes"].append("签收人:__________")
    return document

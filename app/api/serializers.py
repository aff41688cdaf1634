"""JSON shapes of domain objects, shared by every endpoint that returns them."""
from __future__ import annotations

from ..locations.models import Location
from ..orders import state
from ..orders.pricing import is_weighed, piece_price
from ..orders.records import HistoryEntry, OrderRecord


def product_dict(product, available: int | None = None) -> dict:
    """A product (a row with the products columns) as JSON."""
    data = {
        "sku": product.sku, "name": product.name, "category": product.category, "sold_by": product.sold_by,
        "unit": product.unit, "price": piece_price(product),
    }
    if is_weighed(product):
        data.update(price_per_kg=product.price_per_kg, standard_weight_g=product.standard_weight_g)
    if available is not None:
        data["available"] = available
    return data


def location_dict(location: Location) -> dict:
    return {
        "id": location.id, "code": location.code, "name": location.name, "kind": location.kind,
        "province": location.province, "city": location.city, "district": location.district,
        "street": location.street, "address": location.address_detail, "phone": location.phone,
        "lat": location.lat, "lng": location.lng, "has_fence": bool(location.fence),
        "delivery_areas": [
            {"province": a.province, "city": a.city, "district": a.district, "street": a.street}
            for a in location.areas
        ],
    }


def order_dict(order: OrderRecord, history: list[HistoryEntry] | None = None) -> dict:
    """An order, with its lines (and its history when given), as JSON."""
    data = {
        "id": order.id, "number": order.number, "member_id": order.member_id, "channel": order.channel,
        "fulfilment": order.fulfilment, "location_id": order.location_id, "status": order.status,
        "status_label": state.LABELS.get(order.status, order.status), "payment_method": order.payment_method,
        "payment_status": order.payment_status, "routing_reason": order.routing_reason, "address": order.address,
        "contact_name": order.contact_name, "contact_phone": order.contact_phone, "note": order.note,
        "goods_total": order.goods_total, "delivery_fee": order.delivery_fee, "total": order.total,
        # Datetimes are written by the JSON provider (UTC, RFC 3339 with Z).
        "created_at": order.created_at, "updated_at": order.updated_at, "expires_at": order.expires_at,
        "lines": [
            {"id": l.id, "sku": l.sku, "name": l.name, "qty": l.qty, "unit_price": l.unit_price,
             "line_total": l.line_total, "standard_weight_g": l.standard_weight_g, "handed_over_qty": l.handed_over_qty,
             "price_per_kg": l.price_per_kg, "adjusts_line_id": l.adjusts_line_id}
            for l in order.lines
        ],
    }
    if history is not None:
        data["events"] = [
            {"id": e.id, "at": e.at, "actor": e.actor, "kind": e.kind, "from": e.from_status, "to": e.to_status,
             "reason": e.reason}
            for e in history
        ]
    return data

"""The checkout's read side: what an order would cost and who would fulfil it, before it is placed.

A quote takes the same request as placing (orders.placement.parse_order_request) and runs the same
routing decision, without writing or reserving anything: which location serves the order and why
(the routing reason), the lines priced, the delivery fee (pricing.DELIVERY_FEES), the stock the
location holds for each line, and whether the method changes (a store delivery no store can make
becomes warehouse express), which the shopper must accept before placing.

`pickup_stores` lists the stores a shopper can collect the cart from, nearest first when the
browser gave a location, each with its stock for the cart.
"""
from __future__ import annotations

from ..catalog.service import listed_goods
from ..locations.geo import distance_m
from ..locations.models import STORE
from . import pricing
from .models import EXPRESS, PICKUP, STORE_DELIVERY
from .placement import OrderRequest, listed_goods_and_store, parse_items, route

METHOD_LABELS = {PICKUP: "门店自提", STORE_DELIVERY: "门店配送", EXPRESS: "总仓快递"}


def quote(source, request: OrderRequest) -> dict:
    """`source` is a reader (app.repositories.reader()). Raises the same errors placing would."""
    products, named_store = listed_goods_and_store(source, [sku for sku, _ in request.items], request.store_id)
    wanted = [(products[sku].id, qty) for sku, qty in request.items]
    location, fulfilment, reason = route(source, request, wanted, named_store)
    available = source.stock.available_map([location.id], [pid for pid, _ in wanted])
    lines = []
    for sku, qty in request.items:
        product = products[sku]
        price = pricing.piece_price(product)
        stock = available.get((location.id, product.id), 0)
        lines.append({
            "sku": sku, "name": product.name, "qty": qty, "unit_price": price, "line_total": price * qty,
            "standard_weight_g": product.standard_weight_g if pricing.is_weighed(product) else None,
            "available": stock, "in_stock": stock >= qty,
        })
    goods_total = sum(line["line_total"] for line in lines)
    fee = pricing.delivery_fee(fulfilment, goods_total)
    _, free_from = pricing.DELIVERY_FEES.get(fulfilment, (0, None))
    changed = fulfilment != request.fulfilment
    return {
        "requested_fulfilment": request.fulfilment, "fulfilment": fulfilment,
        "fulfilment_label": METHOD_LABELS[fulfilment], "method_changed": changed,
        "notice": (f"{METHOD_LABELS[request.fulfilment]}无法满足:{reason}。如继续下单,将改为{METHOD_LABELS[fulfilment]}"
                   if changed else None),
        "location": {"id": location.id, "name": location.name, "kind": getattr(location, "kind", STORE)},
        "reason": reason, "payment": request.payment, "lines": lines, "in_stock": all(l["in_stock"] for l in lines),
        "goods_total": goods_total, "delivery_fee": fee, "total": goods_total + fee,
        "free_delivery_from": free_from if fulfilment != PICKUP else None,
    }


def pickup_stores(source, raw_items, lat: float | None = None, lng: float | None = None) -> list[dict]:
    """Active stores with their stock for the cart (and whether they hold all of it); nearest first
    when the browser gave a point, else in the chain's order. `source` is a reader."""
    items = parse_items(raw_items)
    products = listed_goods(source.catalog, [sku for sku, _ in items])
    stores = source.locations.active(STORE)
    available = source.stock.available_map([s.id for s in stores], [p.id for p in products.values()])
    result = []
    for store in stores:
        # The product's name travels with each line: a shopper reads "牛奶 仅剩 1", never a SKU code.
        stock = [{"sku": sku, "name": products[sku].name, "qty": qty,
                  "available": available.get((store.id, products[sku].id), 0)} for sku, qty in items]
        distance = (distance_m(lat, lng, store.lat, store.lng)
                    if lat is not None and store.lat is not None and store.lng is not None else None)
        result.append({
            "id": store.id, "name": store.name, "address": " ".join(
                part for part in (store.city, store.district, store.address_detail) if part),
            "phone": store.phone, "distance_m": round(distance) if distance is not None else None,
            "has_all": all(s["available"] >= s["qty"] for s in stock), "stock": stock,
        })
    if lat is not None:
        result.sort(key=lambda s: (s["distance_m"] is None, s["distance_m"] or 0, s["id"]))
    return result

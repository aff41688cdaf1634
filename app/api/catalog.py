"""Catalogue, locations and address matching: public, so shoppers can browse before logging in."""
from flask import jsonify, request

from ..catalog import service as catalog
from ..errors import ValidationFailed
from ..locations.address import parse_address, parse_point
from ..locations.routing import match_stores, route_delivery
from ..orders.placement import parse_items
from ..orders.quote import pickup_stores
from ..repositories import reader
from . import bp, json_body, optional_int_arg
from .serializers import location_dict, product_dict


@bp.get("/products")
def products():
    location_id = optional_int_arg("location_id", minimum=1) or optional_int_arg("store_id", minimum=1)
    search = (request.args.get("q") or "").strip()
    if len(search) > 50:
        raise ValidationFailed("搜索词不超过 50 个字", code="invalid_query")
    rows = catalog.listing(reader(), location_id=location_id, category=request.args.get("category"), search=search)
    return jsonify(products=[product_dict(p, int(p.available)) for p in rows], location_id=location_id)


@bp.get("/stores")
def stores():
    kind = request.args.get("kind")
    if kind not in (None, "store", "warehouse"):
        raise ValidationFailed("kind 必须是 store 或 warehouse", code="invalid_query")
    return jsonify(stores=[location_dict(loc) for loc in reader().locations.active(kind)])


@bp.post("/stores/pickup-options")
def pickup_options():
    """Stores to collect the cart from, with their stock for it; nearest first given {lat, lng}."""
    body = json_body()
    lat, lng = body.get("lat"), body.get("lng")
    if lat is not None or lng is not None:
        point = parse_point(lat, lng)
        lat, lng = point
    return jsonify(stores=pickup_stores(reader(), body.get("items"), lat, lng))


@bp.post("/stores/match")
def match():
    """Address → the store that would deliver, and why. With items, stock decides (就全, else the warehouse)."""
    body = json_body()
    address = parse_address(body.get("address"))
    places = reader()
    if body.get("items") is None:
        result = match_stores(places, address)
        store = result.stores[0] if result.stores else None
        return jsonify(
            store=location_dict(store) if store else None, basis=result.basis, reason=result.reason,
            candidates=[location_dict(s) for s in result.stores],
        )
    items = parse_items(body["items"])
    products = catalog.listed_goods(places.catalog, [sku for sku, _ in items])
    decision = route_delivery(places, address, [(products[sku].id, qty) for sku, qty in items])
    return jsonify(store=location_dict(decision.location), fulfilment=decision.fulfilment, reason=decision.reason)

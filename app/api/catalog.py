"""Catalogue, locations and address matching: public, so shoppers can browse before logging in."""
from flask import jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..catalog.models import Product
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..locations.address import parse_address, parse_point
from ..locations.models import Location
from ..locations.routing import match_stores, route_delivery
from ..orders.placement import parse_items, products_for
from ..orders.quote import pickup_stores
from ..stock.models import StockItem
from . import bp, json_body, optional_int_arg
from .serializers import location_dict, product_dict


@bp.get("/products")
def products():
    location_id = optional_int_arg("location_id", minimum=1) or optional_int_arg("store_id", minimum=1)
    category = request.args.get("category")
    search = (request.args.get("q") or "").strip()
    if len(search) > 50:
        raise ValidationFailed("搜索词不超过 50 个字", code="invalid_query")
    available = StockItem.on_hand - StockItem.reserved
    stock = select(StockItem.product_id, func.sum(available).label("available"))
    if location_id is not None:
        if db.session.get(Location, location_id) is None:
            raise NotFound("门店不存在", code="store_not_found")
        stock = stock.where(StockItem.location_id == location_id)
    stock = stock.group_by(StockItem.product_id).subquery()
    query = (select(Product, func.coalesce(stock.c.available, 0))
             .outerjoin(stock, stock.c.product_id == Product.id)
             .where(Product.active.is_(True)).order_by(Product.category, Product.sku))
    if category:
        query = query.where(Product.category == category)
    if search:  # 商品名或编码包含搜索词 (LIKE's wildcards in the words are taken literally)
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Product.name.ilike(pattern, escape="\\") | Product.sku.ilike(pattern, escape="\\"))
    rows = db.session.execute(query).all()
    return jsonify(products=[product_dict(p, int(avail)) for p, avail in rows], location_id=location_id)


@bp.get("/stores")
def stores():
    kind = request.args.get("kind")
    if kind not in (None, "store", "warehouse"):
        raise ValidationFailed("kind 必须是 store 或 warehouse", code="invalid_query")
    query = select(Location).options(selectinload(Location.areas)).where(Location.active.is_(True)).order_by(Location.id)
    if kind:
        query = query.where(Location.kind == kind)
    return jsonify(stores=[location_dict(loc) for loc in db.session.execute(query).scalars()])


@bp.post("/stores/pickup-options")
def pickup_options():
    """Stores to collect the cart from, with their stock for it; nearest first given {lat, lng}."""
    body = json_body()
    lat, lng = body.get("lat"), body.get("lng")
    if lat is not None or lng is not None:
        point = parse_point(lat, lng)
        lat, lng = point
    return jsonify(stores=pickup_stores(db.session, body.get("items"), lat, lng))


@bp.post("/stores/match")
def match():
    """Address → the store that would deliver, and why. With items, stock decides (就全, else the warehouse)."""
    body = json_body()
    address = parse_address(body.get("address"))
    if body.get("items") is None:
        result = match_stores(db.session, address)
        store = result.stores[0] if result.stores else None
        return jsonify(
            store=location_dict(store) if store else None, basis=result.basis, reason=result.reason,
            candidates=[location_dict(s) for s in result.stores],
        )
    items = parse_items(body["items"])
    products = products_for(db.session.connection(), [sku for sku, _ in items])
    decision = route_delivery(db.session, address, [(products[sku].id, qty) for sku, qty in items])
    return jsonify(store=location_dict(decision.location), fulfilment=decision.fulfilment, reason=decision.reason)

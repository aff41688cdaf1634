"""Placing an order: validate the lines, route it to a location, reserve stock, write it — one transaction."""
from __future__ import annotations

import hashlib
import os
from collections import namedtuple
from types import SimpleNamespace
from typing import NamedTuple
from datetime import timedelta

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..catalog.models import Product
from ..clock import business_time, utcnow
from ..infra.unit_of_work import unit_of_work
from ..errors import Conflict, DomainError, NotFound, TryAgain, ValidationFailed
from ..infra.fastsql import FastStatement
from ..ids import is_row_id
from ..locations.address import Address, parse_address
from ..locations.models import Location
from ..locations.routing import NAMED_STORE_COLUMNS, route_delivery, route_to_warehouse, store_serves, usable_store
from ..pickup import codes as pickup_codes
from ..stock import service as stock
from . import pricing, state
from .models import AT_STORE, COD, EXPRESS, FULFILMENTS, MALL, ONLINE, PAYMENT_METHODS, PICKUP, STORE_DELIVERY, UNPAID, Order, OrderLine

MAX_LINES = 50
MAX_QTY_PER_LINE = 999
MAX_IDEMPOTENCY_KEY = 100

# Placing an order is the hottest write path: prebuilt statements, no ORM objects or flush.
_products = Product.__table__
_GOODS_COLUMNS = tuple(_products.c[name] for name in ("id", "sku", "name", "sold_by", "unit_price", "price_per_kg",
                                                      "standard_weight_g"))
_LISTED_SKU = (_products.c.sku == bindparam("sku"), _products.c.active.is_(True))
_PRODUCT_BY_SKU = FastStatement(select(*_GOODS_COLUMNS).where(*_LISTED_SKU))
# A shopper who names a store gets the goods and the store in one statement: on the order's hot path a
# statement costs more than the join. A missing store leaves its columns NULL.
_locations = Location.__table__
_PRODUCT_WITH_STORE = FastStatement(
    select(*_GOODS_COLUMNS, *(column.label(f"store_{column.key}") for column in NAMED_STORE_COLUMNS))
    .select_from(_products.outerjoin(_locations, _locations.c.id == bindparam("store")))
    .where(*_LISTED_SKU)
)
_NamedStore = namedtuple("NamedStore", [column.key for column in NAMED_STORE_COLUMNS])
_orders, _lines = Order.__table__, OrderLine.__table__
_BY_KEY = FastStatement(select(_orders.c.id, _orders.c.request_hash).where(
    _orders.c.member_id == bindparam("member"), _orders.c.idempotency_key == bindparam("k")
))
# A clash of order numbers (two orders in one millisecond drawing the same random tail) inserts
# nothing; a fresh number is then drawn. Any other unique key still raises. (SQLite reports the new
# id without RETURNING, which costs it more than the rest of the statement's bookkeeping.)
_ORDER_INSERT = FastStatement({
    "sqlite": sqlite_insert(_orders).on_conflict_do_nothing(index_elements=[_orders.c.number]),
    "postgresql": postgresql_insert(_orders).on_conflict_do_nothing(index_elements=[_orders.c.number])
    .returning(_orders.c.id),
})
NUMBER_ATTEMPTS = 5
_LINE_INSERT = FastStatement(insert(_lines))


class OrderRequest(NamedTuple):
    """A validated order request (immutable)."""

    items: list[tuple[str, int]]  # (sku, qty), skus unique
    fulfilment: str
    payment: str
    store_id: int | None
    address: Address | None
    contact_name: str
    contact_phone: str
    note: str
    # False: refuse (409 fulfilment_changed) rather than turn a store delivery into warehouse express;
    # the mall sends False unless the shopper accepted the change shown by the quote.
    accept_method_change: bool = True


def parse_order_request(body) -> OrderRequest:
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", code="invalid_body")
    items = parse_items(body.get("items"))
    fulfilment = body.get("fulfilment")
    if fulfilment not in FULFILMENTS:
        raise ValidationFailed(f"fulfilment 必须是 {', '.join(FULFILMENTS)} 之一", code="invalid_fulfilment")
    payment = body.get("payment", ONLINE)
    if payment not in PAYMENT_METHODS:
        raise ValidationFailed("payment 必须是 online、cod 或 at_store", code="invalid_payment_method")
    if payment == COD and fulfilment != STORE_DELIVERY:
        raise ValidationFailed("货到付款仅适用于门店配送", code="cod_not_available")
    if payment == AT_STORE and fulfilment != PICKUP:
        raise ValidationFailed("到店付款仅适用于门店自提", code="at_store_not_available")
    store_id = body.get("store_id")
    if store_id is not None and not is_row_id(store_id):
        raise ValidationFailed("store_id 必须是正整数", code="invalid_store")
    address = parse_address(body["address"]) if body.get("address") is not None else None
    if fulfilment == PICKUP and store_id is None:
        raise ValidationFailed("门店自提需要 store_id", code="invalid_store")
    if fulfilment != PICKUP and address is None:
        raise ValidationFailed("配送订单需要收货地址 address", code="invalid_address")
    texts = {name: body.get(name, "") for name in ("contact_name", "contact_phone", "note")}
    for name, value in texts.items():
        if not isinstance(value, str) or len(value) > (200 if name == "note" else 50):
            raise ValidationFailed(f"{name} 必须是较短的文本", code="invalid_field", details={"field": name})
    accept = body.get("accept_method_change", True)
    if not isinstance(accept, bool):
        raise ValidationFailed("accept_method_change 必须是 true 或 false", code="invalid_field",
                               details={"field": "accept_method_change"})
    return OrderRequest(items, fulfilment, payment, store_id, address, **texts, accept_method_change=accept)


def parse_items(raw) -> list[tuple[str, int]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("items 必须是非空数组", code="invalid_items")
    if len(raw) > MAX_LINES:
        raise ValidationFailed(f"一张订单最多 {MAX_LINES} 种商品", code="too_many_lines")
    quantities: dict[str, int] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationFailed("items 的每一项必须是 {sku, qty}", code="invalid_items")
        sku, qty = item.get("sku"), item.get("qty")
        if not isinstance(sku, str) or not sku or len(sku) > 32:
            raise ValidationFailed("sku 必须是文本", code="invalid_sku")
        if not isinstance(qty, int) or isinstance(qty, bool):
            raise ValidationFailed("qty 必须是整数", code="invalid_quantity", details={"sku": sku})
        total = quantities.get(sku, 0) + qty
        if qty <= 0 or total > MAX_QTY_PER_LINE:
            raise ValidationFailed(f"数量必须在 1 到 {MAX_QTY_PER_LINE} 之间", code="invalid_quantity",
                                   details={"sku": sku})
        quantities[sku] = total
    return list(quantities.items())


def request_fingerprint(body) -> str:
    """Identifies a request body whatever the order of its keys (a retry may serialise differently)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def place_order(request: OrderRequest, *, member_id: int | None, channel: str = MALL, actor: str,
                idempotency_key: str | None = None, fingerprint: str = "",
                payment_timeout_seconds: int = 900) -> tuple[object, bool]:
    """Place the order; returns (order, created). A repeated Idempotency-Key returns the first order.

    The order is the stored Order on a replay, else a plain record of the row just written: either
    has the Order's attributes and `lines`.

    Keys are checked optimistically: the order row carries its key under a unique index, so a retry
    fails to insert and is answered with the original order; a retry refused before the insert (the
    product since delisted, the stock since sold) is answered with the original order too."""
    if idempotency_key is not None and (not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY):
        raise ValidationFailed("Idempotency-Key 长度必须在 1 到 100 之间", code="invalid_idempotency_key")
    key = (idempotency_key, fingerprint) if idempotency_key and member_id is not None else None
    try:
        with unit_of_work() as uow:
            order, reservation = _write_order(uow, request, member_id, channel, actor, payment_timeout_seconds, key)
            # Reserve last, just before commit: every buyer of a SKU contends for its stock row, and on
            # PostgreSQL the row stays locked from this UPDATE to the commit.
            stock.reserve(uow.connection, *reservation)
    except (IntegrityError, DomainError):
        existing = _replay(member_id, *key) if key else None
        if existing is None:
            raise
        return existing, False
    return order, True


def _replay(member_id: int, key: str, fingerprint: str) -> Order | None:
    """The order this member already placed with this key, if any."""
    with unit_of_work() as uow:
        record = _BY_KEY.first(uow.connection, {"member": member_id, "k": key})
        if record is None:
            return None
        if record.request_hash != fingerprint:
            raise Conflict("同一个 Idempotency-Key 不能用于不同的请求", code="idempotency_key_reused")
        return uow.session.get(Order, record.id)


def _write_order(uow, request: OrderRequest, member_id, channel, actor, payment_timeout_seconds, key):
    """Route and write the order. Returns a plain record of what was written (for the response) and
    the reservation to make, (location_id, [(product_id, qty)]): the caller reserves it last."""
    connection = uow.connection
    products, named_store = goods_and_named_store(connection, [sku for sku, _ in request.items], request.store_id)
    lines = [(products[sku].id, qty) for sku, qty in request.items]
    location, fulfilment, reason = route(uow, request, lines, named_store)
    if fulfilment != request.fulfilment and not request.accept_method_change:
        raise Conflict(f"{reason};需要您确认改为快递后再下单", code="fulfilment_changed",
                       details={"requested": request.fulfilment, "fulfilment": fulfilment, "reason": reason})
    if request.payment == COD and fulfilment != STORE_DELIVERY:
        raise Conflict("附近门店无法整单供货,该订单需由总仓发货,不支持货到付款", code="cod_not_available")

    order_lines = [_line(products[sku], qty) for sku, qty in request.items]
    goods_total = sum(line["line_total"] for line in order_lines)
    fee = pricing.delivery_fee(fulfilment, goods_total)
    now = utcnow()
    online = request.payment == ONLINE
    values = dict(
        member_id=member_id, channel=channel, fulfilment=fulfilment,
        location_id=location.id, payment_method=request.payment, payment_status=UNPAID,
        status=state.PENDING_PAYMENT if online else state.AWAITING_ACCEPTANCE,
        routing_reason=reason[:200], address=request.address.to_dict() if request.address else None,
        contact_name=request.contact_name, contact_phone=request.contact_phone, note=request.note,
        goods_total=goods_total, delivery_fee=fee, total=goods_total + fee, created_at=now, updated_at=now,
        expires_at=now + timedelta(seconds=payment_timeout_seconds) if online else None,
        idempotency_key=key[0] if key else None, request_hash=key[1] if key else None,
    )
    order_id = _insert_order(connection, values, now)
    for line in order_lines:
        line["order_id"] = order_id
    _LINE_INSERT.execute_many(connection, order_lines)
    order = SimpleNamespace(id=order_id, lines=[SimpleNamespace(**line) for line in order_lines], **values)
    placed = state.record(connection, order, actor=actor, kind="placed", to_status=order.status, reason=reason, at=now)
    if not online:
        if request.payment == AT_STORE:  # paid at the counter: the member needs the code now
            pickup_codes.issue_for_order(connection, order_id, location.id, now)
        uow.publish("order.new", order_id=order.id, location_id=order.location_id, member_id=member_id,
                    event_id=placed.id)
    return order, (location.id, lines)


def products_for(connection, skus: list[str]) -> dict:
    """{sku: product row} for the requested SKUs; unknown or delisted ones are refused together."""
    return _all_listed({sku: _PRODUCT_BY_SKU.first(connection, {"sku": sku}) for sku in skus})


def goods_and_named_store(connection, skus: list[str], store_id: int | None) -> tuple[dict, object]:
    """products_for's answer and, when the shopper named a store, its row (None: no such location)."""
    if store_id is None:
        return products_for(connection, skus), None
    found = _all_listed({sku: _PRODUCT_WITH_STORE.first(connection, {"sku": sku, "store": store_id}) for sku in skus})
    row = next(iter(found.values()))
    if row.store_id is None:
        return found, None
    return found, _NamedStore(row.store_id, row.store_name, row.store_kind, row.store_active)


def _all_listed(found: dict) -> dict:
    unknown = [sku for sku, product in found.items() if product is None]
    if unknown:
        raise NotFound("商品不存在或已下架", code="unknown_sku", details={"skus": unknown})
    return found


def route(uow, request: OrderRequest, lines, named_store):
    """(location, fulfilment, reason) for the request: placing and quoting share this decision. `uow`
    is anything with a `.session` (a unit of work, or flask-sqlalchemy's `db` for a read-only quote),
    read only off the pickup path: an ORM session costs the hot path more than a prebuilt statement."""
    if request.fulfilment == PICKUP:
        store = usable_store(named_store)
        return store, PICKUP, f"门店自提:{store.name}"
    if request.fulfilment == EXPRESS:
        decision = route_to_warehouse(uow.session, request.address, lines)
        return decision.location, EXPRESS, f"总仓发货:{decision.reason}"
    if request.store_id is not None:
        store = usable_store(named_store)
        if not store_serves(uow.session, store, request.address):
            raise Conflict(f"{store.name}不配送该地址", code="address_not_served", details={"store_id": store.id})
        return store, STORE_DELIVERY, f"会员指定门店:{store.name}"
    decision = route_delivery(uow.session, request.address, lines)
    return decision.location, decision.fulfilment, decision.reason


def _line(product, qty: int) -> dict:
    price = pricing.piece_price(product)
    weighed = pricing.is_weighed(product)
    return dict(product_id=product.id, sku=product.sku, name=product.name, qty=qty, unit_price=price,
                line_total=price * qty, standard_weight_g=product.standard_weight_g if weighed else None)


def _insert_order(connection, values: dict, now) -> int:
    for _ in range(NUMBER_ATTEMPTS):
        values["number"] = _order_number(now)
        order_id = _ORDER_INSERT.insert(connection, values)
        if order_id is not None:
            return order_id
    # Five clashes in a row would take ~1e-25 odds at full load; say so rather than fail obscurely.
    raise TryAgain("系统繁忙,请稍后重试", code="order_number_unavailable")


def _order_number(now) -> str:
    """Business date and time to the millisecond, then 5 random digits (22 digits): numbers say nothing
    about volume, and orders placed together sit together in the number's unique index. A wholly
    random number touched a different index page per order, which cost the commit more than the
    order's own rows."""
    local = business_time(now)
    # Four random bytes modulo 10^5: the bias (one part in 43,000) is immaterial for spreading numbers.
    tail = int.from_bytes(os.urandom(4), "big") % 100_000
    return "%04d%02d%02d%02d%02d%02d%03d%05d" % (  # one C call; per-field f-string specs cost twice as much
        local.year, local.month, local.day, local.hour, local.minute, local.second, local.microsecond // 1000, tail)

"""Placing an order: validate the lines, route it to a location, reserve stock, write it — one transaction."""
from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from operator import itemgetter
from typing import NamedTuple

import orjson
from sqlalchemy.exc import IntegrityError

from ..catalog.service import all_listed
from ..clock import business_time, utcnow
from ..errors import Conflict, DomainError, TryAgain, ValidationFailed
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..locations.address import Address, parse_address
from ..locations.routing import route_delivery, route_to_warehouse, store_serves, usable_store
from ..stock import service as stock
from . import member_limits
from .member_limits import MemberLimits
from . import pricing, state
from .models import (AT_STORE, COD, EXPRESS, FULFILMENTS, MALL, ONLINE, PAID, PAYMENT_METHODS, PICKUP,
                     PLATFORM_COLLECTED, STORE_DELIVERY, UNPAID)
from .records import ORDER_COLUMNS, OrderRecord

MAX_LINES = 50
MAX_QTY_PER_LINE = 999
MAX_IDEMPOTENCY_KEY = 100
NUMBER_ATTEMPTS = 5
_record_values = itemgetter(*ORDER_COLUMNS[1:])  # every column but the id, in record order
_new_record = tuple.__new__  # a record from values in field order (NamedTuple's own __new__ is slower)


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
                payment_timeout_seconds: int = 900, limits: MemberLimits | None = None) -> tuple[OrderRecord, bool]:
    """Place the order; returns (order, created). A repeated Idempotency-Key returns the first order.

    Keys are checked optimistically: the order row carries its key under a unique index, so a retry
    fails to insert and is answered with the original order; a retry refused before the insert (the
    product since delisted, the stock since sold) is answered with the original order too."""
    if idempotency_key is not None and (not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY):
        raise ValidationFailed("Idempotency-Key 长度必须在 1 到 100 之间", code="invalid_idempotency_key")
    key = (idempotency_key, fingerprint) if idempotency_key and member_id is not None else None
    try:
        with unit_of_work() as uow:
            order = _write_order(uow, request, member_id, channel, actor, payment_timeout_seconds, key, limits)
            # Reserve last, just before commit: every buyer of a SKU contends for its stock row, and on
            # PostgreSQL the row stays locked from this UPDATE to the commit.
            stock.reserve(uow, order.location_id, order.line_quantities())
    except (IntegrityError, DomainError):
        existing = _replay(member_id, *key) if key else None
        if existing is None:
            raise
        return existing, False
    return order, True


def _replay(member_id: int, key: str, fingerprint: str) -> OrderRecord | None:
    """The order this member already placed with this key, if any."""
    with unit_of_work() as uow:
        placed = uow.orders.by_idempotency_key(member_id, key)
        if placed is None:
            return None
        if placed.request_hash != fingerprint:
            raise Conflict("同一个 Idempotency-Key 不能用于不同的请求", code="idempotency_key_reused")
        return uow.orders.lock(placed.id)


def _write_order(uow, request: OrderRequest, member_id, channel, actor, payment_timeout_seconds, key,
                 limits: MemberLimits | None = None) -> OrderRecord:
    """Route the order and write it with its lines and its first history entry; returns what was
    written. The caller reserves the stock, last."""
    products, named_store = listed_goods_and_store(uow, [sku for sku, _ in request.items], request.store_id)
    location, fulfilment, reason = route(uow, request, [(products[sku].id, qty) for sku, qty in request.items],
                                         named_store)
    if fulfilment != request.fulfilment and not request.accept_method_change:
        raise Conflict(f"{reason};需要您确认改为快递后再下单", code="fulfilment_changed",
                       details={"requested": request.fulfilment, "fulfilment": fulfilment, "reason": reason})
    if request.payment == COD and fulfilment != STORE_DELIVERY:
        raise Conflict("附近门店无法整单供货,该订单需由总仓发货,不支持货到付款", code="cod_not_available")

    lines = [_line(products[sku], qty) for sku, qty in request.items]
    goods_total = sum(line["line_total"] for line in lines)
    fee = pricing.delivery_fee(fulfilment, goods_total)
    now = utcnow()
    online = request.payment == ONLINE
    if online and member_id is not None and limits is not None:
        member_limits.check(uow, member_id, sum(qty for _, qty in request.items), limits)
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
    order, placed = _insert_placed(uow, values, lines, actor=actor, reason=reason, now=now)
    if not online:
        if request.payment == AT_STORE:  # paid at the counter: the member needs the code now
            uow.pickup_codes.issue(order.id, location.id, now)
        _announce_new(uow, order, placed)
    return order


def write_platform_order(uow, *, channel: str, store_id: int, items: list[tuple[object, int]], contact_name: str,
                         contact_phone: str, address_text: str, note: str, actor: str, reason: str) -> OrderRecord:
    """An order a delivery platform took and was paid for (`items`: (product row, qty)): it awaits the
    store's acceptance, paid, with our prices; the platform's rider collects it at the store, so it is
    a store delivery whose 'ship' is the hand-over to the rider (no delivery fee of ours). Announced
    to the store like any new order; the caller reserves the stock, last."""
    lines = [_line(product, qty) for product, qty in items]
    goods_total = sum(line["line_total"] for line in lines)
    now = utcnow()
    address = Address("", "", "", "", detail=address_text).to_dict()
    values = dict(
        member_id=None, channel=channel, fulfilment=STORE_DELIVERY, location_id=store_id,
        payment_method=PLATFORM_COLLECTED, payment_status=PAID, status=state.AWAITING_ACCEPTANCE,
        routing_reason=reason[:200], address=address, contact_name=contact_name, contact_phone=contact_phone,
        note=note, goods_total=goods_total, delivery_fee=0, total=goods_total, created_at=now, updated_at=now,
        expires_at=None, idempotency_key=None, request_hash=None,
    )
    order, placed = _insert_placed(uow, values, lines, actor=actor, reason=reason, now=now)
    _announce_new(uow, order, placed)
    return order


def _insert_placed(uow, values: dict, lines: list[dict], *, actor: str, reason: str, now):
    """Write the order, its lines and its 'placed' history entry; (order, entry) as written."""
    orders = uow.orders
    order_id = _insert_order(orders, values, now)
    order = _new_record(OrderRecord, (order_id, *_record_values(values), orders.insert_lines(order_id, lines)))
    return order, state.record(uow, order_id, actor=actor, kind="placed", to_status=order.status, reason=reason, at=now)


def _announce_new(uow, order: OrderRecord, entry) -> None:
    """Tell the store (after commit) that an order awaits its acceptance."""
    uow.publish("order.new", order_id=order.id, location_id=order.location_id, member_id=order.member_id,
                event_id=entry.id, status=order.status, payment_status=order.payment_status)


def listed_goods_and_store(source, skus: list[str], store_id: int | None) -> tuple[dict, object]:
    """{sku: product row} (unknown or delisted SKUs refused together) and, when the shopper named a
    store, its row (None: no such location). `source`: a unit of work or a reader."""
    if store_id is None:
        return all_listed(source.catalog.listed_goods(skus)), None
    found, store = source.catalog.listed_goods_and_store(skus, store_id)
    return all_listed(found), store


def route(source, request: OrderRequest, lines, named_store):
    """(location, fulfilment, reason) for the request: placing and quoting share this decision.
    `source` is a unit of work, or a reader for a quote; routing reads locations only off the pickup
    path (their ORM session costs the hot path more than a prebuilt statement)."""
    if request.fulfilment == PICKUP:
        store = usable_store(named_store)
        return store, PICKUP, f"门店自提:{store.name}"
    if request.fulfilment == EXPRESS:
        decision = route_to_warehouse(source, request.address, lines)
        return decision.location, EXPRESS, f"总仓发货:{decision.reason}"
    if request.store_id is not None:
        store = usable_store(named_store)
        if not store_serves(source, store, request.address):
            raise Conflict(f"{store.name}不配送该地址", code="address_not_served", details={"store_id": store.id})
        return store, STORE_DELIVERY, f"会员指定门店:{store.name}"
    decision = route_delivery(source, request.address, lines)
    return decision.location, decision.fulfilment, decision.reason


def _line(product, qty: int) -> dict:
    price = pricing.piece_price(product)
    weighed = pricing.is_weighed(product)
    return dict(product_id=product.id, sku=product.sku, name=product.name, qty=qty, unit_price=price,
                line_total=price * qty, standard_weight_g=product.standard_weight_g if weighed else None,
                handed_over_qty=0, price_per_kg=product.price_per_kg if weighed else None, adjusts_line_id=None)


def _insert_order(orders, values: dict, now) -> int:
    """Write the order under a fresh number; a number another order took meanwhile is drawn again."""
    for _ in range(NUMBER_ATTEMPTS):
        values["number"] = _order_number(now)
        order_id = orders.insert_order(values)
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
    return "%04d%02d%02d%02d%02d%02d%03d%05d" % (  # one C call, cheaper than per-field f-string specs
        local.year, local.month, local.day, local.hour, local.minute, local.second, local.microsecond // 1000, tail)

"""Orders pushed by a delivery platform, and the platform's cancellations.

The platform names the store and has already been paid: the order enters the order centre paid,
awaiting the store's acceptance, with the store's stock reserved (placement.write_platform_order).
The same platform order delivered twice (or at the same moment) makes one order: the link row
(platform, platform_order_id) is unique and written in the order's transaction, so the second
delivery either finds it or fails to insert it and is answered with the first order.
"""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..ids import is_row_id
from ..infra.unit_of_work import unit_of_work
from ..locations.routing import usable_store
from ..orders import lifecycle, state
from ..orders.models import PLATFORM
from ..orders.placement import listed_goods_and_store, parse_items, request_fingerprint, write_platform_order
from ..orders.records import OrderRecord
from ..stock import service as stock
from .platforms import Platform

MAX_MONEY = 100_000_000  # fen: a million yuan is no delivery order
TEXT_LIMITS = {"customer_name": 50, "customer_phone": 20, "address": 200, "note": 200}


class PlatformOrder(NamedTuple):
    """A validated order push (immutable)."""

    platform_order_id: str
    store_id: int | None
    store_code: str | None
    items: list[tuple[str, int]]  # (sku, qty), skus unique
    paid_amount: int  # fen, what the platform's customer paid
    platform_total: int | None  # fen, the platform's own goods total (informational)
    customer_name: str
    customer_phone: str
    address: str
    note: str
    fingerprint: str


def parse_platform_order(body: dict) -> PlatformOrder:
    platform_order_id = body.get("platform_order_id")
    if not isinstance(platform_order_id, str) or not platform_order_id.strip() or len(platform_order_id) > 64:
        raise ValidationFailed("platform_order_id 必须是 1 到 64 字的文本", code="invalid_platform_order_id")
    store_id, store_code = body.get("store_id"), body.get("store_code")
    if (store_id is None) == (store_code is None):
        raise ValidationFailed("请提供 store_id 或 store_code 之一", code="invalid_store")
    if store_id is not None and not is_row_id(store_id):
        raise ValidationFailed("store_id 必须是正整数", code="invalid_store")
    if store_code is not None and (not isinstance(store_code, str) or not 0 < len(store_code) <= 32):
        raise ValidationFailed("store_code 必须是文本", code="invalid_store")
    if body.get("paid") is not True:
        raise ValidationFailed("平台订单必须已由平台收款(paid: true)", code="not_paid")
    texts = {name: body.get(name, "") for name in TEXT_LIMITS}
    for name, value in texts.items():
        if not isinstance(value, str) or len(value) > TEXT_LIMITS[name]:
            raise ValidationFailed(f"{name} 必须是不超过 {TEXT_LIMITS[name]} 字的文本", code="invalid_field",
                                   details={"field": name})
    if not texts["address"].strip():
        raise ValidationFailed("平台订单需要收货地址 address", code="invalid_address")
    return PlatformOrder(
        platform_order_id.strip(), store_id, store_code, parse_items(body.get("items")),
        _money(body, "paid_amount", required=True), _money(body, "platform_total", required=False),
        **{name: value.strip() for name, value in texts.items()}, fingerprint=request_fingerprint(body))


def _money(body: dict, name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MONEY:
        raise ValidationFailed(f"{name} 必须是以分为单位的非负整数", code="invalid_amount", details={"field": name})
    return value


def receive(platform: Platform, request: PlatformOrder) -> tuple[OrderRecord, bool]:
    """The platform's order, written and reserved once; (order, created). A replay of the same body is
    answered with the order it created; another body under the same id is refused (409)."""
    try:
        with unit_of_work() as uow:
            known = uow.channels.link(platform.name, request.platform_order_id)
            if known is not None:
                return _same_order(uow, known, request), False
            order = _write(uow, platform, request)
            # Reserve last, as placing does: on PostgreSQL the stock rows stay locked until commit.
            stock.reserve(uow, order.location_id, order.line_quantities())
    except (IntegrityError, DomainError):
        # A concurrent delivery of the same order may have won (our link insert failed, or the stock it
        # reserved is why ours failed): answer with its order.
        with unit_of_work() as uow:
            known = uow.channels.link(platform.name, request.platform_order_id)
            if known is None:
                raise
            return _same_order(uow, known, request), False
    return order, True


def _same_order(uow, known, request: PlatformOrder) -> OrderRecord:
    if known.request_hash != request.fingerprint:
        raise Conflict("同一平台订单号已用于不同的订单内容", code="platform_order_conflict")
    return lifecycle.load_order(uow, known.order_id)


def _write(uow, platform: Platform, request: PlatformOrder) -> OrderRecord:
    store_id = request.store_id if request.store_code is None else uow.channels.store_id_by_code(request.store_code)
    if store_id is None:
        raise NotFound("门店不存在或已停用", code="store_not_found")
    products, named_store = listed_goods_and_store(uow, [sku for sku, _ in request.items], store_id)
    store = usable_store(named_store)
    order = write_platform_order(
        uow, channel=PLATFORM, store_id=store.id, items=[(products[sku], qty) for sku, qty in request.items],
        contact_name=request.customer_name, contact_phone=request.customer_phone, address_text=request.address,
        note=request.note, actor=f"platform:{platform.name}",
        reason=f"{platform.label}订单 {request.platform_order_id}:平台指定{store.name}")
    uow.channels.insert_link(dict(
        platform=platform.name, platform_order_id=request.platform_order_id, order_id=order.id,
        request_hash=request.fingerprint, paid_amount=request.paid_amount, platform_total=request.platform_total,
        created_at=utcnow()))
    return order


def cancel(platform: Platform, platform_order_id: str, reason: str) -> OrderRecord:
    """The platform cancelled its order: closed (stock released) if the state machine allows it; a
    repeated cancellation answers with the cancelled order."""
    with unit_of_work() as uow:
        order = _platform_order(uow, platform, platform_order_id)
        if order.status == state.CANCELLED:
            return order
        return lifecycle.close(uow, order, state.CANCELLED, actor=f"platform:{platform.name}",
                               reason=reason or f"{platform.label}取消订单")


def delivered(platform: Platform, platform_order_id: str) -> OrderRecord:
    """The platform's rider delivered the order we handed over: completed (a repeat answers with it)."""
    with unit_of_work() as uow:
        order = _platform_order(uow, platform, platform_order_id)
        if order.status == state.COMPLETED:
            return order
        return lifecycle.complete(uow, order, actor=f"platform:{platform.name}", reason=f"{platform.label}骑手已送达")


def _platform_order(uow, platform: Platform, platform_order_id: str) -> OrderRecord:
    """Our order for the platform's order id, locked; 404 when the platform sent none with that id."""
    known = uow.channels.link(platform.name, platform_order_id) if len(platform_order_id) <= 64 else None
    if known is None:
        raise NotFound("平台订单不存在", code="platform_order_not_found")
    return lifecycle.load_order(uow, known.order_id)

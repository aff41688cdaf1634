"""Phone orders (400 客服): HQ staff place an order for a caller, in the same order centre.

The caller is found by mobile number, members being keyed on it: a member's order is theirs (it
shows in their mall, and an online one waits there for them to pay). A caller who is no member can
order only what is paid on handing over — cash on delivery, or at the counter when collecting — as
nobody could pay it online; the order then carries the number as its contact only."""
from __future__ import annotations

from ..accounts.auth import Principal
from ..accounts.registration import MOBILE
from ..errors import ValidationFailed
from ..repositories import reader
from .models import ONLINE, PHONE
from .placement import OrderRequest, place_order
from .records import OrderRecord


def parse_caller_phone(raw) -> str:
    if not isinstance(raw, str) or not MOBILE.fullmatch(raw.strip()):
        raise ValidationFailed("请输入来电客户正确的 11 位手机号", code="invalid_phone", details={"field": "caller_phone"})
    return raw.strip()


def place_for_caller(request: OrderRequest, caller_phone: str, who: Principal, *,
                     payment_timeout_seconds: int) -> tuple[OrderRecord, bool]:
    """Place `request` for the caller on `who`'s behalf; returns (order, whether the caller is a member)."""
    member_id = reader().accounts.member_id_by_phone(caller_phone)
    if member_id is None and request.payment == ONLINE:
        raise ValidationFailed("来电客户不是会员,无法在线支付:请选择货到付款或到店付款", code="payment_needs_member",
                               details={"field": "payment"})
    if not request.contact_phone:
        request = request._replace(contact_phone=caller_phone)
    order, _ = place_order(request, member_id=member_id, channel=PHONE, actor=who.actor,
                           payment_timeout_seconds=payment_timeout_seconds)
    return order, member_id is not None

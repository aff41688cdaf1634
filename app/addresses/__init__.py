"""A member's saved delivery addresses (收货地址), validated against the national divisions like any
delivery address (locations.address.parse_address)."""
from __future__ import annotations

import re

from ..errors import Conflict, NotFound, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from ..locations.address import parse_address
from .models import SavedAddress

MAX_PER_MEMBER = 20
MOBILE = re.compile(r"1[3-9]\d{9}")


def parse_contact(body: dict) -> tuple[str, str]:
    name, phone = body.get("contact_name"), body.get("contact_phone")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 50:
        raise ValidationFailed("请填写收货人姓名(不超过 50 字)", code="invalid_contact_name",
                               details={"field": "contact_name"})
    if not isinstance(phone, str) or not MOBILE.fullmatch(phone.strip()):
        raise ValidationFailed("请填写正确的 11 位手机号", code="invalid_contact_phone", details={"field": "contact_phone"})
    return name.strip(), phone.strip()


def save(member_id: int, body: dict) -> SavedAddress:
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", code="invalid_body")
    address = parse_address(body.get("address"))
    if not address.detail:
        raise ValidationFailed("请填写详细地址(门牌号)", code="invalid_address", details={"field": "detail"})
    name, phone = parse_contact(body)
    with unit_of_work() as uow:
        if uow.addresses.count(member_id) >= MAX_PER_MEMBER:
            raise Conflict(f"最多保存 {MAX_PER_MEMBER} 个地址", code="too_many_addresses")
        return uow.addresses.add(member_id, address, name, phone)


def of_member(source, member_id: int) -> list[SavedAddress]:
    """`source`: a reader (app.repositories.reader()) or a unit of work."""
    return source.addresses.of_member(member_id)


def remove(member_id: int, address_id: int) -> None:
    with unit_of_work() as uow:
        gone = uow.addresses.remove(member_id, address_id)
    if not gone:
        raise NotFound("地址不存在", code="address_not_found")

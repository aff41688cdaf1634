"""A member's saved delivery addresses (收货地址), validated against the national divisions like any
delivery address (locations.address.parse_address)."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..infra.unit_of_work import unit_of_work
from ..locations.address import parse_address

MAX_PER_MEMBER = 20
MOBILE = re.compile(r"1[3-9]\d{9}")


class SavedAddress(db.Model):
    __tablename__ = "member_addresses"
    __table_args__ = (Index("ix_member_addresses_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    province: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(64))
    street: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "province": self.province, "city": self.city, "district": self.district,
                "street": self.street, "detail": self.detail, "contact_name": self.contact_name,
                "contact_phone": self.contact_phone}


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
        count = uow.session.execute(select(func.count()).select_from(SavedAddress)
                                    .where(SavedAddress.member_id == member_id)).scalar_one()
        if count >= MAX_PER_MEMBER:
            raise Conflict(f"最多保存 {MAX_PER_MEMBER} 个地址", code="too_many_addresses")
        saved = SavedAddress(member_id=member_id, province=address.province, city=address.city,
                             district=address.district, street=address.street, detail=address.detail,
                             contact_name=name, contact_phone=phone)
        uow.session.add(saved)
        uow.session.flush()
        return saved


def of_member(session, member_id: int) -> list[SavedAddress]:
    return list(session.execute(select(SavedAddress).where(SavedAddress.member_id == member_id)
                                .order_by(SavedAddress.id.desc())).scalars())


def remove(member_id: int, address_id: int) -> None:
    with unit_of_work() as uow:
        gone = uow.connection.execute(delete(SavedAddress.__table__).where(
            SavedAddress.__table__.c.id == address_id, SavedAddress.__table__.c.member_id == member_id)).rowcount
    if not gone:
        raise NotFound("地址不存在", code="address_not_found")

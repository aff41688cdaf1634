"""Members register themselves with a mobile number and a password (会员注册).

The mobile number is the member's key across channels, so one number is one member: a number already
known (registered online, or recorded by a store or a platform) is refused here. Proving ownership of
the number by SMS is not built; see the README.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ValidationFailed
from ..infra.unit_of_work import unit_of_work
from .auth import Principal, hash_password, principal_of
from .models import Member

MOBILE = re.compile(r"1[3-9]\d{9}")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
MAX_NAME = 50


def parse_registration(body: dict) -> tuple[str, str, str]:
    phone, password, name = body.get("phone"), body.get("password"), body.get("name", "")
    if not isinstance(phone, str) or not MOBILE.fullmatch(phone):
        raise ValidationFailed("请输入正确的 11 位手机号", code="invalid_phone", details={"field": "phone"})
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(f"密码长度需为 {MIN_PASSWORD} 到 {MAX_PASSWORD} 位", code="weak_password",
                               details={"field": "password"})
    if password.isdigit() or password.isalpha():
        raise ValidationFailed("密码需同时包含字母和数字", code="weak_password", details={"field": "password"})
    if not isinstance(name, str) or len(name.strip()) > MAX_NAME:
        raise ValidationFailed(f"昵称不超过 {MAX_NAME} 个字", code="invalid_name", details={"field": "name"})
    return phone, password, name.strip()


def register_member(phone: str, password: str, name: str) -> Principal:
    password_hash = hash_password(password)  # before the transaction: hashing is slow on purpose
    taken = Conflict("该手机号已注册,请直接登录", code="phone_taken", details={"field": "phone"})
    try:
        with unit_of_work() as uow:
            if uow.session.execute(select(Member.id).where(Member.phone == phone)).first() is not None:
                raise taken
            member = Member(phone=phone, name=name or f"会员{phone[-4:]}", password_hash=password_hash, points=0)
            uow.session.add(member)
            uow.session.flush()
            who = principal_of(member)
    except IntegrityError as exc:  # two registrations of one number at once: the unique index decides
        raise taken from exc
    return who

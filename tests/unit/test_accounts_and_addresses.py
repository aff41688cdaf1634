"""Deactivating staff and saved addresses on the fake unit of work: the business rules without a database."""
import pytest

from app import addresses
from app.accounts import revocation
from app.accounts.auth import Principal
from app.accounts.models import Staff
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed

from ..factories import ADDR_TIANPING
from .fakes import FakeUnitOfWork

HQ = Principal("staff", 1, "hq", None, "总部")
CLERK = Principal("staff", 2, "clerk", 7, "店员")


def staff(id, username, role, store_id=None):
    return Staff(id=id, username=username, name=username, role=role, store_id=store_id, active=True,
                 token_version=3, password_hash="x")


@pytest.fixture
def uow(wired):
    return wired(FakeUnitOfWork(accounts=[staff(1, "admin", "hq"), staff(2, "clerk1", "clerk", 7)]))


def test_hq_deactivates_staff_bumping_the_token_version_and_announcing_it(uow):
    assert revocation.deactivate_staff(2, HQ) == {"id": 2, "username": "clerk1", "active": False}
    clerk = uow.accounts.rows[("staff", 2)]
    assert (clerk.active, clerk.token_version) == (False, 4)
    assert uow.events("account.revoked") == [{"kind": "staff", "id": 2}]


def test_only_hq_deactivates_never_itself_and_only_existing_staff(uow):
    with pytest.raises(Forbidden):
        revocation.deactivate_staff(1, CLERK)
    with pytest.raises(ValidationFailed) as refused:
        revocation.deactivate_staff(1, HQ)
    assert refused.value.code == "cannot_deactivate_self"
    with pytest.raises(NotFound):
        revocation.deactivate_staff(99, HQ)
    assert uow.accounts.rows[("staff", 2)].active and uow.published == []


BODY = {"address": {**ADDR_TIANPING, "detail": "天平路 1 号"}, "contact_name": "张三", "contact_phone": "13800000000"}


def test_saved_addresses_are_kept_per_member_newest_first(uow):
    first = addresses.save(10, BODY)
    second = addresses.save(10, {**BODY, "contact_name": " 李四 "})
    addresses.save(11, BODY)
    assert [a.id for a in addresses.of_member(uow, 10)] == [second.id, first.id]
    assert second.to_dict()["contact_name"] == "李四" and second.to_dict()["district"] == "徐汇区"


def test_an_address_needs_its_detail_and_a_mobile_number(uow):
    with pytest.raises(ValidationFailed) as no_detail:
        addresses.save(10, {**BODY, "address": ADDR_TIANPING})
    with pytest.raises(ValidationFailed) as bad_phone:
        addresses.save(10, {**BODY, "contact_phone": "12345"})
    assert (no_detail.value.code, bad_phone.value.code) == ("invalid_address", "invalid_contact_phone")
    assert uow.addresses.rows == {}


def test_a_member_keeps_at_most_twenty_addresses(uow):
    for _ in range(addresses.MAX_PER_MEMBER):
        addresses.save(10, BODY)
    with pytest.raises(Conflict) as refused:
        addresses.save(10, BODY)
    assert refused.value.code == "too_many_addresses" and uow.addresses.count(10) == addresses.MAX_PER_MEMBER
    addresses.save(11, BODY)  # another member's count is their own


def test_a_member_removes_only_their_own_addresses(uow):
    saved = addresses.save(10, BODY)
    with pytest.raises(NotFound):
        addresses.remove(11, saved.id)
    addresses.remove(10, saved.id)
    assert addresses.of_member(uow, 10) == []
    with pytest.raises(NotFound):
        addresses.remove(10, saved.id)

"""The application as create_app wires it, on a fake unit of work: an order placed over the API, and
an action on it, with no database behind (UNIT_OF_WORK_FACTORY is the seam)."""
from app import create_app
from app.accounts import revocation
from app.accounts.auth import Principal
from app.orders import state
from app.orders.models import PICKUP

from .fakes import FakeUnitOfWork, location, product

MEMBER = Principal("member", 3, "member", None, "会员")
CLERK = Principal("staff", 7, "clerk", 1, "店员")


def test_placing_and_accepting_an_order_over_the_api_needs_no_database(tmp_path, monkeypatch):
    # Whether a token was revoked is the accounts package's own read (tests/test_revocation.py): here
    # every token is current.
    monkeypatch.setattr(revocation, "is_current", lambda who: True)
    uow = FakeUnitOfWork(products=[product(11, "MILK", unit_price=1590)], locations=[location(1, "徐汇店")],
                         stock={(1, 11): 5})
    never = tmp_path / "never.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{never}", "DEMO_DATA": False,
                      "SECRET_KEY": "t" * 40, "UNIT_OF_WORK_FACTORY": uow})
    client, tokens = app.test_client(), app.extensions["storelink_tokens"]

    placed = client.post("/api/v1/orders", json={"items": [{"sku": "MILK", "qty": 2}], "fulfilment": PICKUP,
                                                 "store_id": 1, "payment": "at_store"},
                         headers={"Authorization": f"Bearer {tokens.issue(MEMBER)}"})
    assert placed.status_code == 201, placed.json
    assert (placed.json["location_id"], placed.json["total"], placed.json["status"]) == \
        (1, 3180, state.AWAITING_ACCEPTANCE)
    assert uow.stock.of(1, 11) == (5, 2)

    accepted = client.post(f"/api/v1/clerk/orders/{placed.json['id']}/accept",
                           headers={"Authorization": f"Bearer {tokens.issue(CLERK)}"})
    assert accepted.status_code == 200, accepted.json
    assert uow.orders.rows[placed.json["id"]].status == state.ACCEPTED
    assert not never.exists()  # nothing ever opened the database

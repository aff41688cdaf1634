"""Who may see and do what: tokens, roles, and store scoping."""
import pytest

from app.accounts.auth import Principal
from app.extensions import db
from app.accounts.models import Staff

from .conftest import auth, token_for
from .factories import build_chain
from .helpers import pay, place


def test_login_by_phone_and_username_returns_token_and_role(app, client):
    chain = build_chain(app)
    r = client.post("/api/v1/auth/login", json={"phone": "13800000000", "password": "secret-pass"})
    assert r.status_code == 200 and r.json["role"] == "member"
    assert r.json["phone"] == "13800000000"  # a member's login answer names their number
    me = client.get("/api/v1/auth/me", headers=auth(r.json["token"]))
    assert (me.json["id"], me.json["phone"]) == (chain.principals["m0"].id, "13800000000")
    r = client.post("/api/v1/auth/login", json={"username": "clerkA", "password": "secret-pass"})
    assert (r.json["role"], r.json["store_id"]) == ("clerk", chain.stores["A"])
    assert "phone" not in r.json  # staff log in by name; no number of theirs is given out


@pytest.mark.parametrize("body,status,code", [
    ({"phone": "13800000000", "password": "wrong"}, 401, "invalid_credentials"),
    ({"phone": "19999999999", "password": "secret-pass"}, 401, "invalid_credentials"),
    ({"username": "clerkA"}, 422, "invalid_credentials_format"),
    ({"phone": "1", "username": "clerkA", "password": "x"}, 422, "invalid_credentials_format"),
    ({"password": "x"}, 422, "invalid_credentials_format"),
    ({"phone": 13800000000, "password": "secret-pass"}, 422, "invalid_credentials_format"),
])
def test_bad_logins(app, client, body, status, code):
    build_chain(app)
    r = client.post("/api/v1/auth/login", json=body)
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


def test_inactive_staff_cannot_log_in(app, client):
    build_chain(app)
    with app.app_context():
        db.session.query(Staff).filter_by(username="clerkA").update({"active": False})
        db.session.commit()
    r = client.post("/api/v1/auth/login", json={"username": "clerkA", "password": "secret-pass"})
    assert r.status_code == 401


@pytest.mark.parametrize("header,code", [
    (None, "missing_token"), ("Bearer nonsense", "invalid_token"), ("Basic abc", "missing_token"),
])
def test_missing_or_forged_tokens(app, client, header, code):
    build_chain(app)
    headers = {"Authorization": header} if header else {}
    r = client.get("/api/v1/orders", headers=headers)
    assert (r.status_code, r.json["error"]["code"]) == (401, code)


def test_token_signed_with_another_key_is_refused(app, client):
    chain = build_chain(app)
    from app.accounts.auth import TokenService

    forged = TokenService("x" * 40, 3600).issue(Principal("staff", 1, "hq", None))
    r = client.get("/api/v1/orders", headers=auth(forged))
    assert r.json["error"]["code"] == "invalid_token"
    assert chain  # the chain exists; the forged HQ token still sees nothing


def test_members_see_only_their_own_orders(app, client):
    chain = build_chain(app)
    mine = place(client, chain, who="m0").json["id"]
    theirs = place(client, chain, who="m1").json["id"]
    listed = client.get("/api/v1/orders", headers=chain.h("m0")).json["orders"]
    assert [o["id"] for o in listed] == [mine]
    for path, method in ((f"/api/v1/orders/{theirs}", "get"), (f"/api/v1/orders/{theirs}/pay", "post"),
                         (f"/api/v1/orders/{theirs}/cancel", "post")):
        r = getattr(client, method)(path, headers=chain.h("m0"))
        assert (r.status_code, r.json["error"]["code"]) == (404, "order_not_found")


def test_clerks_act_on_their_own_store_only(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, store="A").json["id"]
    pay(app, client, chain, oid, deferred)
    r = client.post(f"/api/v1/clerk/orders/{oid}/accept", headers=chain.h("clerkB"))
    assert (r.status_code, r.json["error"]["code"]) == (404, "order_not_found")
    assert client.get("/api/v1/clerk/orders", headers=chain.h("clerkB")).json["orders"] == []
    queue = client.get("/api/v1/clerk/orders", headers=chain.h("clerkA")).json["orders"]
    assert [o["id"] for o in queue] == [oid]
    assert client.post(f"/api/v1/clerk/orders/{oid}/accept", headers=chain.h("clerkA")).status_code == 200


@pytest.mark.parametrize("who,method,path", [
    ("m0", "post", "/api/v1/hq/stock"),
    ("clerkA", "post", "/api/v1/hq/stock"),
    ("m0", "get", "/api/v1/clerk/orders"),
    ("courierA", "get", "/api/v1/clerk/orders"),
    ("clerkA", "post", "/api/v1/orders"),
    ("hq", "post", "/api/v1/orders/1/pay"),
    ("m0", "post", "/api/v1/courier/deliveries/1/delivered"),
])
def test_roles_are_enforced(app, client, who, method, path):
    chain = build_chain(app)
    r = getattr(client, method)(path, json={}, headers=chain.h(who))
    assert (r.status_code, r.json["error"]["code"]) == (403, "forbidden_role")


def test_hq_sees_every_store(app, client):
    chain = build_chain(app)
    a = place(client, chain, store="A").json["id"]
    b = place(client, chain, store="B").json["id"]
    ids = {o["id"] for o in client.get("/api/v1/orders", headers=chain.h("hq")).json["orders"]}
    assert ids == {a, b}
    assert token_for(app, chain.principals["hq"])


def test_remembered_token_still_expires(app, client, monkeypatch):
    chain = build_chain(app)
    assert client.get("/api/v1/auth/me", headers=chain.h("m0")).status_code == 200
    import app.accounts.auth as auth_module

    later = auth_module.time.time() + app.config["TOKEN_MAX_AGE_SECONDS"] + 1
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    r = client.get("/api/v1/auth/me", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (401, "token_expired")

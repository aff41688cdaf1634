"""The member mall's API: registration, the region picker and region validation, the checkout quote,
pickup store options, the payment's return URL, the message centre, saved addresses, 确认收货."""
from __future__ import annotations

import pytest

from app.config import public_base_url

from .factories import ADDR_TIANPING, build_chain
from .helpers import get_order, pay, pay_url, place

NANJING = {"province": "江苏省", "city": "南京市", "district": "玄武区", "street": "梅园新村街道"}


def _quote(client, chain, who="m0", **body):
    return client.post("/api/v1/orders/quote", json=body, headers=chain.h(who))


# ---- registration -------------------------------------------------------------------------------

def test_register_logs_the_new_member_in_and_refuses_the_same_number_twice(app, client):
    r = client.post("/api/v1/auth/register", json={"phone": "13912345678", "password": "abc12345", "name": "小王"})
    assert r.status_code == 201, r.json
    assert (r.json["role"], r.json["name"], r.json["phone"]) == ("member", "小王", "13912345678")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert (me.json["id"], me.json["phone"]) == (r.json["id"], "13912345678")
    login = client.post("/api/v1/auth/login", json={"phone": "13912345678", "password": "abc12345"})
    assert login.status_code == 200
    again = client.post("/api/v1/auth/register", json={"phone": "13912345678", "password": "xyz98765"})
    assert (again.status_code, again.json["error"]["code"]) == (409, "phone_taken")


def test_registration_attempts_are_throttled_like_logins(app, client):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    body = {"phone": "13912345678", "password": "abc12345"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    codes = [client.post("/api/v1/auth/register", json=body).status_code for _ in range(limit + 1)]
    assert codes[:limit - 1] == [409] * (limit - 1) and codes[-1] == 429


@pytest.mark.parametrize("body, code", [
    ({"phone": "1391234567", "password": "abc12345"}, "invalid_phone"),
    ({"phone": "23912345678", "password": "abc12345"}, "invalid_phone"),
    ({"phone": 13912345678, "password": "abc12345"}, "invalid_phone"),
    ({"phone": "13912345678", "password": "abc123"}, "weak_password"),
    ({"phone": "13912345678", "password": "12345678"}, "weak_password"),
    ({"phone": "13912345678", "password": "abc12345", "name": "名" * 51}, "invalid_name"),
])
def test_register_refuses_bad_input_with_a_code(client, body, code):
    r = client.post("/api/v1/auth/register", json=body)
    assert (r.status_code, r.json["error"]["code"]) == (422, code)


def test_products_can_be_searched_by_name_or_code(app, client):
    build_chain(app)
    assert [p["sku"] for p in client.get("/api/v1/products?q=牛奶").json["products"]] == ["MILK"]
    assert [p["sku"] for p in client.get("/api/v1/products?q=rice").json["products"]] == ["RICE"]
    assert client.get("/api/v1/products?q=%25").json["products"] == []  # LIKE wildcards are literal
    assert client.get("/api/v1/products?q=" + "长" * 51).json["error"]["code"] == "invalid_query"


# ---- regions --------------------------------------------------------------------------------------

def test_regions_are_served_one_level_at_a_time(client):
    provinces = client.get("/api/v1/regions").json
    names = [r["name"] for r in provinces["regions"]]
    assert provinces["level"] == "province" and len(names) == 31 and "上海市" in names and "浙江省" in names
    shanghai = next(r for r in provinces["regions"] if r["name"] == "上海市")
    cities = client.get(f"/api/v1/regions?parent={shanghai['code']}").json
    assert [c["name"] for c in cities["regions"]] == ["上海市"]  # 市辖区 shown as the municipality
    districts = client.get(f"/api/v1/regions?parent={cities['regions'][0]['code']}").json
    xuhui = next(r for r in districts["regions"] if r["name"] == "徐汇区")
    streets = client.get(f"/api/v1/regions?parent={xuhui['code']}")
    assert streets.json["level"] == "street" and "天平路街道" in [s["name"] for s in streets.json["regions"]]
    assert "max-age" in streets.headers["Cache-Control"]
    assert len(streets.data) < 4000  # a level, not the country


def test_chongqing_counties_join_the_municipality(client):
    cities = client.get("/api/v1/regions?parent=50").json["regions"]
    assert [c["name"] for c in cities] == ["重庆市"]
    districts = [d["name"] for d in client.get(f"/api/v1/regions?parent={cities[0]['code']}").json["regions"]]
    assert "渝中区" in districts and "城口县" in districts


@pytest.mark.parametrize("parent, status, code", [("99", 422, "unknown_region"), ("abc", 422, "invalid_query")])
def test_unknown_region_code_is_refused(client, parent, status, code):
    r = client.get(f"/api/v1/regions?parent={parent}")
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


@pytest.mark.parametrize("change, code, field", [
    ({"province": "火星"}, "unknown_province", "province"),
    ({"city": "杭州市"}, "city_not_in_province", "city"),       # 杭州 is in 浙江, not 上海
    ({"district": "西湖区"}, "district_not_in_city", "district"),
    ({"street": "文新街道"}, "street_not_in_district", "street"),
    ({"province": "浙江省"}, "city_not_in_province", "city"),   # 上海市 is no city of 浙江
])
def test_delivery_to_a_region_that_does_not_exist_is_refused(app, client, change, code, field):
    chain = build_chain(app)
    address = {**ADDR_TIANPING, **change}
    for r in (place(client, chain, fulfilment="store_delivery", address=address),
              place(client, chain, fulfilment="express", address=address),
              _quote(client, chain, items=[{"sku": "MILK", "qty": 1}], fulfilment="store_delivery", address=address),
              client.post("/api/v1/stores/match", json={"address": address})):
        assert r.status_code == 422, r.json
        assert (r.json["error"]["code"], r.json["error"]["details"]["field"]) == (code, field)
    assert client.get("/api/v1/orders", headers=chain.h("m0")).json["orders"] == []  # nothing half-written


def test_the_issue_s_mars_delivery_is_no_longer_a_warehouse_order(app, client):
    chain = build_chain(app)
    r = place(client, chain, fulfilment="store_delivery",
              address={"province": "火星", "city": "奥林匹斯", "district": "山区", "street": "一号街道"})
    assert (r.status_code, r.json["error"]["code"]) == (422, "unknown_province")
    assert "火星" in r.json["error"]["message"]


# ---- quote -----------------------------------------------------------------------------------------

def test_quote_for_a_store_delivery_names_the_store_the_reason_and_the_fee(app, client):
    chain = build_chain(app)
    q = _quote(client, chain, items=[{"sku": "MILK", "qty": 2}], fulfilment="store_delivery",
               address={**ADDR_TIANPING, "lat": 31.171, "lng": 121.421})
    assert q.status_code == 200, q.json
    q = q.json
    assert (q["fulfilment"], q["method_changed"], q["notice"]) == ("store_delivery", False, None)
    assert q["location"]["id"] == chain.stores["B"]  # both cover 天平路街道, 田林店 is nearer (就近)
    assert "街道" in q["reason"] and "就全" in q["reason"] and "就近" in q["reason"]
    assert (q["goods_total"], q["delivery_fee"], q["total"], q["free_delivery_from"]) == (3180, 500, 3680, 5900)
    assert q["lines"][0]["available"] == 50 and q["in_stock"] is True
    assert client.get("/api/v1/orders", headers=chain.h("m0")).json["orders"] == []  # a quote places nothing


def test_quote_waives_the_fee_above_the_threshold(app, client):
    chain = build_chain(app)
    q = _quote(client, chain, items=[{"sku": "RICE", "qty": 1}], fulfilment="store_delivery", address=ADDR_TIANPING).json
    assert (q["goods_total"], q["delivery_fee"], q["total"]) == (6990, 0, 6990)
    express = _quote(client, chain, items=[{"sku": "MILK", "qty": 1}], fulfilment="express", address=NANJING).json
    assert (express["fulfilment"], express["delivery_fee"], express["location"]["id"]) == ("express", 1000, chain.stores["W"])


def test_quote_shows_the_change_to_warehouse_express_and_placing_needs_it_accepted(app, client):
    chain = build_chain(app)
    body = {"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": NANJING}
    q = _quote(client, chain, **body).json
    assert (q["requested_fulfilment"], q["fulfilment"], q["method_changed"]) == ("store_delivery", "express", True)
    assert q["location"]["id"] == chain.stores["W"] and q["delivery_fee"] == 1000
    assert "不在任何门店的配送范围" in q["reason"] and "总仓快递" in q["notice"]

    as_placed = dict(items=[("MILK", 1)], fulfilment="store_delivery", address=NANJING)
    refused = place(client, chain, **as_placed, accept_method_change=False)
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "fulfilment_changed")
    assert refused.json["error"]["details"]["fulfilment"] == "express"
    accepted = place(client, chain, **as_placed, accept_method_change=True)
    assert accepted.status_code == 201 and accepted.json["fulfilment"] == "express"
    assert accepted.json["routing_reason"] == q["reason"]


def test_quote_for_pickup_reports_the_store_s_stock(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 1, ("B", "MILK"): 9})
    q = _quote(client, chain, items=[{"sku": "MILK", "qty": 2}], fulfilment="pickup", store_id=chain.stores["A"]).json
    assert (q["fulfilment"], q["location"]["id"], q["delivery_fee"]) == ("pickup", chain.stores["A"], 0)
    assert (q["lines"][0]["available"], q["in_stock"]) == (1, False)


def test_quote_needs_a_member_and_refuses_what_placing_refuses(app, client):
    chain = build_chain(app)
    body = {"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": chain.stores["A"]}
    assert client.post("/api/v1/orders/quote", json=body).status_code == 401
    assert _quote(client, chain, who="clerkA", **body).status_code == 403
    r = _quote(client, chain, items=[{"sku": "NOPE", "qty": 1}], fulfilment="pickup", store_id=chain.stores["A"])
    assert (r.status_code, r.json["error"]["code"]) == (404, "unknown_sku")
    r = _quote(client, chain, items=[{"sku": "MILK", "qty": 1}], fulfilment="pickup", store_id=chain.stores["W"])
    assert (r.status_code, r.json["error"]["code"]) == (404, "store_not_found")


def test_pickup_options_sort_stores_by_distance_with_their_stock(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 5, ("B", "MILK"): 1, ("C", "MILK"): 5})
    items = [{"sku": "MILK", "qty": 2}]
    near_b = client.post("/api/v1/stores/pickup-options", json={"items": items, "lat": 31.17, "lng": 121.42}).json["stores"]
    assert [s["id"] for s in near_b] == [chain.stores["B"], chain.stores["A"], chain.stores["C"]]
    assert near_b[0]["distance_m"] == 0 and [s["has_all"] for s in near_b] == [False, True, True]
    # what a short store lacks, by the product's name (the page shows it to shoppers), not its SKU code
    assert near_b[0]["stock"] == [{"sku": "MILK", "name": "鲜牛奶", "qty": 2, "available": 1}]
    assert chain.stores["W"] not in [s["id"] for s in near_b]  # warehouses are not for pickup
    in_hangzhou = client.post("/api/v1/stores/pickup-options", json={"items": items, "lat": 30.28, "lng": 120.13}).json
    assert in_hangzhou["stores"][0]["id"] == chain.stores["C"]
    no_point = client.post("/api/v1/stores/pickup-options", json={"items": items}).json["stores"]
    assert [s["distance_m"] for s in no_point] == [None, None, None]
    bad = client.post("/api/v1/stores/pickup-options", json={"items": items, "lat": 99, "lng": 1})
    assert (bad.status_code, bad.json["error"]["code"]) == (422, "invalid_address")


# ---- payment return, base URL ------------------------------------------------------------------------

def test_the_pay_page_leads_back_to_the_mall_s_order_page(app, client):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    page = client.get(pay_url(client, chain, oid).split("localhost", 1)[1]).get_data(as_text=True)
    assert f'href="http://localhost/orders/{oid}"' in page
    shell = client.get(f"/orders/{oid}")
    assert shell.status_code == 200 and 'data-page="mall"' in shell.get_data(as_text=True)


def test_public_base_url_follows_host_and_port_unless_set(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.setenv("PORT", "5052")
    assert public_base_url() == "http://127.0.0.1:5052"
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert public_base_url() == "http://127.0.0.1:5052"
    monkeypatch.setenv("HOST", "192.168.1.20")
    assert public_base_url() == "http://192.168.1.20:5052"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com/")
    assert public_base_url() == "https://shop.example.com"


# ---- message centre ------------------------------------------------------------------------------------

def test_paying_a_pickup_order_sends_one_pickup_notice_to_its_member_only(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    inbox = client.get("/api/v1/me/messages", headers=chain.h("m0")).json
    assert inbox == {"messages": [], "unread": 0, "next_before_id": None}  # nothing before payment
    pay(app, client, chain, oid, deferred)
    inbox = client.get("/api/v1/me/messages", headers=chain.h("m0")).json
    (message,) = inbox["messages"]
    assert (message["title"], message["order_id"], message["link"], message["read"]) == (
        "提货消息通知", oid, f"/orders/{oid}/pickup", False)
    assert "徐汇店" in message["text"] and inbox["unread"] == 1
    assert client.get("/api/v1/me/messages", headers=chain.h("m1")).json["messages"] == []
    assert client.post(f"/api/v1/me/messages/{message['id']}/read", headers=chain.h("m1")).json["unread"] == 0
    assert client.get("/api/v1/me/messages", headers=chain.h("m0")).json["unread"] == 1  # m1 cannot read m0's
    assert client.post(f"/api/v1/me/messages/{message['id']}/read", headers=chain.h("m0")).json["unread"] == 0
    assert client.get("/api/v1/me/messages", headers=chain.h("clerkA")).status_code == 403


def test_delivery_orders_get_no_pickup_notice_but_a_shipped_one(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, fulfilment="store_delivery").json["id"]
    pay(app, client, chain, oid, deferred)
    assert client.get("/api/v1/me/messages", headers=chain.h("m0")).json["messages"] == []
    store = chain.h("clerkA")  # without coordinates the first of the stores covering 天平路街道
    assert get_order(client, chain, oid)["location_id"] == chain.stores["A"]
    for action in ("accept", "ready", "ship"):
        assert client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=store).status_code == 200
    (message,) = client.get("/api/v1/me/messages", headers=chain.h("m0")).json["messages"]
    assert (message["kind"], message["link"]) == ("shipped", f"/orders/{oid}")


# ---- 确认收货 ----------------------------------------------------------------------------------------------

def test_member_confirms_receipt_of_a_shipped_paid_delivery(app, client, deferred):
    chain = build_chain(app)
    oid = place(client, chain, fulfilment="store_delivery").json["id"]
    early = client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m0"))
    assert (early.status_code, early.json["error"]["code"]) == (409, "illegal_transition")
    pay(app, client, chain, oid, deferred)
    for action in ("accept", "ready", "ship"):
        client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA"))
    assert client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m1")).status_code == 404
    done = client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m0"))
    assert done.status_code == 200 and done.json["status"] == "completed"
    events = get_order(client, chain, oid)["events"]
    assert (events[-1]["to"], events[-1]["reason"]) == ("completed", "会员确认收货")
    again = client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m0"))
    assert again.status_code == 409


def test_cash_on_delivery_is_completed_by_the_courier_not_the_member(app, client):
    chain = build_chain(app)
    oid = place(client, chain, fulfilment="store_delivery", payment="cod").json["id"]
    for action in ("accept", "ready", "ship"):
        client.post(f"/api/v1/clerk/orders/{oid}/{action}", headers=chain.h("clerkA"))
    r = client.post(f"/api/v1/orders/{oid}/confirm-receipt", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (403, "cod_confirm_by_courier")


# ---- saved addresses ---------------------------------------------------------------------------------------

def test_saved_addresses_are_validated_and_private(app, client):
    chain = build_chain(app)
    body = {"address": {**ADDR_TIANPING, "detail": "天平路 1 号 101 室"}, "contact_name": "张三", "contact_phone": "13911112222"}
    saved = client.post("/api/v1/me/addresses", json=body, headers=chain.h("m0"))
    assert saved.status_code == 201 and saved.json["street"] == "天平路街道"
    bad = client.post("/api/v1/me/addresses", json={**body, "address": {**body["address"], "city": "杭州市"}},
                      headers=chain.h("m0"))
    assert (bad.status_code, bad.json["error"]["code"]) == (422, "city_not_in_province")
    no_phone = client.post("/api/v1/me/addresses", json={**body, "contact_phone": "123"}, headers=chain.h("m0"))
    assert no_phone.json["error"]["code"] == "invalid_contact_phone"
    assert [a["id"] for a in client.get("/api/v1/me/addresses", headers=chain.h("m0")).json["addresses"]] == [saved.json["id"]]
    assert client.get("/api/v1/me/addresses", headers=chain.h("m1")).json["addresses"] == []
    assert client.delete(f"/api/v1/me/addresses/{saved.json['id']}", headers=chain.h("m1")).status_code == 404
    assert client.delete(f"/api/v1/me/addresses/{saved.json['id']}", headers=chain.h("m0")).status_code == 204
    assert client.get("/api/v1/me/addresses", headers=chain.h("m0")).json["addresses"] == []


# ---- races ---------------------------------------------------------------------------------------------------

def test_one_number_registered_at_once_from_many_phones_is_one_member(app):
    from collections import Counter

    from sqlalchemy import func, select

    from app.accounts.models import Member
    from app.extensions import db

    from .helpers import race

    def register(i):
        return app.test_client().post("/api/v1/auth/register",
                                      json={"phone": "13700001111", "password": f"pass{i:04d}word"}).status_code

    assert Counter(race(8, register)) == {201: 1, 409: 7}
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Member)
                                  .where(Member.phone == "13700001111")).scalar_one() == 1


def test_a_repeated_event_writes_one_message(app, client, deferred):
    from app.events import DomainEvent
    from app.messages.service import on_event

    chain = build_chain(app)
    oid = place(client, chain).json["id"]
    pay(app, client, chain, oid, deferred)
    event = DomainEvent("order.new", {"order_id": oid, "location_id": chain.stores["A"],
                                      "member_id": chain.principals["m0"].id})
    with app.app_context():
        on_event(event)
        on_event(event)
    assert len(client.get("/api/v1/me/messages", headers=chain.h("m0")).json["messages"]) == 1

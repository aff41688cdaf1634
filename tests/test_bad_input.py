"""Bad input: a specific 4xx code, never a 500, and nothing written."""
import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.catalog.models import Product
from app.orders.models import Order, OrderEvent
from app.payments.models import Payment
from app.stock.models import StockItem

from .factories import ADDR_TIANPING, build_chain

ORDER_CASES = [
    ({"items": [{"sku": "NOPE", "qty": 1}], "fulfilment": "pickup", "store_id": "A"}, 404, "unknown_sku"),
    ({"items": [{"sku": "OLD", "qty": 1}], "fulfilment": "pickup", "store_id": "A"}, 404, "unknown_sku"),
    ({"items": [{"sku": "MILK", "qty": 0}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": -3}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": 10**12}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": 600}, {"sku": "MILK", "qty": 600}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": 1.5}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": "2"}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": "MILK", "qty": True}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_quantity"),
    ({"items": [{"sku": 5, "qty": 1}], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_sku"),
    ({"items": [], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_items"),
    ({"items": "MILK", "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_items"),
    ({"items": ["MILK"], "fulfilment": "pickup", "store_id": "A"}, 422, "invalid_items"),
    ({"items": [{"sku": f"S{i}", "qty": 1} for i in range(51)], "fulfilment": "pickup", "store_id": "A"}, 422, "too_many_lines"),
    ({"fulfilment": "pickup", "store_id": "A"}, 422, "invalid_items"),
    ({"items": [{"sku": "MILK", "qty": 1}], "store_id": "A"}, 422, "invalid_fulfilment"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "drone", "store_id": "A"}, 422, "invalid_fulfilment"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup"}, 422, "invalid_store"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": "1"}, 422, "invalid_store"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": 9999}, 404, "store_not_found"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": 2**63}, 422, "invalid_store"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": -5}, 422, "invalid_store"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": "W"}, 404, "store_not_found"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": "A", "payment": "card"}, 422, "invalid_payment_method"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": "A", "payment": "cod"}, 422, "cod_not_available"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery"}, 422, "invalid_address"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": "徐汇区"}, 422, "invalid_address"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": {"province": "上海市"}}, 422, "invalid_address"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": {**ADDR_TIANPING, "lat": 31.2}}, 422, "invalid_address"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": {**ADDR_TIANPING, "lat": 300, "lng": 1}}, 422, "invalid_address"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "store_delivery", "address": ADDR_TIANPING, "store_id": "C"}, 409, "address_not_served"),
    ({"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": "A", "note": "x" * 201}, 422, "invalid_field"),
    ({"items": [{"sku": "MILK", "qty": 51}], "fulfilment": "pickup", "store_id": "A"}, 409, "out_of_stock"),
]


def _written(app):
    with app.app_context():
        counts = tuple(db.session.execute(select(func.count()).select_from(t)).scalar_one() for t in (Order, OrderEvent, Payment))
        reserved = db.session.execute(select(func.sum(StockItem.reserved))).scalar_one()
        db.session.remove()
    return counts + (reserved,)


@pytest.mark.parametrize("body,status,code", ORDER_CASES, ids=[c[2] + str(i) for i, c in enumerate(ORDER_CASES)])
def test_bad_order_is_refused_with_its_code_and_writes_nothing(app, client, body, status, code):
    chain = build_chain(app)
    if isinstance(body.get("store_id"), str) and body["store_id"] in chain.stores:
        body = {**body, "store_id": chain.stores[body["store_id"]]}
    before = _written(app)
    r = client.post("/api/v1/orders", json=body, headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert r.json["error"]["message"]
    assert _written(app) == before


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe", "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 422, "invalid_body"),
    (b"null", "application/json", 422, "invalid_body"),
    (b"items=1", "application/x-www-form-urlencoded", 400, "unsupported_media_type"),
    (b'{"note": "' + b"x" * (1024 * 1024) + b'"}', "application/json", 413, "request_entity_too_large"),
])
def test_malformed_bodies(app, client, data, content_type, status, code):
    chain = build_chain(app)
    r = client.post("/api/v1/orders", data=data, headers={**chain.h("m0"), "Content-Type": content_type})
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


def test_idempotency_key_reused_for_a_different_order_is_refused(app, client):
    chain = build_chain(app)
    key = {"Idempotency-Key": "k-1"}
    body = {"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": chain.stores["A"]}
    first = client.post("/api/v1/orders", json=body, headers={**chain.h("m0"), **key})
    assert first.status_code == 201
    replay = client.post("/api/v1/orders", json=body, headers={**chain.h("m0"), **key})
    assert (replay.status_code, replay.json["id"], replay.headers["Idempotent-Replay"]) == (200, first.json["id"], "true")
    other = client.post("/api/v1/orders", json={**body, "items": [{"sku": "MILK", "qty": 2}]}, headers={**chain.h("m0"), **key})
    assert (other.status_code, other.json["error"]["code"]) == (409, "idempotency_key_reused")
    # Keys belong to a member: another member's identical key is a separate order.
    mine = client.post("/api/v1/orders", json=body, headers={**chain.h("m1"), **key})
    assert mine.status_code == 201 and mine.json["id"] != first.json["id"]
    too_long = client.post("/api/v1/orders", json=body, headers={**chain.h("m0"), "Idempotency-Key": "k" * 101})
    assert (too_long.status_code, too_long.json["error"]["code"]) == (422, "invalid_idempotency_key")


def test_a_retry_gets_its_order_back_even_after_the_product_or_stock_went(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 1})
    key = {**chain.h("m0"), "Idempotency-Key": "k-gone"}
    body = {"items": [{"sku": "MILK", "qty": 1}], "fulfilment": "pickup", "store_id": chain.stores["A"]}
    first = client.post("/api/v1/orders", json=body, headers=key)
    assert first.status_code == 201
    sold_out = client.post("/api/v1/orders", json=body, headers=key)  # the one unit is the first order's
    assert (sold_out.status_code, sold_out.json["id"]) == (200, first.json["id"])
    with app.app_context():
        db.session.execute(update(Product).where(Product.sku == "MILK").values(active=False))
        db.session.commit()
    delisted = client.post("/api/v1/orders", json=body, headers=key)
    assert (delisted.status_code, delisted.json["id"]) == (200, first.json["id"])
    # Without the key the same request is refused for what it is; a different body under the key is a conflict.
    fresh = client.post("/api/v1/orders", json=body, headers=chain.h("m0"))
    assert (fresh.status_code, fresh.json["error"]["code"]) == (404, "unknown_sku")
    other = client.post("/api/v1/orders", json={**body, "items": [{"sku": "NOPE", "qty": 1}]}, headers=key)
    assert (other.status_code, other.json["error"]["code"]) == (409, "idempotency_key_reused")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 1


@pytest.mark.parametrize("body,status,code", [
    ({"location_id": 1, "sku": "MILK"}, 422, "invalid_body"),
    ({"location_id": 1, "sku": "MILK", "on_hand": 5, "delta": 1}, 422, "invalid_body"),
    ({"location_id": "1", "sku": "MILK", "on_hand": 5}, 422, "invalid_field"),
    ({"location_id": 1, "sku": "MILK", "on_hand": -1}, 422, "invalid_quantity"),
    ({"location_id": 1, "sku": "MILK", "on_hand": 5.5}, 422, "invalid_field"),
    ({"location_id": 9999, "sku": "MILK", "on_hand": 5}, 404, "location_not_found"),
    ({"location_id": 2**63, "sku": "MILK", "on_hand": 5}, 422, "invalid_field"),  # beyond a 64-bit id
    ({"location_id": True, "sku": "MILK", "on_hand": 5}, 422, "invalid_field"),
    ({"location_id": 1, "sku": "NOPE", "on_hand": 5}, 404, "unknown_sku"),
    ({"location_id": 1, "sku": "MILK", "delta": -51}, 409, "on_hand_below_reserved"),
])
def test_bad_stock_updates(app, client, body, status, code):
    chain = build_chain(app)
    r = client.post("/api/v1/hq/stock", json=body, headers=chain.h("hq"))
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json


def test_stock_cannot_be_counted_below_what_orders_reserve(app, client):
    chain = build_chain(app)
    client.post("/api/v1/orders", json={"items": [{"sku": "MILK", "qty": 5}], "fulfilment": "pickup",
                                        "store_id": chain.stores["A"]}, headers=chain.h("m0"))
    r = client.post("/api/v1/hq/stock", json={"location_id": chain.stores["A"], "sku": "MILK", "on_hand": 4}, headers=chain.h("hq"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "on_hand_below_reserved")
    r = client.post("/api/v1/hq/stock", json={"location_id": chain.stores["A"], "sku": "MILK", "on_hand": 5}, headers=chain.h("hq"))
    assert r.json == {"location_id": chain.stores["A"], "sku": "MILK", "on_hand": 5, "reserved": 5, "available": 0}
    r = client.post("/api/v1/hq/stock", json={"location_id": chain.stores["A"], "sku": "MILK", "delta": 7}, headers=chain.h("hq"))
    assert r.json["on_hand"] == 12


def test_unknown_routes_and_methods_answer_json_4xx(client):
    r = client.get("/api/v1/nothing-here")
    assert (r.status_code, r.json["error"]["code"]) == (404, "not_found")
    assert r.json["error"]["message"] == "页面或接口不存在"  # pages show it as it comes: not Werkzeug's English
    r = client.delete("/api/v1/orders")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert r.json["error"]["message"] == "不支持该请求方法" and "GET" in r.headers["Allow"]


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/orders/9223372036854775808"), ("GET", "/api/v1/orders/99999999999999999999999"),
    ("POST", "/api/v1/orders/9223372036854775808/pay"), ("POST", "/api/v1/orders/9223372036854775808/cancel"),
    ("POST", "/api/v1/clerk/orders/9223372036854775808/accept"),
])
def test_ids_no_row_can_have_match_no_route(app, client, method, path):
    chain = build_chain(app)
    r = client.open(path, method=method, headers=chain.h("m0" if "/clerk/" not in path else "clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=1000", "before_id=-1"])
def test_bad_query_parameters(app, client, query):
    chain = build_chain(app)
    r = client.get(f"/api/v1/orders?{query}", headers=chain.h("m0"))
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_query")

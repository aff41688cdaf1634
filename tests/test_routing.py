"""Store matching (street, then district, then fence), 就全 then 就近, the warehouse fallback, and reasons."""
import pytest

from app.locations.geo import distance_m, inside_fence

from .factories import build_chain, stock_row
from .helpers import place

SH = {"province": "上海市", "city": "上海市"}


def match(client, address, items=None):
    body = {"address": {**SH, **address}}
    if items:
        body["items"] = [{"sku": s, "qty": q} for s, q in items]
    r = client.post("/api/v1/stores/match", json=body)
    assert r.status_code == 200, r.json
    return r.json


def test_street_match_wins_over_district(app, client):
    chain = build_chain(app)
    result = match(client, {"district": "徐汇区", "street": "田林街道"})
    assert (result["basis"], result["store"]["id"]) == ("street", chain.stores["B"])
    assert "街道" in result["reason"]


def test_district_match_when_no_street_matches(app, client):
    chain = build_chain(app)
    result = match(client, {"district": "徐汇区", "street": "康健新村街道"})
    assert result["basis"] == "district"
    assert {s["id"] for s in result["candidates"]} == {chain.stores["A"], chain.stores["B"]}


def test_fence_match_when_no_area_matches(app, client):
    chain = build_chain(app)
    result = match(client, {"district": "黄浦区", "street": "外滩街道", "lat": 31.195, "lng": 121.435})
    assert (result["basis"], result["store"]["id"]) == ("fence", chain.stores["A"])
    outside = match(client, {"district": "黄浦区", "street": "外滩街道", "lat": 31.30, "lng": 121.60})
    assert outside["store"] is None and outside["basis"] is None


def test_whole_order_stock_first_then_nearest(app, client):
    # Both A and B cover 天平路街道. B lacks rice, so A wins although B is nearer (就全 before 就近).
    chain = build_chain(app, stock={("A", "MILK"): 5, ("A", "RICE"): 5, ("B", "MILK"): 5, ("W", "RICE"): 5, ("W", "MILK"): 5})
    near_b = {"district": "徐汇区", "street": "天平路街道", "lat": 31.171, "lng": 121.421}
    result = match(client, near_b, items=[("MILK", 1), ("RICE", 1)])
    assert result["store"]["id"] == chain.stores["A"] and "就全" in result["reason"]
    # When both hold everything, the nearer one wins.
    result = match(client, near_b, items=[("MILK", 1)])
    assert result["store"]["id"] == chain.stores["B"] and "就近" in result["reason"]
    near_a = {**near_b, "lat": 31.191, "lng": 121.431}
    assert match(client, near_a, items=[("MILK", 1)])["store"]["id"] == chain.stores["A"]


def test_warehouse_ships_when_no_store_holds_the_whole_order(app, client):
    chain = build_chain(app, stock={("A", "MILK"): 1, ("B", "MILK"): 1, ("W", "MILK"): 100})
    r = place(client, chain, items=[("MILK", 3)], fulfilment="store_delivery", store=None)
    assert r.status_code == 201, r.json
    assert (r.json["location_id"], r.json["fulfilment"]) == (chain.stores["W"], "express")
    assert "中心仓" in r.json["routing_reason"]
    assert stock_row(app, chain.stores["W"], chain.products["MILK"]) == (100, 3)


def test_address_no_store_serves_goes_to_warehouse_with_reason(app, client):
    chain = build_chain(app)
    r = place(client, chain, fulfilment="store_delivery", store=None,
              address={"province": "江苏省", "city": "南京市", "district": "玄武区", "street": "梅园新村街道"})
    assert r.status_code == 201
    assert r.json["location_id"] == chain.stores["W"]
    assert "不在任何门店的配送范围内" in r.json["routing_reason"]


def test_nothing_anywhere_is_out_of_stock(app, client):
    chain = build_chain(app, stock={})
    r = place(client, chain, fulfilment="store_delivery", store=None)
    assert (r.status_code, r.json["error"]["code"]) == (409, "out_of_stock")


def test_member_chosen_store_must_serve_the_address(app, client):
    chain = build_chain(app)
    r = place(client, chain, fulfilment="store_delivery", store=None, store_id=chain.stores["C"])
    assert (r.status_code, r.json["error"]["code"]) == (409, "address_not_served")
    r = place(client, chain, fulfilment="store_delivery", store=None, store_id=chain.stores["B"])
    assert r.status_code == 201 and r.json["location_id"] == chain.stores["B"]


def test_express_ships_from_the_warehouse(app, client):
    chain = build_chain(app)
    r = place(client, chain, fulfilment="express", store=None)
    assert (r.json["fulfilment"], r.json["location_id"]) == ("express", chain.stores["W"])
    assert r.json["delivery_fee"] == 1000


@pytest.mark.parametrize("point,inside", [((0.5, 0.5), True), ((0, 0.5), True), ((1.5, 0.5), False), ((-0.1, -0.1), False)])
def test_point_in_fence(point, inside):
    assert inside_fence(*point, [[0, 0], [0, 1], [1, 1], [1, 0]]) is inside


def test_distance_is_haversine_metres():
    # One degree along a meridian is 2πR/360 = 111,194.9 m on a sphere of radius 6,371 km.
    assert distance_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(111_194.9, abs=0.5)
    # Along a parallel at 60°N a degree of longitude is half as long, less the great-circle shortcut.
    assert distance_m(60.0, 0.0, 60.0, 1.0) == pytest.approx(55_596, abs=5)

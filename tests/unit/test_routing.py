"""Routing decisions (street, then district, then fence; 就全 before 就近; the warehouse fallback) on fake
locations and stock."""
import pytest

from app.errors import OutOfStock
from app.locations.address import Address
from app.locations.models import WAREHOUSE
from app.locations.routing import match_stores, route_delivery, route_to_warehouse
from app.orders.models import EXPRESS, STORE_DELIVERY

from .fakes import FakeUnitOfWork, location

XUHUI = location(1, "徐汇店", areas=[("徐汇区", "徐家汇街道"), ("徐汇区", "天平路街道")], lat=31.19, lng=121.43,
                 fence=[[31.18, 121.42], [31.18, 121.44], [31.20, 121.44], [31.20, 121.42]])
TIANLIN = location(2, "田林店", areas=[("徐汇区", "田林街道"), ("徐汇区", "天平路街道")], lat=31.17, lng=121.42)
WAREHOUSE_W = location(9, "中心仓", kind=WAREHOUSE, lat=31.35, lng=121.27)
MILK, RICE = 11, 12


def at(street, district="徐汇区", lat=None, lng=None):
    return Address("上海市", "上海市", district, street, lat=lat, lng=lng)


def places(stock):
    return FakeUnitOfWork(locations=[XUHUI, TIANLIN, WAREHOUSE_W], stock=stock)


def test_a_street_match_wins_over_the_district():
    result = match_stores(places({}), at("田林街道"))
    assert ([s.id for s in result.stores], result.basis) == ([TIANLIN.id], "street")


def test_the_district_matches_when_no_street_does_then_the_fence():
    assert [s.id for s in match_stores(places({}), at("康健新村街道")).stores] == [XUHUI.id, TIANLIN.id]
    fenced = match_stores(places({}), at("外滩街道", district="黄浦区", lat=31.195, lng=121.435))
    assert ([s.id for s in fenced.stores], fenced.basis) == ([XUHUI.id], "fence")
    nowhere = match_stores(places({}), at("外滩街道", district="黄浦区", lat=31.30, lng=121.60))
    assert (nowhere.stores, nowhere.basis) == ([], None)


def test_the_store_holding_the_whole_order_wins_over_a_nearer_one():
    near_tianlin = at("天平路街道", lat=31.171, lng=121.421)
    stock = {(XUHUI.id, MILK): 5, (XUHUI.id, RICE): 5, (TIANLIN.id, MILK): 5}
    decision = route_delivery(places(stock), near_tianlin, [(MILK, 1), (RICE, 1)])
    assert (decision.location.id, decision.fulfilment) == (XUHUI.id, STORE_DELIVERY)
    assert "就全" in decision.reason and "就近" not in decision.reason
    both = route_delivery(places(stock), near_tianlin, [(MILK, 1)])
    assert both.location.id == TIANLIN.id and "就近" in both.reason


def test_the_warehouse_ships_when_no_matching_store_holds_the_whole_order():
    stock = {(XUHUI.id, MILK): 1, (TIANLIN.id, MILK): 1, (WAREHOUSE_W.id, MILK): 100}
    decision = route_delivery(places(stock), at("天平路街道"), [(MILK, 3)])
    assert (decision.location.id, decision.fulfilment) == (WAREHOUSE_W.id, EXPRESS)
    assert "中心仓" in decision.reason


def test_nobody_holding_the_whole_order_is_out_of_stock():
    with pytest.raises(OutOfStock):
        route_to_warehouse(places({(XUHUI.id, MILK): 10}), at("天平路街道"), [(MILK, 3)])

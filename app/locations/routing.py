"""Which location fulfils an order (订单路由), and why.

Delivery from a store (门店配送匹配原则): stores whose 4th-level areas contain the address's street
match first; failing that, stores covering its district; failing that, stores whose electronic fence
contains its coordinates. Among matching stores the one holding the whole order wins (就全), then the
nearest (就近). When no matching store holds the whole order, the central warehouse ships it
(门店有货门店配送;门店没有货中心仓配送). Every decision carries a human-readable reason.

`source` is a unit of work or a reader: routing reads locations (`source.locations`) and what they
have available (`source.stock`) through it, so the decisions can be tested on fakes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFound, OutOfStock
from .address import Address
from .geo import distance_m, inside_fence
from .models import STORE, Location

BASIS_LABEL = {"street": "街道/乡镇", "district": "区县", "fence": "电子围栏"}


@dataclass(frozen=True)
class StoreMatch:
    stores: list[Location]
    basis: str | None  # 'street', 'district', 'fence' or None when no store serves the address

    @property
    def reason(self) -> str:
        if not self.stores:
            return "地址不在任何门店的配送范围内"
        names = "、".join(s.name for s in self.stores)
        return f"按{BASIS_LABEL[self.basis]}匹配到门店:{names}"


@dataclass(frozen=True)
class RoutingDecision:
    location: Location
    fulfilment: str
    reason: str


def match_stores(source, address: Address) -> StoreMatch:
    locations = source.locations
    for basis in ("street", "district"):
        stores = locations.stores_covering(address.province, address.city, **{basis: getattr(address, basis)})
        if stores:
            return StoreMatch(stores, basis)
    if address.has_point:
        inside = [s for s in locations.fenced_stores() if inside_fence(address.lat, address.lng, s.fence)]
        if inside:
            return StoreMatch(inside, "fence")
    return StoreMatch([], None)


def store_serves(source, store: Location, address: Address) -> bool:
    return store.id in {s.id for s in match_stores(source, address).stores}


def route_delivery(source, address: Address, lines: list[tuple[int, int]]) -> RoutingDecision:
    """Pick the store that delivers the order, or the central warehouse when none can."""
    match = match_stores(source, address)
    if match.stores:
        whole = _holding_whole_order(source, match.stores, lines)
        if whole:
            store, distance = _nearest(whole, address)
            reason = f"{match.reason};{store.name}整单有货(就全)"
            if len(whole) > 1 and distance is not None:
                reason += f",距离 {distance / 1000:.1f} km 最近(就近)"
            return RoutingDecision(store, "store_delivery", reason)
        fallback = f"{match.reason};匹配门店均无法整单供货,由中心仓发货"
    else:
        fallback = f"{match.reason},由中心仓发货"
    warehouse = route_to_warehouse(source, address, lines)
    return RoutingDecision(warehouse.location, "express", f"{fallback};{warehouse.reason}")


def route_to_warehouse(source, address: Address | None, lines: list[tuple[int, int]]) -> RoutingDecision:
    warehouses = source.locations.warehouses()
    whole = _holding_whole_order(source, warehouses, lines)
    if not whole:
        raise OutOfStock("门店与中心仓均无法整单供货", code="out_of_stock")
    warehouse, _ = _nearest(whole, address)
    return RoutingDecision(warehouse, "express", f"{warehouse.name}整单有货")


def usable_store(store):
    """`store` (a row with id, name, kind, active; None when no location has the id) if shoppers may
    name it for pickup or delivery, else a 404."""
    if store is None or not store.active or store.kind != STORE:
        raise NotFound("门店不存在或已停用", code="store_not_found")
    return store


def _holding_whole_order(source, locations: list[Location], lines: list[tuple[int, int]]) -> list[Location]:
    if not locations:
        return []
    available = source.stock.available_map([loc.id for loc in locations], [p for p, _ in lines])
    return [loc for loc in locations if all(available.get((loc.id, p), 0) >= q for p, q in lines)]


def _nearest(locations: list[Location], address: Address | None) -> tuple[Location, float | None]:
    if address is None or not address.has_point:
        return locations[0], None
    located = [(distance_m(address.lat, address.lng, loc.lat, loc.lng), loc.id, loc)
               for loc in locations if loc.lat is not None and loc.lng is not None]
    if not located:
        return locations[0], None
    distance, _, location = min(located)
    return location, distance

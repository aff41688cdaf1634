"""Small, explicit test data: a chain with two stores, a warehouse, a few products and accounts."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts.auth import Principal
from app.accounts.models import Member, Staff
from app.catalog.models import BY_WEIGHT, PER_PIECE, Product
from app.infra.unit_of_work import unit_of_work
from app.locations.models import STORE, WAREHOUSE, DeliveryArea, Location
from app.stock.models import StockItem

from .conftest import FAST_HASH, auth, token_for


@dataclass
class Chain:
    stores: dict = field(default_factory=dict)  # code -> id
    products: dict = field(default_factory=dict)  # sku -> id
    tokens: dict = field(default_factory=dict)  # name -> bearer token
    principals: dict = field(default_factory=dict)

    def h(self, who: str) -> dict:
        return auth(self.tokens[who])


def _square(lat, lng, d=0.01):
    return [[lat - d, lng - d], [lat - d, lng + d], [lat + d, lng + d], [lat + d, lng - d]]


def build_chain(app, *, stock: dict | None = None, members: int = 2) -> Chain:
    """Stores A (徐汇, street areas + fence), B (徐汇 district-level neighbour, nearer to 田林), C (杭州),
    warehouse W. `stock` maps (store code, sku) -> on_hand; default 50 everywhere."""
    chain = Chain()
    with app.app_context(), unit_of_work() as uow:
        s = uow.session
        specs = [
            ("A", "徐汇店", STORE, "徐汇区", "徐家汇街道", 31.19, 121.43, True, [("徐汇区", "徐家汇街道"), ("徐汇区", "天平路街道")]),
            ("B", "田林店", STORE, "徐汇区", "田林街道", 31.17, 121.42, False, [("徐汇区", "田林街道"), ("徐汇区", "天平路街道")]),
            ("C", "西湖店", STORE, "西湖区", "文新街道", 30.28, 120.13, False, []),
            ("W", "中心仓", WAREHOUSE, "嘉定区", "马陆镇", 31.35, 121.27, False, []),
        ]
        for code, name, kind, district, street, lat, lng, fenced, areas in specs:
            city = "杭州市" if code == "C" else "上海市"
            province = "浙江省" if code == "C" else "上海市"
            loc = Location(code=code, name=name, kind=kind, province=province, city=city, district=district,
                           street=street, lat=lat, lng=lng, fence=_square(lat, lng) if fenced else None, active=True)
            loc.areas = [DeliveryArea(province=province, city=city, district=d, street=st) for d, st in areas]
            s.add(loc)
        products = [
            Product(sku="MILK", name="鲜牛奶", category="乳品", sold_by=PER_PIECE, unit_price=1590, active=True),
            Product(sku="RICE", name="大米 5kg", category="粮油", sold_by=PER_PIECE, unit_price=6990, active=True),
            Product(sku="CHICKEN", name="烧鸡", category="熟食", sold_by=BY_WEIGHT, price_per_kg=5980,
                    standard_weight_g=750, unit="只", active=True),
            Product(sku="OLD", name="下架商品", category="其他", sold_by=PER_PIECE, unit_price=100, active=False),
        ]
        s.add_all(products)
        s.flush()
        locations = {loc.code: loc for loc in s.query(Location)}
        chain.stores = {code: loc.id for code, loc in locations.items()}
        chain.products = {p.sku: p.id for p in products}
        for code, loc in locations.items():
            for p in products:
                on_hand = (stock or {}).get((code, p.sku), 50 if stock is None else 0)
                s.add(StockItem(location_id=loc.id, product_id=p.id, on_hand=on_hand, reserved=0))
        member_rows = [Member(phone=f"1380000{i:04d}", name=f"会员{i}", password_hash=FAST_HASH) for i in range(members)]
        staff_rows = [
            Staff(username="clerkA", name="店员A", role="clerk", store_id=locations["A"].id, password_hash=FAST_HASH),
            Staff(username="clerkB", name="店员B", role="clerk", store_id=locations["B"].id, password_hash=FAST_HASH),
            Staff(username="courierA", name="配送A", role="courier", store_id=locations["A"].id, password_hash=FAST_HASH),
            Staff(username="hq", name="总部", role="hq", store_id=None, password_hash=FAST_HASH),
        ]
        s.add_all(member_rows + staff_rows)
        s.flush()
        for i, m in enumerate(member_rows):
            chain.principals[f"m{i}"] = Principal("member", m.id, "member", None, m.name)
        for st in staff_rows:
            chain.principals[st.username] = Principal("staff", st.id, st.role, st.store_id, st.name)
    chain.tokens = {name: token_for(app, p) for name, p in chain.principals.items()}
    return chain


def stock_row(app, store_id: int, product_id: int) -> tuple[int, int]:
    with app.app_context():
        from app.extensions import db

        item = db.session.get(StockItem, (store_id, product_id))
        result = (item.on_hand, item.reserved)
        db.session.remove()
        return result


ADDR_TIANPING = {"province": "上海市", "city": "上海市", "district": "徐汇区", "street": "天平路街道"}

"""A realistic demo chain: 5 stores in 上海 and 杭州 with delivery areas and fences, a central warehouse,
30+ products (weighed fresh goods among them), stock, members and the demo staff accounts.

Only for demo mode: the demo logins in the README must never exist in production.
"""
from __future__ import annotations

from sqlalchemy import func, select

from ..accounts.auth import hash_password
from ..accounts.models import CLERK, COURIER, HQ, Member, Staff
from ..catalog.models import BY_WEIGHT, PER_PIECE, Product
from ..infra.unit_of_work import unit_of_work
from ..locations.models import STORE, WAREHOUSE, DeliveryArea, Location
from ..stock.models import StockItem

DEMO_PASSWORD = "demo1234"


def _box(lat: float, lng: float, d: float = 0.012) -> list[list[float]]:
    return [[lat - d, lng - d], [lat - d, lng + d], [lat + d, lng + d], [lat + d, lng - d]]


# code, name, kind, province, city, district, street, detail, lat, lng, fence?, [(district, street), ...]
LOCATIONS = [
    ("SH-XH", "徐汇漕溪北路店", STORE, "上海市", "上海市", "徐汇区", "徐家汇街道", "漕溪北路 88 号", 31.1915, 121.4375, True,
     [("徐汇区", "徐家汇街道"), ("徐汇区", "天平路街道"), ("徐汇区", "枫林路街道")]),
    ("SH-JA", "静安南京西路店", STORE, "上海市", "上海市", "静安区", "南京西路街道", "南京西路 1266 号", 31.2290, 121.4520, False,
     [("静安区", "南京西路街道"), ("静安区", "静安寺街道"), ("静安区", "江宁路街道")]),
    ("SH-PD", "浦东陆家嘴店", STORE, "上海市", "上海市", "浦东新区", "陆家嘴街道", "世纪大道 100 号", 31.2363, 121.5055, True,
     [("浦东新区", "陆家嘴街道"), ("浦东新区", "潍坊新村街道"), ("浦东新区", "洋泾街道")]),
    ("HZ-XH", "杭州西湖文三路店", STORE, "浙江省", "杭州市", "西湖区", "文新街道", "文三路 398 号", 30.2810, 120.1290, True,
     [("西湖区", "文新街道"), ("西湖区", "翠苑街道"), ("西湖区", "古荡街道")]),
    ("HZ-BJ", "杭州滨江星光店", STORE, "浙江省", "杭州市", "滨江区", "西兴街道", "江南大道 228 号", 30.2085, 120.2110, False,
     [("滨江区", "西兴街道"), ("滨江区", "长河街道")]),
    ("WH-SH", "华东中心仓(嘉定)", WAREHOUSE, "上海市", "上海市", "嘉定区", "马陆镇", "宝安公路 2999 号", 31.3480, 121.2660, False, []),
]

# sku, name, category, sold_by, unit price (分) or price per kg (分), standard weight g (weighed only)
PRODUCTS = [
    ("FRE-001", "德州扒鸡(烧鸡)", "熟食", BY_WEIGHT, 5980, 750),
    ("FRE-002", "北京烤鸭(整只)", "熟食", BY_WEIGHT, 8800, 1200),
    ("FRE-003", "五香卤牛肉", "熟食", BY_WEIGHT, 15800, 300),
    ("FRE-004", "酱猪蹄", "熟食", BY_WEIGHT, 6800, 500),
    ("FRE-005", "三文鱼刺身", "生鲜", BY_WEIGHT, 26800, 200),
    ("FRE-006", "精品五花肉", "生鲜", BY_WEIGHT, 3600, 500),
    ("FRU-001", "烟台红富士苹果 4 粒装", "水果", PER_PIECE, 1990, None),
    ("FRU-002", "海南香蕉 1 把", "水果", PER_PIECE, 1290, None),
    ("FRU-003", "赣南脐橙 2.5kg", "水果", PER_PIECE, 3990, None),
    ("FRU-004", "阳光玫瑰葡萄 500g", "水果", PER_PIECE, 2990, None),
    ("VEG-001", "有机西兰花", "蔬菜", PER_PIECE, 690, None),
    ("VEG-002", "本地小青菜 500g", "蔬菜", PER_PIECE, 390, None),
    ("VEG-003", "山东大葱 1kg", "蔬菜", PER_PIECE, 590, None),
    ("VEG-004", "土豆 1kg", "蔬菜", PER_PIECE, 490, None),
    ("DAI-001", "光明鲜牛奶 950ml", "乳品", PER_PIECE, 1590, None),
    ("DAI-002", "蒙牛纯牛奶 250ml×12", "乳品", PER_PIECE, 4290, None),
    ("DAI-003", "安慕希酸奶 205g×12", "乳品", PER_PIECE, 5990, None),
    ("GRA-001", "五常大米 5kg", "粮油", PER_PIECE, 6990, None),
    ("GRA-002", "金龙鱼花生油 5L", "粮油", PER_PIECE, 9990, None),
    ("GRA-003", "海天生抽 1.9L", "粮油", PER_PIECE, 1890, None),
    ("GRA-004", "挂面 1kg", "粮油", PER_PIECE, 990, None),
    ("SNK-001", "三只松鼠每日坚果 30 袋", "零食", PER_PIECE, 12900, None),
    ("SNK-002", "乐事薯片 原味 135g", "零食", PER_PIECE, 890, None),
    ("SNK-003", "奥利奥饼干 388g", "零食", PER_PIECE, 1690, None),
    ("DRK-001", "农夫山泉 550ml×24", "饮料", PER_PIECE, 3590, None),
    ("DRK-002", "可口可乐 330ml×6", "饮料", PER_PIECE, 1990, None),
    ("DRK-003", "东方树叶茉莉花茶 500ml", "饮料", PER_PIECE, 590, None),
    ("DAY-001", "维达抽纸 3 层 100 抽×6", "日用", PER_PIECE, 2490, None),
    ("DAY-002", "蓝月亮洗衣液 3kg", "日用", PER_PIECE, 5990, None),
    ("DAY-003", "高露洁牙膏 180g", "日用", PER_PIECE, 1590, None),
    ("DAY-004", "舒肤佳香皂 3 块装", "日用", PER_PIECE, 1790, None),
    ("FRZ-001", "思念水饺 猪肉白菜 1kg", "冷冻", PER_PIECE, 2590, None),
    ("FRZ-002", "湾仔码头汤圆 400g", "冷冻", PER_PIECE, 1690, None),
]

MEMBERS = [("13800000001", "张小萌"), ("13800000002", "李建国"), ("13900000003", "王芳")]
# username, name, role, store code (None for HQ)
STAFF = [("clerk1", "陈店员", CLERK, "SH-XH"), ("clerk2", "刘店员", CLERK, "SH-JA"),
         ("courier1", "赵配送", COURIER, "SH-XH"), ("admin", "总部管理员", HQ, None)]


def is_empty(session) -> bool:
    return session.execute(select(func.count()).select_from(Location)).scalar_one() == 0


def seed_demo_data() -> bool:
    """Create the demo chain if the database has no locations yet; returns whether it did."""
    password_hash = hash_password(DEMO_PASSWORD)
    with unit_of_work() as uow:
        session = uow.session
        if not is_empty(session):
            return False
        locations = {}
        for code, name, kind, prov, city, dist, street, detail, lat, lng, fenced, areas in LOCATIONS:
            loc = Location(code=code, name=name, kind=kind, province=prov, city=city, district=dist, street=street,
                           address_detail=detail, lat=lat, lng=lng, fence=_box(lat, lng) if fenced else None,
                           phone="400-820-8820", active=True)
            loc.areas = [DeliveryArea(province=prov, city=city, district=d, street=s) for d, s in areas]
            session.add(loc)
            locations[code] = loc
        products = []
        for sku, name, category, sold_by, price, weight in PRODUCTS:
            weighed = sold_by == BY_WEIGHT
            products.append(Product(
                sku=sku, name=name, category=category, sold_by=sold_by, unit="只" if weighed else "件",
                unit_price=None if weighed else price, price_per_kg=price if weighed else None,
                standard_weight_g=weight, active=True,
            ))
        session.add_all(products)
        session.flush()
        for index, loc in enumerate(locations.values()):
            for p_index, product in enumerate(products):
                on_hand = 500 if loc.kind == WAREHOUSE else (7 * (index + 1) + 3 * p_index) % 40 + 10
                session.add(StockItem(location_id=loc.id, product_id=product.id, on_hand=on_hand, reserved=0))
        for phone, name in MEMBERS:
            session.add(Member(phone=phone, name=name, password_hash=password_hash, points=0))
        for username, name, role, store_code in STAFF:
            session.add(Staff(username=username, name=name, role=role, password_hash=password_hash,
                              store_id=locations[store_code].id if store_code else None))
    return True

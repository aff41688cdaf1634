"""Data access for products: what placing an order reads of its goods (prebuilt, on the hot path),
and the catalogue listing."""
from __future__ import annotations

from collections import namedtuple

from sqlalchemy import bindparam, func, select

from ..infra.fastsql import FastStatement
from ..locations.models import Location
from ..stock.models import StockItem
from .models import Product

_products, _locations, _stock = Product.__table__, Location.__table__, StockItem.__table__
# What placing an order reads of a product, and of a store the shopper named.
_GOODS_COLUMNS = tuple(_products.c[name] for name in ("id", "sku", "name", "sold_by", "unit_price", "price_per_kg",
                                                      "standard_weight_g"))
_STORE_COLUMNS = tuple(_locations.c[name] for name in ("id", "name", "kind", "active"))
NamedStore = namedtuple("NamedStore", [column.key for column in _STORE_COLUMNS])

_LISTED_SKU = (_products.c.sku == bindparam("sku"), _products.c.active.is_(True))
_LISTED_PRODUCT = FastStatement(select(*_GOODS_COLUMNS).where(*_LISTED_SKU))
# A shopper who names a store gets the goods and the store in one statement: on the order's hot path a
# statement costs more than the join. A missing store leaves its columns NULL.
_LISTED_PRODUCT_WITH_STORE = FastStatement(
    select(*_GOODS_COLUMNS, *(column.label(f"store_{column.key}") for column in _STORE_COLUMNS))
    .select_from(_products.outerjoin(_locations, _locations.c.id == bindparam("store")))
    .where(*_LISTED_SKU)
)
_PRODUCT_ID = FastStatement(select(_products.c.id).where(_products.c.sku == bindparam("sku")))


class CatalogRepository:
    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def listed_goods(self, skus: list[str]) -> dict:
        """{sku: the listed product's row (id, sku, name, sold_by, prices, standard weight) or None}."""
        return {sku: _LISTED_PRODUCT.first(self._connection, {"sku": sku}) for sku in skus}

    def listed_goods_and_store(self, skus: list[str], store_id: int) -> tuple[dict, NamedStore | None]:
        """listed_goods' answer and the location `store_id` (id, name, kind, active; None: no such
        location), read together. With no listed product among `skus` the store is not read."""
        found = {sku: _LISTED_PRODUCT_WITH_STORE.first(self._connection, {"sku": sku, "store": store_id})
                 for sku in skus}
        row = next((row for row in found.values() if row is not None), None)
        if row is None or row.store_id is None:
            return found, None
        return found, NamedStore(row.store_id, row.store_name, row.store_kind, row.store_active)

    def product_id(self, sku: str) -> int | None:
        """The id of the product with this SKU, listed or not."""
        row = _PRODUCT_ID.first(self._connection, {"sku": sku})
        return None if row is None else row.id

    def listing(self, *, location_id: int | None = None, category: str | None = None, search: str = "") -> list:
        """Listed products with what is available (at one location, or summed over all), by category and SKU:
        rows with the product's columns and `available`. `search`: the name or SKU contains it."""
        stock = select(_stock.c.product_id, func.sum(_stock.c.on_hand - _stock.c.reserved).label("available"))
        if location_id is not None:
            stock = stock.where(_stock.c.location_id == location_id)
        stock = stock.group_by(_stock.c.product_id).subquery()
        query = (select(_products, func.coalesce(stock.c.available, 0).label("available"))
                 .outerjoin(stock, stock.c.product_id == _products.c.id)
                 .where(_products.c.active.is_(True)).order_by(_products.c.category, _products.c.sku))
        if category:
            query = query.where(_products.c.category == category)
        if search:  # LIKE's wildcards in the words are taken literally
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(_products.c.name.ilike(pattern, escape="\\") | _products.c.sku.ilike(pattern, escape="\\"))
        return self._connection.execute(query).all()

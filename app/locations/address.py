"""A delivery address as the shopper gives it, validated into a plain value object."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationFailed
from ..regions import resolve as resolve_region

LEVELS = ("province", "city", "district", "street")


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    street: str
    detail: str = ""
    lat: float | None = None
    lng: float | None = None

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None

    def to_dict(self) -> dict:
        return {
            "province": self.province, "city": self.city, "district": self.district,
            "street": self.street, "detail": self.detail, "lat": self.lat, "lng": self.lng,
        }


def parse_address(raw) -> Address:
    if not isinstance(raw, dict):
        raise ValidationFailed("address 必须是对象", code="invalid_address")
    values = {}
    for level in LEVELS:
        value = raw.get(level)
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise ValidationFailed(f"地址缺少 {level}", code="invalid_address", details={"field": level})
        values[level] = value.strip()
    detail = raw.get("detail", "")
    if not isinstance(detail, str) or len(detail) > 200:
        raise ValidationFailed("detail 必须是不超过 200 字的文本", code="invalid_address", details={"field": "detail"})
    lat, lng = raw.get("lat"), raw.get("lng")
    if lat is not None or lng is not None:
        lat, lng = parse_point(lat, lng)
    # The four levels must name a real region (GB/T 2260, the dataset the address picker shows).
    resolve_region(values["province"], values["city"], values["district"], values["street"])
    return Address(detail=detail.strip(), lat=lat, lng=lng, **values)


def parse_point(lat, lng) -> tuple[float, float]:
    """A (lat, lng) pair as the browser's geolocation gives it, checked."""
    if lat is None or lng is None:
        raise ValidationFailed("lat 与 lng 必须同时提供", code="invalid_address")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lng)):
        raise ValidationFailed("lat/lng 必须是数字", code="invalid_address")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed("lat/lng 超出范围", code="invalid_address")
    return lat, lng

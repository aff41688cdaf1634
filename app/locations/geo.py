"""Plane geometry on lat/lng good enough for city-scale delivery: distance and point-in-fence."""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def inside_fence(lat: float, lng: float, fence: list[list[float]]) -> bool:
    """Ray casting: is the point inside the polygon of [lat, lng] vertices? Points on an edge count as inside."""
    if not fence or len(fence) < 3:
        return False
    inside = False
    n = len(fence)
    for i in range(n):
        (y1, x1), (y2, x2) = fence[i], fence[(i + 1) % n]
        if _on_segment(lat, lng, y1, x1, y2, x2):
            return True
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < x_cross:
                inside = not inside
    return inside


def _on_segment(py, px, y1, x1, y2, x2, eps=1e-12) -> bool:
    cross = (px - x1) * (y2 - y1) - (py - y1) * (x2 - x1)
    if abs(cross) > eps:
        return False
    return min(x1, x2) - eps <= px <= max(x1, x2) + eps and min(y1, y2) - eps <= py <= max(y1, y2) + eps

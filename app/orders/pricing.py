"""Prices in integer cents (分). Weighed goods sold online per piece cost standard weight × price per kg."""
from __future__ import annotations

from ..catalog.models import BY_WEIGHT
from .models import EXPRESS, STORE_DELIVERY

# Delivery fees and the goods totals above which they are waived.
DELIVERY_FEES = {STORE_DELIVERY: (500, 5900), EXPRESS: (1000, 9900)}


# Functions take a Product or any row with its columns (the order hot path reads rows, not objects).


def is_weighed(product) -> bool:
    return product.sold_by == BY_WEIGHT


def piece_price(product) -> int:
    """What one piece costs online, in cents."""
    if is_weighed(product):
        # Round half up to the cent: 750 g at 5,980 分/kg is 4,485 分.
        return (product.standard_weight_g * product.price_per_kg + 500) // 1000
    return product.unit_price


def delivery_fee(fulfilment: str, goods_total: int) -> int:
    fee, free_from = DELIVERY_FEES.get(fulfilment, (0, 0))
    return 0 if goods_total >= free_from else fee

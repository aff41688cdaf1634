"""Prices in cents: weighed goods per piece, delivery fees and where they are waived."""
from app.orders import pricing
from app.orders.models import EXPRESS, PICKUP, STORE_DELIVERY

from .fakes import product


def test_a_piece_costs_its_unit_price():
    assert pricing.piece_price(product(1, "MILK", unit_price=1590)) == 1590
    assert not pricing.is_weighed(product(1, "MILK", unit_price=1590))


def test_weighed_goods_cost_standard_weight_times_price_per_kg_rounded_half_up():
    chicken = product(2, "CHICKEN", price_per_kg=5980, standard_weight_g=750)
    assert pricing.is_weighed(chicken)
    assert pricing.piece_price(chicken) == 4485  # 750 g × 59.80 元/kg = 44.85 元
    assert pricing.piece_price(product(3, "X", price_per_kg=1001, standard_weight_g=500)) == 501  # 500.5 分 → 501
    assert pricing.piece_price(product(4, "Y", price_per_kg=999, standard_weight_g=500)) == 500  # 499.5 分 → 500


def test_delivery_fees_are_waived_from_their_threshold():
    assert pricing.delivery_fee(PICKUP, 100) == 0
    assert pricing.delivery_fee(STORE_DELIVERY, 5899) == 500
    assert pricing.delivery_fee(STORE_DELIVERY, 5900) == 0
    assert pricing.delivery_fee(EXPRESS, 9899) == 1000
    assert pricing.delivery_fee(EXPRESS, 9900) == 0

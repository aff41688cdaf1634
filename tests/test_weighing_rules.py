"""Re-weighing arithmetic (app/weighing/rules.py), property-based: no fen drifts, every fen of a difference
is accounted for, refunds never exceed what was paid."""
from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings, strategies as st

from app.orders.pricing import piece_price
from app.weighing import rules
from app.weighing.rules import Conversion, Tolerance

grams = st.integers(min_value=1, max_value=5_000)
price_per_kg = st.integers(min_value=1, max_value=200_000)  # up to 2,000 元/kg
pieces = st.integers(min_value=1, max_value=50)
weights = st.integers(min_value=0, max_value=rules.MAX_WEIGHT_G)
tolerances = st.one_of(
    st.builds(Tolerance, grams=st.integers(min_value=0, max_value=200)),
    st.builds(Tolerance, basis_points=st.integers(min_value=0, max_value=2_000)),
)


class _Product:
    sold_by = "weight"

    def __init__(self, g, ppkg):
        self.standard_weight_g, self.price_per_kg = g, ppkg


def line_cost(g, ppkg, n):
    """What placement charges for n pieces (pricing.piece_price x qty)."""
    return piece_price(_Product(g, ppkg)) * n


def test_the_seed_example():
    # 烧鸡 sold per piece, 1 只 = 750 g at 59.80 元/kg; 2 只 ordered = 1,500 g expected.
    chicken = Conversion(grams_per_unit=750, price_per_kg=5980)
    cost = line_cost(750, 5980, 2)
    assert cost == 8970
    lighter = rules.assess(chicken, 2, cost, 1420, Tolerance(grams=5))
    assert (lighter.expected_g, lighter.difference, lighter.direction) == (1500, -478, "lighter")  # -4.784 -> -4.78
    heavier = rules.assess(chicken, 2, cost, 1583, Tolerance(grams=5))
    assert (heavier.difference, heavier.weighed_value) == (496, 9466)  # 83 g x 59.80 = 4.9634 元 -> 4.96
    assert rules.assess(chicken, 2, cost, 1504, Tolerance(grams=5)).difference == 0


@pytest.mark.parametrize("delta_g, ppkg, expected", [
    (1, 500, 0),     # +0.5 fen: a half, in the member's favour -> 0
    (-1, 500, -1),   # -0.5 fen: a half refunded in the member's favour -> -1
    (3, 500, 1),     # +1.5 -> 1
    (-3, 500, -2),   # -1.5 -> -2
    (1, 501, 1),     # +0.501 -> 1
    (-1, 499, 0),    # -0.499 -> 0
    (10, 5980, 60),  # 59.8 -> 60
])
def test_rounding_rule(delta_g, ppkg, expected):
    assert rules.difference_fen(delta_g, ppkg) == expected


@given(st.integers(min_value=-100_000, max_value=100_000), price_per_kg)
def test_difference_is_the_nearest_fen_with_halves_to_the_member(delta_g, ppkg):
    exact = delta_g * ppkg  # thousandths of a fen
    diff = rules.difference_fen(delta_g, ppkg)
    assert abs(diff * 1000 - exact) <= 500
    if abs(diff * 1000 - exact) == 500:  # a tie went the member's way: less to pay or more back
        assert diff * 1000 < exact


@given(grams, price_per_kg, pieces, weights, tolerances)
@example(333, 1001, 3, 0, Tolerance())  # per-piece rounding down: the per-kg value exceeds the line cost
def test_assessment_never_refunds_more_than_the_line_cost(g, ppkg, n, actual, tolerance):
    cost = line_cost(g, ppkg, n)
    a = rules.assess(Conversion(g, ppkg), n, cost, actual, tolerance)
    assert a.expected_g == g * n
    assert a.weighed_value == cost + a.difference >= 0
    if a.within_tolerance:
        assert a.difference == 0
    if actual == a.expected_g:
        assert a.difference == 0
    # Away from the refund cap, the difference is exactly the rounded per-kg value of the weight off.
    if not a.within_tolerance and a.weighed_value > 0:
        assert a.difference == rules.difference_fen(actual - a.expected_g, ppkg)


@given(grams, price_per_kg, pieces, weights)
def test_heavier_costs_more_lighter_costs_less(g, ppkg, n, actual):
    cost = line_cost(g, ppkg, n)
    a = rules.assess(Conversion(g, ppkg), n, cost, actual, Tolerance())
    assert (a.difference > 0) <= (actual > a.expected_g)
    assert (a.difference < 0) <= (actual < a.expected_g)


@given(tolerances, st.integers(min_value=1, max_value=100_000), weights)
def test_tolerance_is_symmetric(tolerance, expected, actual):
    mirror = 2 * expected - actual
    assume(mirror >= 0)
    assert tolerance.allows(expected, actual) == tolerance.allows(expected, mirror)


@pytest.mark.parametrize("text, parsed", [("5g", Tolerance(grams=5)), (" 0 g ", Tolerance(grams=0)),
                                          ("1.5%", Tolerance(basis_points=150)), ("2%", Tolerance(basis_points=200)),
                                          ("0.25%", Tolerance(basis_points=25))])
def test_tolerance_parse(text, parsed):
    assert Tolerance.parse(text) == parsed


@pytest.mark.parametrize("text", ["", "5", "-5g", "1.5g", "abc", "1.234%", "5kg"])
def test_tolerance_parse_refuses(text):
    with pytest.raises(ValueError):
        Tolerance.parse(text)


@given(st.integers(min_value=-1_000_000, max_value=1_000_000), st.booleans(), st.data())
def test_every_settlement_accounts_for_every_fen(difference, cod, data):
    direction = "heavier" if difference > 0 else "lighter" if difference < 0 else "even"
    settlement = data.draw(st.sampled_from(rules.choices(direction, cash_on_delivery=cod)))
    goods = data.draw(st.integers(min_value=1, max_value=-difference)) if settlement == rules.ADD_GOODS else 0
    s = rules.split(settlement, difference, goods_value=goods, cash_on_delivery=cod)
    assert s.accounts_for(difference)
    if cod:
        assert s.refunded == s.collected == 0  # cash on delivery: no money moved online
    else:
        assert s.due_change == 0


def test_a_settlement_that_does_not_fit_is_refused():
    with pytest.raises(ValueError):
        rules.split(rules.REFUND, 100)  # heavier: nothing to refund
    with pytest.raises(ValueError):
        rules.split(rules.TOPUP, -100)
    with pytest.raises(ValueError):
        rules.split(rules.ADD_GOODS, -100, goods_value=101)  # goods worth more than the shortfall
    with pytest.raises(ValueError):
        rules.split(rules.REFUND, -100, cash_on_delivery=True)  # nothing was paid online


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=4), st.data())
def test_refund_allocation_never_exceeds_any_payment(available, data):
    payments = list(enumerate(available, start=1))
    amount = data.draw(st.integers(min_value=0, max_value=sum(available) + 10))
    if amount > sum(available):
        with pytest.raises(ValueError):
            rules.allocate_refund(amount, payments)
        return
    plan = rules.allocate_refund(amount, payments)
    assert sum(a for _, a in plan) == amount
    for payment_id, taken in plan:
        assert 0 < taken <= dict(payments)[payment_id]


# An order's whole story: lines sold per piece, each weighed and settled by one of its choices; a top-up
# is a payment of its own; refunds come off the payments. At the end the books balance to the fen.
line_specs = st.lists(st.tuples(grams, st.integers(min_value=100, max_value=30_000), st.integers(1, 5), weights),
                      min_size=1, max_size=6)


@settings(max_examples=300)
@given(line_specs, st.integers(min_value=0, max_value=1_000), st.booleans(), tolerances, st.data())
def test_an_order_balances_to_the_fen(specs, fee, cod, tolerance, data):
    costs = [line_cost(g, p, n) for g, p, n, _ in specs]
    total = sum(costs) + fee
    payments = [] if cod else [total]  # cash on delivery pays nothing up front
    refunds, waived, goods_given, cash, due_change = [], 0, 0, 0, 0
    weighed_values = []
    for (g, p, n, actual), cost in zip(specs, costs):
        a = rules.assess(Conversion(g, p), n, cost, actual, tolerance)
        weighed_values.append(a.weighed_value)
        settlement = data.draw(st.sampled_from(rules.choices(a.direction, cash_on_delivery=cod)))
        goods = data.draw(st.integers(1, -a.difference)) if settlement == rules.ADD_GOODS else 0
        s = rules.split(settlement, a.difference, goods_value=goods, cash_on_delivery=cod)
        if s.refunded:
            refundable = [(i, amount - sum(r for j, r in refunds if j == i)) for i, amount in enumerate(payments)]
            refunds += rules.allocate_refund(s.refunded, refundable)
        if settlement == rules.TOPUP:
            payments.append(s.collected)
        elif settlement == rules.CASH:
            cash += s.collected
        waived += s.waived
        goods_given += s.goods_value
        due_change += s.due_change
    # Refunds never exceed what was paid, per payment and overall.
    for i, amount in enumerate(payments):
        assert sum(r for j, r in refunds if j == i) <= amount
    collected_at_door = total + due_change if cod else 0
    assert collected_at_door >= 0
    money_in = sum(payments) - sum(r for _, r in refunds) + cash + collected_at_door
    # What the member paid, plus what the chain waived, is what the weighed goods and the goods added cost.
    assert money_in + waived == sum(weighed_values) + fee + goods_given

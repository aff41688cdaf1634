"""The arithmetic of re-weighing, in integer grams and fen (分). Pure: no database, no HTTP.

Conversion (商品转换关系, online unit -> offline unit): one online piece is `grams_per_unit` grams of
an item sold offline at `price_per_kg`. 烧鸡: 1 只 = 750 g at 59.80 元/kg, so 2 只 = 1,500 g expected.

The rounding rule (stated once, used everywhere):
  difference = (actual g - expected g) x price per kg / 1000, to the nearest fen, a half fen in the
  member's favour (a top-up of 12.5 fen is 12 fen, a refund of 12.5 fen is 13 fen);
  it is settled against what the line actually cost (its line_total, which the member paid), so a
  refund never exceeds the line's cost and line cost + difference is exactly what the weighed line
  costs in the end: no fen drifts between the line, the refund and the top-up.
Within the tolerance (grams, or basis points of the expected weight) the difference is 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_WEIGHT_G = 100_000  # 100 kg: more than any weighed line; a scale reading above is an error

# Directions of a difference.
LIGHTER, HEAVIER, EVEN = "lighter", "heavier", "even"

# Settlements.
NONE = "none"  # within tolerance, or a difference that rounds to 0 fen: nothing to settle
REFUND = "refund"  # lighter: the difference back to the original payment route (partial refund)
ADD_GOODS = "add_goods"  # lighter: goods added to make up the difference (增补商品)
TOPUP = "topup"  # heavier: the member pays a top-up on their phone
CASH = "cash"  # heavier: the clerk takes the difference in cash
WAIVE = "waive"  # heavier: the chain waives it, with a reason, within the store's limit
AMOUNT_DUE = "amount_due"  # cash on delivery / pay at store: the amount collected changes
SETTLEMENTS = (NONE, REFUND, ADD_GOODS, TOPUP, CASH, WAIVE, AMOUNT_DUE)

LABELS = {NONE: "无需补退", REFUND: "原路退款", ADD_GOODS: "增补商品", TOPUP: "会员补款", CASH: "现金补款",
          WAIVE: "差额免收", AMOUNT_DUE: "计入应收"}


@dataclass(frozen=True)
class Conversion:
    """One online unit (a piece) converted to the offline unit (grams at a price per kg)."""

    grams_per_unit: int
    price_per_kg: int

    def expected_grams(self, pieces: int) -> int:
        return pieces * self.grams_per_unit


def difference_fen(delta_g: int, price_per_kg: int) -> int:
    """delta_g x price_per_kg / 1000 to the nearest fen, a half fen in the member's favour.

    The product is in thousandths of a fen; adding 499 and flooring rounds x.5 down, so a positive
    (member pays) half goes down and a negative (member is refunded) half goes further negative."""
    return (delta_g * price_per_kg + 499) // 1000


@dataclass(frozen=True)
class Tolerance:
    """How far a weight may stray from the expected weight with nothing to settle."""

    grams: int = 0
    basis_points: int | None = None  # of the expected weight (100 = 1 %); used instead of grams when set

    def allows(self, expected_g: int, actual_g: int) -> bool:
        off = abs(actual_g - expected_g)
        if self.basis_points is not None:
            return off * 10_000 <= expected_g * self.basis_points  # exact, no float
        return off <= self.grams

    def describe(self) -> str:
        if self.basis_points is not None:
            return f"±{self.basis_points / 100:g}%"
        return f"±{self.grams} g"

    @classmethod
    def parse(cls, text: str) -> "Tolerance":
        """'5g', '0 g', '1.5%' -> Tolerance; anything else is a ValueError (refused at startup)."""
        match = re.fullmatch(r"\s*(\d{1,5})(?:\.(\d{1,2}))?\s*(g|%)\s*", text or "")
        if not match:
            raise ValueError(f"tolerance must look like '5g' or '1.5%', got {text!r}")
        whole, fraction, unit = match.groups()
        if unit == "g":
            if fraction:
                raise ValueError("tolerance in grams must be whole grams")
            return cls(grams=int(whole))
        return cls(basis_points=int(whole) * 100 + int((fraction or "0").ljust(2, "0")))

    @classmethod
    def of_product(cls, grams: int | None, basis_points: int | None, default: "Tolerance") -> "Tolerance":
        """A product's own tolerance when it has one, else the chain's default."""
        if basis_points is not None:
            return cls(basis_points=basis_points)
        if grams is not None:
            return cls(grams=grams)
        return default


@dataclass(frozen=True)
class Assessment:
    """One weighed line against what it was sold as."""

    pieces: int
    expected_g: int
    actual_g: int
    price_per_kg: int
    line_cost: int  # what the line cost (its line_total): the base every settlement is counted against
    difference: int  # fen; > 0 the member owes, < 0 the member is owed
    within_tolerance: bool

    @property
    def delta_g(self) -> int:
        return self.actual_g - self.expected_g

    @property
    def direction(self) -> str:
        return HEAVIER if self.difference > 0 else LIGHTER if self.difference < 0 else EVEN

    @property
    def weighed_value(self) -> int:
        """What the line costs once weighed: never below 0."""
        return self.line_cost + self.difference


def assess(conversion: Conversion, pieces: int, line_cost: int, actual_g: int, tolerance: Tolerance) -> Assessment:
    if not 0 <= actual_g <= MAX_WEIGHT_G:
        raise ValueError(f"weight must be 0..{MAX_WEIGHT_G} g")
    expected = conversion.expected_grams(pieces)
    within = tolerance.allows(expected, actual_g)
    difference = 0 if within else difference_fen(actual_g - expected, conversion.price_per_kg)
    # Settled against what the line cost: a refund never exceeds what was paid for the line (the per-piece
    # price was rounded per piece, so the per-kg value of the expected weight can exceed it by a fen or two).
    difference = max(difference, -line_cost)
    return Assessment(pieces, expected, actual_g, conversion.price_per_kg, line_cost, difference, within)


def choices(direction: str, *, cash_on_delivery: bool) -> tuple[str, ...]:
    """The settlements open to a difference. Cash-on-delivery orders settle money in the amount due."""
    if direction == EVEN:
        return (NONE,)
    if direction == LIGHTER:
        return (AMOUNT_DUE, ADD_GOODS) if cash_on_delivery else (REFUND, ADD_GOODS)
    return (AMOUNT_DUE, WAIVE) if cash_on_delivery else (TOPUP, CASH, WAIVE)


@dataclass(frozen=True)
class Split:
    """Where every fen of a difference went. For a settled line:
    refunded + goods_value + waived + collected + |due_change| == |difference|."""

    refunded: int = 0  # back to the original payment route
    goods_value: int = 0  # list value of goods added (增补商品)
    waived: int = 0  # absorbed by the chain
    collected: int = 0  # taken from the member: top-up paid or cash
    due_change: int = 0  # signed change of a cash-on-delivery order's amount due

    def accounts_for(self, difference: int) -> bool:
        parts = (self.refunded, self.goods_value, self.waived, self.collected)
        return all(p >= 0 for p in parts) and sum(parts) + abs(self.due_change) == abs(difference)


def split(settlement: str, difference: int, *, goods_value: int = 0, cash_on_delivery: bool = False) -> Split:
    """How `settlement` accounts for `difference`. Goods added may be worth less than a shortfall: the rest
    is refunded (or taken off the amount due); never more (the chain would be giving goods away)."""
    owed = abs(difference)
    if settlement not in choices(LIGHTER if difference < 0 else HEAVIER if difference > 0 else EVEN,
                                 cash_on_delivery=cash_on_delivery):
        raise ValueError(f"{settlement} does not settle a difference of {difference}")
    if settlement == NONE:
        return Split()
    if settlement == REFUND:
        return Split(refunded=owed)
    if settlement == ADD_GOODS:
        if not 0 < goods_value <= owed:
            raise ValueError("goods added must be worth more than 0 and at most the shortfall")
        rest = owed - goods_value
        return Split(goods_value=goods_value, due_change=-rest) if cash_on_delivery else \
            Split(goods_value=goods_value, refunded=rest)
    if settlement in (TOPUP, CASH):
        return Split(collected=owed)
    if settlement == WAIVE:
        return Split(waived=owed)
    return Split(due_change=difference)  # AMOUNT_DUE


def allocate_refund(amount: int, refundable: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spread a refund over payments [(payment_id, still refundable)], oldest first; never more than any
    payment can give back. Raises ValueError when they cannot give back `amount` together."""
    if amount < 0 or amount > sum(max(r, 0) for _, r in refundable):
        raise ValueError("refund exceeds what was paid")
    plan, left = [], amount
    for payment_id, available in refundable:
        take = min(left, max(available, 0))
        if take:
            plan.append((payment_id, take))
            left -= take
    return plan

"""The store's book of what happened to money and goods, read from the records other packages write:
sales (orders completed), payments received, refunds made and refunds paid out at the counter, each a
`Movement` dated by when it happened. The day-end (app/dayend/) and the shift handover (app/shifts/)
both read it; neither writes an order, a payment or a refund."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

# Movement kinds
SALE, PAYMENT, REFUND, PAYOUT = "sale", "payment", "refund", "payout"
KINDS = (SALE, PAYMENT, REFUND, PAYOUT)
# Where a payment's money came in (its provider, or "online" for any provider of online payments) and
# where a refund goes ("original": back through its provider; "at_store": owed at the counter).
ONLINE_ROUTE, ORIGINAL_ROUTE, AT_STORE_ROUTE = "online", "original", "at_store"
# The drawer's cash: 到店付款 in cash and cash on delivery counted back (payments.models' provider names).
CASH_PROVIDERS = ("store_cash", "cod_cash")


class Movement(NamedTuple):
    """One thing the store's book records. `ref_id` is the id of the row it was read from (the history
    entry that completed the order, the payment, the refund), unique per kind. `route`: for a payment
    its provider ("online" for online providers), for a refund "original" or "at_store", for a payout
    "cash" or "card". `purpose`: a payment's purpose (order | topup), else ""."""

    kind: str
    ref_id: int
    at: datetime
    order_id: int
    order_number: str
    channel: str
    payment_method: str
    route: str
    purpose: str
    amount: int


def drawer_cash(movements) -> int:
    """Cash that came into the drawer less cash paid out of it, in cents: 到店付款 in cash, cash on
    delivery counted back, minus refunds handed over in cash."""
    total = 0
    for movement in movements:
        if movement.kind == PAYMENT and movement.route in CASH_PROVIDERS:
            total += movement.amount
        elif movement.kind == PAYOUT and movement.route == "cash":
            total -= movement.amount
    return total

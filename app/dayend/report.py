"""The sales daily report (销售日报) from a day's movements: pure arithmetic, no database."""
from __future__ import annotations

from ..ledger import AT_STORE_ROUTE, ORIGINAL_ROUTE, PAYMENT, PAYOUT, REFUND, SALE, drawer_cash
from ..orders.models import CHANNELS, PAYMENT_METHODS

PAYMENT_ROUTES = ("online", "store_cash", "store_card", "cod_cash")
REFUND_ROUTES = (ORIGINAL_ROUTE, AT_STORE_ROUTE)
PAYOUT_METHODS = ("cash", "card")


def _tally(keys) -> dict:
    return {key: {"count": 0, "amount": 0} for key in keys}


def _add(bucket: dict, key: str, amount: int) -> None:
    entry = bucket.setdefault(key, {"count": 0, "amount": 0})
    entry["count"] += 1
    entry["amount"] += amount


def summarize(movements) -> dict:
    """Counts and amounts (cents) of a day's movements: sales by channel and payment method, payments by
    route (top-ups apart), refunds by route, counter payouts by method, net takings, drawer cash."""
    sales = {"count": 0, "amount": 0, "by_channel": _tally(CHANNELS), "by_payment_method": _tally(PAYMENT_METHODS)}
    payments = {"count": 0, "amount": 0, "by_route": _tally(PAYMENT_ROUTES), "topups": {"count": 0, "amount": 0}}
    refunds = {"count": 0, "amount": 0, "by_route": _tally(REFUND_ROUTES), "paid_out": _tally(PAYOUT_METHODS)}
    for m in movements:
        if m.kind == SALE:
            sales["count"] += 1
            sales["amount"] += m.amount
            _add(sales["by_channel"], m.channel, m.amount)
            _add(sales["by_payment_method"], m.payment_method, m.amount)
        elif m.kind == PAYMENT:
            payments["count"] += 1
            payments["amount"] += m.amount
            _add(payments["by_route"], m.route, m.amount)
            if m.purpose == "topup":
                _add(payments, "topups", m.amount)
        elif m.kind == REFUND:
            refunds["count"] += 1
            refunds["amount"] += m.amount
            _add(refunds["by_route"], m.route, m.amount)
        elif m.kind == PAYOUT:
            _add(refunds["paid_out"], m.route, m.amount)
    return {"sales": sales, "payments": payments, "refunds": refunds,
            "net_takings": payments["amount"] - refunds["amount"], "drawer_cash": drawer_cash(movements)}

"""Day-end rules without a database: which earlier days' late movements an open day takes in, and the
report's arithmetic (sales by channel and payment method, takings, refunds, drawer cash)."""
from datetime import date, datetime

from app.dayend import service
from app.dayend.report import summarize
from app.ledger import Movement, drawer_cash


class _ClosedDays:
    def __init__(self, *days):
        self.days = sorted(days, reverse=True)

    def closed_dates(self, store_id, before, limit):
        return [d for d in self.days if d < before][:limit]


class _Source:
    def __init__(self, *days):
        self.day_ends = _ClosedDays(*days)


def test_an_open_day_takes_in_the_late_movements_of_the_closed_days_right_before_it():
    d = date(2026, 11, 20)
    first = service._first_of_closed_run
    assert first(_Source(), 1, d) == d  # nothing closed: only its own day
    assert first(_Source(date(2026, 11, 19), date(2026, 11, 18)), 1, d) == date(2026, 11, 18)
    # 11-17 is closed but 11-18 is not: 11-17's late movements belong to 11-18, not to 11-20.
    assert first(_Source(date(2026, 11, 19), date(2026, 11, 17)), 1, d) == date(2026, 11, 19)
    assert first(_Source(date(2026, 11, 18)), 1, d) == d  # the day before is open
    many = _Source(*(date.fromordinal(d.toordinal() - n) for n in range(1, 60)))
    assert first(many, 1, d) == date.fromordinal(d.toordinal() - service.LATE_WINDOW_DAYS)


def _m(kind, route="", amount=0, channel="mall", payment_method="online", purpose=""):
    return Movement(kind, 1, datetime(2026, 11, 20), 1, "N1", channel, payment_method, route, purpose, amount)


def test_the_report_adds_sales_takings_refunds_and_the_drawer_apart():
    movements = [_m("sale", amount=1000, channel="phone", payment_method="at_store"), _m("sale", amount=500),
                 _m("payment", "store_cash", 1000), _m("payment", "online", 300, purpose="topup"),
                 _m("payment", "cod_cash", 200), _m("refund", "at_store", 400), _m("payout", "cash", 400),
                 _m("payout", "card", 50)]
    report = summarize(movements)
    assert (report["sales"]["count"], report["sales"]["amount"]) == (2, 1500)
    assert report["sales"]["by_channel"]["phone"] == {"count": 1, "amount": 1000}
    assert report["sales"]["by_payment_method"]["online"] == {"count": 1, "amount": 500}
    assert (report["payments"]["amount"], report["payments"]["topups"]) == (1500, {"count": 1, "amount": 300})
    assert report["refunds"]["by_route"]["at_store"] == {"count": 1, "amount": 400}
    assert report["refunds"]["paid_out"] == {"cash": {"count": 1, "amount": 400}, "card": {"count": 1, "amount": 50}}
    assert report["net_takings"] == 1500 - 400
    assert report["drawer_cash"] == drawer_cash(movements) == 1000 + 200 - 400  # card payouts leave the drawer alone

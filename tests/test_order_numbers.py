"""Order numbers: business date and time to the millisecond plus a random tail, unique, and a clash
draws a fresh number instead of failing the order."""
import re
from datetime import datetime

from app.orders import placement

from .factories import build_chain, stock_row
from .helpers import place


def test_numbers_carry_the_stores_date_and_time_then_a_random_tail():
    # 23:59:59.5 UTC is already the next morning in China.
    number = placement._order_number(datetime(2026, 11, 22, 23, 59, 59, 500_000))
    assert re.fullmatch(r"20261123075959500\d{5}", number)
    tails = {placement._order_number(datetime(2026, 11, 22))[-5:] for _ in range(50)}
    assert len(tails) > 40


def test_a_clashing_number_is_redrawn(app, client, monkeypatch):
    chain = build_chain(app)
    first = place(client, chain)
    assert first.status_code == 201
    taken = first.json["number"]
    draws = iter([taken, taken, "2026112200000000099999"])
    monkeypatch.setattr(placement, "_order_number", lambda now: next(draws))

    second = place(client, chain)
    assert (second.status_code, second.json["number"]) == (201, "2026112200000000099999")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)  # (on_hand, reserved)


def test_an_order_is_never_written_half_when_no_number_is_free(app, client, monkeypatch):
    chain = build_chain(app)
    taken = place(client, chain).json["number"]
    monkeypatch.setattr(placement, "_order_number", lambda now: taken)
    failed = place(client, chain)
    assert (failed.status_code, failed.json["error"]["code"]) == (503, "order_number_unavailable")
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 1)

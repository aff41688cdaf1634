"""Shift handover (交接班): the cash expected in the store's drawer for the shift (counter cash, cash on
delivery checked back, less counter refunds paid out in cash), the counted cash and its difference,
the next shift starting; two clerks closing the same shift at once write one handover (SQLite and
PostgreSQL)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.shifts.models import ShiftHandover

from .factories import build_chain
from .helpers import place, race
from .test_dayend import _hand_over, build_two_days, clock_at  # noqa: F401  (clock_at: a fixture)
from .test_pickup import _second_clerk

CURRENT, CLOSE, HISTORY = "/api/v1/clerk/shifts/current", "/api/v1/clerk/shifts/close", "/api/v1/clerk/shifts"


def _current(client, chain, who="clerkA"):
    r = client.get(CURRENT, headers=chain.h(who))
    assert r.status_code == 200, r.json
    return r.json


def test_a_shift_expects_counter_cash_and_cod_checked_back_less_cash_paid_out(app, client, deferred, clock_at):
    chain = build_chain(app)
    build_two_days(app, client, chain, deferred, clock_at)
    shift = _current(client, chain)
    # 117.60 + 69.90 taken in cash at the counter, 36.80 cash on delivery counted back, 69.90 refunded in
    # cash over the counter; the 15.90 paid by card and the online payments never touch the drawer.
    assert (shift["shift_no"], shift["opened_at"], shift["expected_cash"]) == (1, None, 11760 + 6990 + 3680 - 6990)
    assert _current(client, chain, who="clerkB")["expected_cash"] == 0  # another store's drawer

    closed = client.post(CLOSE, json={"shift_no": 1, "counted_cash": 15000, "note": "少了一张"}, headers=chain.h("clerkA"))
    assert closed.status_code == 200, closed.json
    assert (closed.json["expected_cash"], closed.json["counted_cash"], closed.json["difference"],
            closed.json["difference_label"], closed.json["note"], closed.json["clerk"]) == (15440, 15000, -440, "短款", "少了一张", "店员A")

    nxt = _current(client, chain)
    assert (nxt["shift_no"], nxt["expected_cash"]) == (2, 0)
    assert nxt["opened_at"] is not None
    oid = place(client, chain, items=[("MILK", 1)], payment="at_store").json["id"]
    _hand_over(client, chain, oid, payment="cash")
    assert _current(client, chain)["expected_cash"] == 1590
    more = client.post(CLOSE, json={"shift_no": 2, "counted_cash": 1600}, headers=chain.h("clerkA")).json
    assert (more["difference"], more["difference_label"]) == (10, "长款")

    history = client.get(HISTORY, headers=chain.h("clerkA")).json["handovers"]
    assert [(h["shift_no"], h["expected_cash"], h["counted_cash"], h["clerk"]) for h in history] == [
        (2, 1590, 1600, "店员A"), (1, 15440, 15000, "店员A")]
    assert client.get(HISTORY, headers=chain.h("clerkB")).json["handovers"] == []


def test_closing_a_shift_refuses_bad_input_and_other_roles(app, client):
    chain = build_chain(app)
    for body, code in (({"shift_no": 1}, "invalid_counted_cash"), ({"shift_no": 1, "counted_cash": -1}, "invalid_counted_cash"),
                       ({"shift_no": 1, "counted_cash": 1.5}, "invalid_counted_cash"), ({"counted_cash": 0}, "invalid_shift_no"),
                       ({"shift_no": 1, "counted_cash": 0, "note": "x" * 201}, "invalid_note")):
        r = client.post(CLOSE, json=body, headers=chain.h("clerkA"))
        assert (r.status_code, r.json["error"]["code"]) == (422, code), body
    ahead = client.post(CLOSE, json={"shift_no": 5, "counted_cash": 0}, headers=chain.h("clerkA"))
    assert (ahead.status_code, ahead.json["error"]["code"]) == (409, "shift_not_current")
    for who in ("courierA", "m0", "hq"):
        assert client.post(CLOSE, json={"shift_no": 1, "counted_cash": 0}, headers=chain.h(who)).status_code == 403
        assert client.get(CURRENT, headers=chain.h(who)).status_code == 403
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(ShiftHandover)).scalar_one() == 0
        db.session.remove()


def test_two_clerks_closing_the_same_shift_at_once_record_one_handover(app, client):
    chain = build_chain(app)
    second = _second_clerk(app, chain)
    clerks = ["clerkA", second] * 4
    for shift_no in (1, 2):
        def close(i):
            return app.test_client().post(CLOSE, json={"shift_no": shift_no, "counted_cash": 100 * i},
                                          headers=chain.h(clerks[i]))

        responses = race(len(clerks), close)
        assert Counter(r.status_code for r in responses) == {200: 1, 409: len(clerks) - 1}, [r.json for r in responses]
        assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"shift_already_closed"}
    with app.app_context():
        rows = db.session.execute(select(ShiftHandover.shift_no).order_by(ShiftHandover.shift_no)).scalars().all()
        assert rows == [1, 2]
        db.session.remove()
    assert _current(client, chain)["shift_no"] == 3

"""Re-weighing end to end, property-based: random weights and settlements on real orders through the API
and the sandbox provider; afterwards the books balance to the fen, no refund exceeds what was paid (ours
or the provider's ledger), and the stock handed over is exactly what left."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.orders import state
from app.payments.models import Payment, Refund
from app.payments.sandbox import SandboxTransaction
from app.weighing import rules

from .factories import build_chain
from .helpers import confirm_payment, get_order
from .test_weighing_api import add_beef, by_sku, hand_over, ready_order, settle, topup_url, weigh

SKUS = ("CHICKEN", "BEEF")
STOCK = 100_000


def _ledger(app, oid):
    with app.app_context():
        s = db.session
        payments = s.execute(select(Payment).where(Payment.order_id == oid, Payment.status == "succeeded")).scalars().all()
        refunds = s.execute(select(Refund).where(Refund.order_id == oid)).scalars().all()
        txns = {t.out_trade_no: t for t in s.execute(select(SandboxTransaction)).scalars()}
        per_payment = {p.id: sum(r.amount for r in refunds if r.payment_id == p.id) for p in payments}
        for p in payments:
            assert per_payment[p.id] <= p.amount
            assert txns[p.out_trade_no].refunded == per_payment[p.id] <= txns[p.out_trade_no].amount
        assert all(r.status == "succeeded" for r in refunds)
        result = sum(p.amount for p in payments), sum(r.amount for r in refunds)
        db.session.remove()
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.data())
def test_random_weighings_and_settlements_balance(app, client, deferred, data):
    chain = getattr(app, "_weighing_chain", None)
    if chain is None:  # one chain for every example (the fixture is not rebuilt between them)
        chain = app._weighing_chain = build_chain(app, stock={("A", sku): STOCK for sku in ("CHICKEN", "MILK")})
        add_beef(app, chain, on_hand=STOCK)
    items = data.draw(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=2,
                               unique_by=lambda i: i[0]))
    oid = ready_order(app, client, chain, deferred, items)
    order = get_order(client, chain, oid)
    weights = {sku: data.draw(st.integers(0, 2 * order_qty * 750 + 50), label=f"weight {sku}")
               for sku, order_qty in items}
    statement = weigh(client, chain, oid, weights, source=data.draw(st.sampled_from(["scale", "typed"]))).json
    topups = False
    for sku, line in by_sku(statement).items():
        w = line["weighing"]
        if not w["choices"]:
            continue
        choice = data.draw(st.sampled_from(w["choices"]), label=f"settle {sku}")
        extra = {}
        if choice == rules.WAIVE:
            extra["reason"] = "测试"
            if w["difference"] > 500:  # over the store's limit (global default 5.00 元): refused, then cash
                assert settle(client, chain, oid, sku, choice, **extra).status_code == 409
                choice, extra = rules.CASH, {}
        if choice == rules.ADD_GOODS:
            if -w["difference"] < 1590:  # milk costs more than the shortfall: refund instead
                choice = rules.REFUND
            else:
                extra = {"sku": "MILK", "qty": 1}
        r = settle(client, chain, oid, sku, choice, **extra)
        assert r.status_code == 200, r.json
        topups |= choice == rules.TOPUP
    if topups:
        assert confirm_payment(client, topup_url(client, chain, oid)["pay_url"]).status_code == 200
        assert deferred.run_all(app) == [True]
    final = client.get(f"/api/v1/clerk/orders/{oid}/weighings", headers=chain.h("clerkA")).json
    assert final["all_settled"] and final["topup_due"] == 0
    paid, refunded = _ledger(app, oid)
    totals = final["totals"]
    weighed_value = sum(l["weighing"]["weighed_value"] for l in final["lines"])
    # Money in, plus what the chain waived, pays exactly for the weighed goods and any goods added.
    assert paid - refunded + totals["collected"] - _topups(app, oid) + totals["waived"] == \
        weighed_value + order["delivery_fee"] + totals["goods_value"]
    hand_over(app, chain, oid, state.COMPLETED)
    assert get_order(client, chain, oid)["status"] == "completed"


def _topups(app, oid):
    """Top-ups paid online are in `paid` and in the lines' `collected`: count them once."""
    with app.app_context():
        total = db.session.execute(select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == oid, Payment.purpose == "topup", Payment.status == "succeeded")).scalar_one()
        db.session.remove()
    return total

"""Reads of the store's book (`uow.ledger`, or a reader's): the movements of a store in a time window,
from the orders, payments and refunds tables (read here, written by their own packages)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, literal, literal_column, select, union_all

from ..orders.models import Order, OrderEvent
from ..payments.models import TAKEN_AT_STORE, Payment, Refund
from . import AT_STORE_ROUTE, ONLINE_ROUTE, ORIGINAL_ROUTE, PAYMENT, PAYOUT, REFUND, SALE, Movement

_o, _e, _p, _r = Order.__table__, OrderEvent.__table__, Payment.__table__, Refund.__table__
# orders.state.COMPLETED, written as a literal so the planners match the partial index
# ix_order_events_completed_at (a bound parameter could be any status).
_COMPLETED = literal_column("'completed'")


def _order_columns():
    return (_o.c.id.label("order_id"), _o.c.number.label("order_number"), _o.c.channel, _o.c.payment_method)


def _sales():
    return select(literal(SALE).label("kind"), _e.c.id.label("ref_id"), _e.c.at, *_order_columns(),
                  literal("").label("route"), literal("").label("purpose"), _o.c.total.label("amount")
                  ).select_from(_e.join(_o, _o.c.id == _e.c.order_id)).where(_e.c.to_status == _COMPLETED), _e.c.at, _e.c.id


def _payments():
    route = case((_p.c.provider.in_(TAKEN_AT_STORE), _p.c.provider), else_=literal(ONLINE_ROUTE))
    return select(literal(PAYMENT).label("kind"), _p.c.id.label("ref_id"), _p.c.paid_at.label("at"), *_order_columns(),
                  route.label("route"), _p.c.purpose.label("purpose"), _p.c.amount
                  ).select_from(_p.join(_o, _o.c.id == _p.c.order_id)).where(_p.c.status == "succeeded"), _p.c.paid_at, _p.c.id


def _refunds():
    route = case((_p.c.provider.in_(TAKEN_AT_STORE), literal(AT_STORE_ROUTE)), else_=literal(ORIGINAL_ROUTE))
    return select(literal(REFUND).label("kind"), _r.c.id.label("ref_id"), _r.c.created_at.label("at"), *_order_columns(),
                  route.label("route"), literal("").label("purpose"), _r.c.amount
                  ).select_from(_r.join(_p, _p.c.id == _r.c.payment_id).join(_o, _o.c.id == _r.c.order_id)), _r.c.created_at, _r.c.id


def _payouts():
    return select(literal(PAYOUT).label("kind"), _r.c.id.label("ref_id"), _r.c.done_at.label("at"), *_order_columns(),
                  _r.c.payout_method.label("route"), literal("").label("purpose"), _r.c.amount
                  ).select_from(_r.join(_o, _o.c.id == _r.c.order_id)).where(_r.c.paid_out_by.is_not(None)), _r.c.done_at, _r.c.id


_LEGS = {SALE: _sales, PAYMENT: _payments, REFUND: _refunds, PAYOUT: _payouts}


class LedgerRepository:
    __slots__ = ("_connection",)

    def __init__(self, connection):
        self._connection = connection

    def movements(self, store_id: int, start: datetime | None, end: datetime, *, counted_in=None,
                  kinds=tuple(_LEGS)) -> list[Movement]:
        """The store's movements dated in [start, end) (start None: from the beginning), oldest first.
        `counted_in`: a table of (kind, ref_id) rows (a report's snapshot) whose movements are left out."""
        legs = []
        for kind in kinds:
            leg, at, ref = _LEGS[kind]()
            leg = leg.where(_o.c.location_id == store_id, at < end)
            if start is not None:
                leg = leg.where(at >= start)
            if counted_in is not None:
                leg = leg.where(~exists().where(and_(counted_in.c.kind == kind, counted_in.c.ref_id == ref)))
            legs.append(leg)
        merged = union_all(*legs).subquery()
        rows = self._connection.execute(select(merged).order_by(merged.c.at, merged.c.kind, merged.c.ref_id)).all()
        return [Movement(*row) for row in rows]

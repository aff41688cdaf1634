"""What an order is at the boundary of the orders package: one immutable record type per concept,
whichever statement produced it (placing, a lifecycle action, a read for the API).

NamedTuples rather than frozen dataclasses: a record is built straight from the driver's row tuple
(`tuple.__new__`), where a frozen dataclass's __init__ sets each field through object.__setattr__, on
every order placed and every order read (docs/PERFORMANCE.md).
The field names and order are the table's columns (`orders.repository` checks this at import).
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class OrderLineRecord(NamedTuple):
    id: int | None
    order_id: int
    product_id: int
    sku: str
    name: str
    qty: int
    unit_price: int
    line_total: int
    standard_weight_g: int | None  # weighed goods sold per piece: nominal grams per piece when ordered
    handed_over_qty: int  # units already handed to the member (partial pickup); the rest stays reserved


class OrderRecord(NamedTuple):
    id: int
    number: str
    member_id: int | None
    channel: str
    fulfilment: str
    location_id: int
    payment_method: str
    payment_status: str
    status: str
    routing_reason: str
    address: dict | None
    contact_name: str
    contact_phone: str
    note: str
    goods_total: int
    delivery_fee: int
    total: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    idempotency_key: str | None
    request_hash: str | None
    # The order's lines, or None where the reader did not load them (every order has at least one).
    lines: tuple[OrderLineRecord, ...] | None = None

    def line_quantities(self) -> list[tuple[int, int]]:
        """(product_id, units) per line for the units still at the store (a partial pickup took the
        rest): what stock movements take."""
        return [(line.product_id, line.qty - line.handed_over_qty) for line in self.lines
                if line.qty > line.handed_over_qty]


class HistoryEntry(NamedTuple):
    """One entry of an order's append-only history: who moved it from which status to which, when, why
    (or a note that is no status change: a refund, a late payment). Its id is the `event_id` pushes carry."""

    id: int | None
    order_id: int
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    reason: str
    at: datetime


ORDER_COLUMNS = OrderRecord._fields[:-1]  # the orders table's columns, in table order

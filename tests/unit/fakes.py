"""A fake unit of work with in-memory repositories (the model: cosmicpython's tests/unit): business
functions run on it exactly as on the real one, without any database.

Each repository keeps the contract of the real one in app/<package>/repository.py: the same method
names and answers, including the compare-and-set refusals (False / None)."""
from __future__ import annotations

import copy
import itertools
from types import SimpleNamespace

from app.accounts.models import Member
from app.addresses.models import SavedAddress
from app.catalog.repository import NamedStore
from app.locations.models import STORE, WAREHOUSE
from app.orders.models import PAID, UNPAID
from app.orders.records import OrderLineRecord, OrderRecord
from app.payments.refunds import Refunded
from app.stock.repository import MAX_ON_HAND, StockLevel


class FakeOrders:
    def __init__(self):
        self.rows: dict[int, OrderRecord] = {}
        self.history: list = []
        self._ids = itertools.count(1)
        self._line_ids = itertools.count(1)

    def by_idempotency_key(self, member_id, key):
        for order in self.rows.values():
            if (order.member_id, order.idempotency_key) == (member_id, key):
                return SimpleNamespace(id=order.id, request_hash=order.request_hash)
        return None

    def insert_order(self, values):
        if any(order.number == values["number"] for order in self.rows.values()):
            return None
        order_id = next(self._ids)
        self.rows[order_id] = OrderRecord(order_id, **values, lines=())
        return order_id

    def insert_lines(self, order_id, lines):
        records = tuple(OrderLineRecord(next(self._line_ids), order_id, **line) for line in lines)
        self.rows[order_id] = self.rows[order_id]._replace(lines=records)
        return tuple(line._replace(id=None) for line in records)

    def append_history(self, entry):
        entry = entry._replace(id=len(self.history) + 1)
        self.history.append(entry)
        return entry.id

    def take_line(self, order_id, line_id, qty):
        order = self.rows[order_id]
        lines = list(order.lines)
        for i, line in enumerate(lines):
            if line.id == line_id and line.handed_over_qty + qty <= line.qty:
                lines[i] = line._replace(handed_over_qty=line.handed_over_qty + qty)
                self.rows[order_id] = order._replace(lines=tuple(lines))
                return True
        return False

    def lock(self, order_id, *, with_lines=True):
        order = self.rows.get(order_id)
        if order is None:
            return None
        return order if with_lines else order._replace(lines=None)

    def save(self, before, after):
        stored = self.rows.get(before.id)
        if stored is None or (stored.status, stored.payment_status) != (before.status, before.payment_status):
            return False
        self.rows[before.id] = stored._replace(status=after.status, payment_status=after.payment_status,
                                               expires_at=after.expires_at, updated_at=after.updated_at)
        return True

    def mark_paid(self, order_id, from_status, to_status, fulfilments, now):
        stored = self.rows.get(order_id)
        if (stored is None or stored.status != from_status or stored.payment_status != UNPAID
                or stored.fulfilment not in fulfilments):
            return None
        self.rows[order_id] = stored._replace(status=to_status, payment_status=PAID, expires_at=None, updated_at=now)
        return SimpleNamespace(id=order_id, fulfilment=stored.fulfilment, location_id=stored.location_id,
                               member_id=stored.member_id)

    def serialise_member(self, member_id):
        pass  # one unit of work at a time here

    def unpaid_holdings(self, member_id, cap):
        unpaid = [o for o in self.rows.values() if o.member_id == member_id and o.status == "pending_payment"][:cap]
        return SimpleNamespace(orders=len(unpaid), units=sum(line.qty for o in unpaid for line in o.lines))

    def overdue(self, status, now, limit):
        due = sorted((o for o in self.rows.values() if o.status == status and o.expires_at and o.expires_at <= now),
                     key=lambda o: o.expires_at)
        return [o.id for o in due[:limit]]

    def statuses(self, order_id):
        """(from, to) of the order's history entries that moved it."""
        return [(e.from_status, e.to_status) for e in self.history if e.order_id == order_id and e.to_status]


class FakeStock:
    def __init__(self, levels: dict[tuple[int, int], int] | None = None):
        self.rows = {key: [on_hand, 0] for key, on_hand in (levels or {}).items()}  # (loc, prod) -> [on_hand, reserved]

    def _row(self, location_id, product_id):
        return self.rows.get((location_id, product_id))

    def reserve(self, location_id, product_id, qty):
        row = self._row(location_id, product_id)
        if row is None or row[0] - row[1] < qty:
            return False
        row[1] += qty
        return True

    def release(self, location_id, product_id, qty):
        row = self._row(location_id, product_id)
        if row is None or row[1] < qty:
            return False
        row[1] -= qty
        return True

    def hand_over(self, location_id, product_id, qty):
        row = self._row(location_id, product_id)
        if row is None or row[1] < qty:
            return False
        row[0] -= qty
        row[1] -= qty
        return True

    def restock(self, location_id, product_id, qty):
        row = self._row(location_id, product_id)
        if row is None:
            return False
        row[0] += qty
        return True

    def set_count(self, location_id, product_id, count):
        row = self._row(location_id, product_id)
        if row is None or row[1] > count:
            return False
        row[0] = count
        return True

    def adjust(self, location_id, product_id, delta):
        row = self._row(location_id, product_id)
        if row is None or not row[1] <= row[0] + delta <= MAX_ON_HAND:
            return False
        row[0] += delta
        return True

    def create(self, location_id, product_id, on_hand):
        assert (location_id, product_id) not in self.rows, "the real table's primary key refuses this"
        self.rows[(location_id, product_id)] = [on_hand, 0]

    def create_unless_exists(self, location_id, product_id, on_hand):
        if (location_id, product_id) in self.rows:
            return False
        self.create(location_id, product_id, on_hand)
        return True

    def level(self, location_id, product_id):
        row = self._row(location_id, product_id)
        return None if row is None else StockLevel(location_id, product_id, *row)

    def available_map(self, location_ids, product_ids):
        return {(loc, prod): row[0] - row[1] for (loc, prod), row in self.rows.items()
                if loc in set(location_ids) and prod in set(product_ids)}

    def of(self, location_id, product_id) -> tuple[int, int]:
        return tuple(self.rows[(location_id, product_id)])


def product(id, sku, *, unit_price=None, price_per_kg=None, standard_weight_g=None, active=True, name=None):
    """A product row as the catalogue repository answers it."""
    return SimpleNamespace(id=id, sku=sku, name=name or sku, sold_by="weight" if price_per_kg else "piece",
                           unit_price=unit_price, price_per_kg=price_per_kg, standard_weight_g=standard_weight_g,
                           active=active)


def location(id, name, *, kind=STORE, province="上海市", city="上海市", areas=(), lat=None, lng=None, fence=None,
             active=True):
    """A location as the locations repository answers it; `areas`: the (district, street) it delivers to."""
    return SimpleNamespace(id=id, name=name, kind=kind, province=province, city=city, lat=lat, lng=lng, fence=fence,
                           active=active, streets={street for _, street in areas},
                           districts={district for district, _ in areas})


class FakeCatalog:
    def __init__(self, products=(), locations=()):
        self.products = {p.sku: p for p in products}
        self.locations = {loc.id: loc for loc in locations}

    def listed_goods(self, skus):
        return {sku: p if (p := self.products.get(sku)) is not None and p.active else None for sku in skus}

    def listed_goods_and_store(self, skus, store_id):
        found = self.listed_goods(skus)
        store = self.locations.get(store_id)
        if store is None or all(p is None for p in found.values()):
            return found, None
        return found, NamedStore(store.id, store.name, store.kind, store.active)

    def product_id(self, sku):
        p = self.products.get(sku)
        return None if p is None else p.id


class FakeLocations:
    def __init__(self, locations=()):
        self.locations = list(locations)

    def exists(self, location_id):
        return any(loc.id == location_id for loc in self.locations)

    def stores_covering(self, province, city, *, street=None, district=None):
        return [loc for loc in self._stores() if (loc.province, loc.city) == (province, city)
                and (street in loc.streets if street is not None else district in loc.districts)]

    def fenced_stores(self):
        return [loc for loc in self._stores() if loc.fence]

    def warehouses(self):
        return [loc for loc in self.locations if loc.kind == WAREHOUSE and loc.active]

    def _stores(self):
        return [loc for loc in self.locations if loc.kind == STORE and loc.active]


class FakeRefunds:
    """The refund port: records what orders asked to refund; `paid` says how much each order paid."""

    def __init__(self):
        self.paid: dict[int, int] = {}
        self.requests: list = []

    def refund_in_full(self, order_id, *, reason):
        amount = self.paid.pop(order_id, 0)
        if amount:
            self.requests.append((order_id, amount, reason))
        return Refunded(amount)


class FakePickupCodes:
    """The pickup-code port: which orders got a code, which had theirs voided."""

    def __init__(self):
        self.issued: dict[int, int] = {}  # order id -> store id
        self.voided: list[int] = []

    def issue(self, order_id, store_id, now):
        self.issued[order_id] = store_id
        return f"{order_id:012d}"

    def void(self, order_id):
        if order_id in self.issued:
            self.voided.append(order_id)


class FakeChannelWriteback:
    """The write-back port: the platform orders' status changes the outbox was asked to carry."""

    def __init__(self):
        self.changes: list = []  # (order id, status, history entry id)

    def status_changed(self, order, entry):
        self.changes.append((order.id, order.status, entry.id))


class FakeWeighings:
    """The re-weighing port: `unsettled[order_id]` weighed lines still to settle (none by default)."""

    def __init__(self):
        self.unsettled: dict[int, int] = {}

    def unsettled_lines(self, order_id):
        return self.unsettled.get(order_id, 0)


class FakeAccounts:
    """Members and staff as (transient) model objects, keyed by (kind, id)."""

    def __init__(self, accounts=()):
        self.rows = {("member" if isinstance(a, Member) else "staff", a.id): a for a in accounts}

    def staff_name(self, staff_id):
        staff = self.rows.get(("staff", staff_id))
        return (staff.name or staff.username) if staff is not None else None

    def member_contact(self, member_id):
        member = self.rows.get(("member", member_id))
        return SimpleNamespace(name=member.name, phone=member.phone) if member is not None else None

    def account(self, kind, account_id, *, lock=False):
        return self.rows.get((kind, account_id))

    def replace_password(self, account, password_hash):
        account.password_hash = password_hash
        account.token_version += 1

    def deactivate_staff(self, staff_id):
        staff = self.rows.get(("staff", staff_id))
        if staff is None:
            return None
        staff.active, staff.token_version = False, staff.token_version + 1
        return SimpleNamespace(id=staff.id, username=staff.username, token_version=staff.token_version)


class FakeAddresses:
    def __init__(self):
        self.rows: dict[int, SavedAddress] = {}
        self._ids = itertools.count(1)

    def count(self, member_id):
        return sum(row.member_id == member_id for row in self.rows.values())

    def add(self, member_id, address, contact_name, contact_phone):
        saved = SavedAddress(id=next(self._ids), member_id=member_id, province=address.province, city=address.city,
                             district=address.district, street=address.street, detail=address.detail,
                             contact_name=contact_name, contact_phone=contact_phone)
        self.rows[saved.id] = saved
        return saved

    def of_member(self, member_id):
        return sorted((row for row in self.rows.values() if row.member_id == member_id), key=lambda r: -r.id)

    def remove(self, member_id, address_id):
        row = self.rows.get(address_id)
        if row is None or row.member_id != member_id:
            return False
        del self.rows[address_id]
        return True


class FakeUnitOfWork:
    """Every unit of work the code under test opens: each `with` keeps its changes when the body
    succeeds and puts everything back when it raises (as the real transaction's rollback does);
    events are published only on success."""

    _STATE = ("orders", "stock", "refunds", "pickup_codes", "accounts", "addresses", "channel_writeback")

    def __init__(self, *, products=(), locations=(), stock=None, accounts=()):
        self.orders = FakeOrders()
        self.stock = FakeStock(stock)
        self.catalog = FakeCatalog(products, locations)
        self.locations = FakeLocations(locations)
        self.refunds = FakeRefunds()
        self.pickup_codes = FakePickupCodes()
        self.channel_writeback = FakeChannelWriteback()
        self.weighings = FakeWeighings()
        self.accounts = FakeAccounts(accounts)
        self.addresses = FakeAddresses()
        self.published: list[tuple[str, dict]] = []
        self.commits = 0
        self._pending: list = []
        self._saved = None

    def __call__(self):  # the factory create_app would wire: a unit of work per call
        return self

    def __enter__(self):
        assert self._saved is None, "units of work do not nest"
        self._saved = copy.deepcopy({name: getattr(self, name) for name in self._STATE})
        self._pending = []
        return self

    def __exit__(self, exc_type, exc, traceback):
        saved, self._saved = self._saved, None
        if exc_type is not None:
            for name, value in saved.items():
                setattr(self, name, value)
            return False
        self.commits += 1
        self.published.extend(self._pending)
        return False

    def publish(self, name, **payload):
        self._pending.append((name, payload))

    def after_commit(self, callback):
        self._pending.append(("after_commit", {"callback": callback}))

    def events(self, name):
        return [payload for event, payload in self.published if event == name]

"""Pre-fill a migrated, demo-seeded StoreLink database with a realistic order history, fast.

`fill(target, orders)` writes `orders` orders spread over a year, the demo stores and the warehouse,
and members (the three demo members plus one synthetic member per MEMBER_ORDERS orders, so a member's
own history stays the size of a real customer's whatever the total), with every row the real order
path writes for them (shapes copied from rows a live server wrote, 2026-11-22):

  orders, order_lines, order_events (placed, paid, accepted, ready, shipped, completed / cancelled /
  expired / rejected, refund, returned, cod_checked, escalated), payments (sandbox, counter, COD cash),
  sandbox_transactions and sandbox_refunds (the demo's payment provider), refunds, pickup_codes,
  pickup_attempts (the hand-over), member_messages (mostly read), delivery_notes, order_escalations.

The mix: 60 % pickup, 30 % store delivery, 10 % express (from the warehouse); 10 % of pickups paid at
the store, 10 % of store deliveries cash on delivery; of the closed history about 85 % completed,
6 % expired unpaid, 3 % cancelled unpaid, 3 % cancelled after payment (refunded), 1 % of deliveries
rejected (refunded, goods returned), 2 % escalated on the way. The newest OPEN_ORDERS orders (a few
minutes old) are still open, in every open status, as a busy chain has at any moment whatever its
history: their units are added to the stock's `reserved` (and `on_hand`, so what is available does not
change). Re-weighings (line_weighings) and print jobs are left out: the demo chain has no scales or
printers.

Rows go in with explicit ids, in chunks: executemany in one transaction per chunk on SQLite, COPY on
PostgreSQL, whose id sequences are then moved past the new rows. Not the API: a million orders through
it would take hours. The server must not be running (SQLite) and the statistics are left to the
server's start-up (app/infra/sqlite_stats.py) and PostgreSQL's ANALYZE, which fill() runs.
"""
from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone

MEMBER_ORDERS = 20  # orders per synthetic member: a regular customer's history
OPEN_ORDERS = 250  # the newest orders, still open (a fixed number: a chain's open orders do not grow with its past)
HISTORY_DAYS = 365
CHUNK = 20_000
BUSINESS_OFFSET = timedelta(hours=8)  # order numbers carry the business date (Asia/Shanghai), as placement does
PUBLIC_BASE_URL = "http://127.0.0.1:5000"

TABLES = {  # table -> columns, in the order rows are built
    "members": ("id", "phone", "name", "password_hash", "level", "points", "created_at", "token_version"),
    "orders": ("id", "number", "member_id", "channel", "fulfilment", "location_id", "payment_method",
               "payment_status", "status", "routing_reason", "address", "contact_name", "contact_phone", "note",
               "goods_total", "delivery_fee", "total", "created_at", "updated_at", "expires_at", "idempotency_key",
               "request_hash"),
    "order_lines": ("id", "order_id", "product_id", "sku", "name", "qty", "unit_price", "line_total",
                    "standard_weight_g", "handed_over_qty", "price_per_kg", "adjusts_line_id"),
    "order_events": ("id", "order_id", "at", "actor", "kind", "from_status", "to_status", "reason"),
    "payments": ("id", "order_id", "provider", "out_trade_no", "provider_txn_id", "amount", "status", "pay_url",
                 "created_at", "paid_at", "purpose"),
    "sandbox_transactions": ("txn_id", "out_trade_no", "amount", "refunded", "notify_url", "paid_at",
                             "notify_status", "notify_attempts", "next_notify_at"),
    "refunds": ("id", "payment_id", "order_id", "refund_no", "amount", "reason", "status", "attempts", "last_error",
                "created_at", "done_at"),
    "sandbox_refunds": ("refund_no", "txn_id", "amount", "created_at"),
    "pickup_codes": ("id", "order_id", "store_id", "code", "status", "version", "issued_at", "deadline_at",
                     "reminded_at", "handed_over_at", "handed_over_by"),
    "pickup_attempts": ("id", "at", "staff_id", "store_id", "order_id", "input_kind", "input_hint", "confirm",
                        "outcome", "guess"),
    "member_messages": ("id", "member_id", "order_id", "kind", "created_at", "read_at"),
    "delivery_notes": ("id", "order_id", "store_id", "mode", "carrier", "tracking_no", "courier_id", "status",
                       "cod_amount", "cash_collected", "reject_reason", "shipped_at", "shipped_by", "outcome_at",
                       "checked_back_at", "checked_back_by", "cash_counted", "cash_difference"),
    "order_escalations": ("order_id", "location_id", "escalated_at"),
}
ID_TABLES = [table for table, columns in TABLES.items() if columns[0] == "id"]
DELIVERY_FEES = {"store_delivery": (500, 5900), "express": (1000, 9900)}  # as app/orders/pricing.py


def _ts(moment: datetime) -> str:
    """The text SQLAlchemy stores for a naive UTC datetime on SQLite; PostgreSQL's COPY reads it too."""
    return moment.isoformat(" ", "microseconds")  # a third of strftime's cost, the same text


class Chain:
    """What the seeded database holds that orders refer to: stores, warehouse, products, staff, members."""

    def __init__(self, rows):
        self.stores = [(i, name, (prov, city, dist, street)) for i, name, kind, prov, city, dist, street in rows["locations"]
                       if kind == "store"]
        self.warehouse = next(i for i, _, kind, *_ in rows["locations"] if kind == "warehouse")
        self.products = rows["products"]  # (id, sku, name, sold_by, unit_price, price_per_kg, standard_weight_g)
        self.staff = {username: (i, role, store) for i, username, role, store in rows["staff"]}
        self.members = rows["members"]  # (id, phone, name)
        self.hq = next(i for i, role, _ in self.staff.values() if role == "hq")
        self.clerks = {store: i for i, role, store in self.staff.values() if role == "clerk"}
        self.couriers = {store: i for i, role, store in self.staff.values() if role == "courier"}


QUERIES = {
    "locations": "SELECT id, name, kind, province, city, district, street FROM locations ORDER BY id",
    "products": "SELECT id, sku, name, sold_by, unit_price, price_per_kg, standard_weight_g FROM products "
                "WHERE active ORDER BY id",
    "staff": "SELECT id, username, role, store_id FROM staff ORDER BY id",
    "members": "SELECT id, phone, name FROM members ORDER BY id",
}


class HistoryBuilder:
    """Builds the rows of `count` orders, chunk by chunk, ids continuing after `next_ids`."""

    def __init__(self, chain: Chain, count: int, next_ids: dict, now: datetime, seed: int = 8):
        self.chain, self.count, self.now = chain, count, now
        self.ids = dict(next_ids)
        self.rng = random.Random(seed)
        self.start = now - timedelta(days=HISTORY_DAYS)
        self.open_from = max(0, count - OPEN_ORDERS)
        self.reserved: dict[tuple[int, int], int] = {}  # (location, product) -> units held by open orders
        self.open_codes: set[str] = set()
        self.member_ids: list[int] = []
        self.member_names: dict[int, tuple[str, str]] = {}

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _hex(self, digits: int) -> str:
        return "%0*x" % (digits, self.rng.getrandbits(4 * digits))

    def members(self) -> list[tuple]:
        """Synthetic members (no password: they never log in here) so each has about MEMBER_ORDERS orders."""
        rows = []
        for member_id, phone, name in self.chain.members:
            self.member_ids.append(member_id)
            self.member_names[member_id] = (name, phone)
        created = _ts(self.start - timedelta(days=30))
        for n in range(max(0, self.count // MEMBER_ORDERS - len(self.chain.members))):
            member_id = self._next("members")
            phone, name = "137%08d" % n, "会员%d" % n
            rows.append((member_id, phone, name, None, "普通会员", 0, created, 0))
            self.member_ids.append(member_id)
            self.member_names[member_id] = (name, phone)
        return rows

    def chunks(self):
        """Yield {table: [row, ...]} per CHUNK orders."""
        for first in range(0, self.count, CHUNK):
            out = {table: [] for table in TABLES if table != "members"}
            for k in range(first, min(self.count, first + CHUNK)):
                self._order(k, out)
            yield out

    # --- one order ---------------------------------------------------------------------------------
    def _order(self, k: int, out: dict) -> None:
        rng, chain = self.rng, self.chain
        is_open = k >= self.open_from
        if is_open:  # the last few minutes, one every second or so
            placed = self.now - timedelta(seconds=(self.count - k) * 1.5)
        else:
            placed = self.start + timedelta(seconds=(HISTORY_DAYS * 86400 - 3600) * k / max(1, self.open_from))
        r = rng.random()
        fulfilment = "pickup" if r < 0.6 else "store_delivery" if r < 0.9 else "express"
        if fulfilment == "express":
            location, store_name, area = chain.warehouse, None, rng.choice(chain.stores)[2]
        else:
            location, store_name, area = rng.choice(chain.stores)
        method = "online"
        if fulfilment == "pickup" and rng.random() < 0.1:
            method = "at_store"
        elif fulfilment == "store_delivery" and rng.random() < 0.1:
            method = "cod"
        member = rng.choice(self.member_ids)
        order_id = self._next("orders")
        lines, goods = self._lines(order_id, out)
        fee_rule = DELIVERY_FEES.get(fulfilment)
        fee = fee_rule[0] if fee_rule and goods < fee_rule[1] else 0
        total = goods + fee
        if fulfilment == "pickup":
            reason = f"门店自提:{store_name}"
        elif fulfilment == "store_delivery":
            reason = f"会员指定门店:{store_name}"
        else:
            reason = "总仓发货:附近门店无法整单供货"
        address = contact_name = contact_phone = ""
        if fulfilment != "pickup":
            address = json.dumps({"province": area[0], "city": area[1], "district": area[2], "street": area[3],
                                  "detail": f"{k % 400 + 1}号", "lat": None, "lng": None})
            contact_name, contact_phone = self.member_names[member]
        o = _Order(self, out, order_id, member, fulfilment, location, method, total, lines, placed, reason)
        if is_open:
            status, payment_status, expires = o.open_flow()
        else:
            status, payment_status, expires = o.closed_flow()
        local = placed + BUSINESS_OFFSET
        number = "%s%03d%05d" % (local.strftime("%Y%m%d%H%M%S"), local.microsecond // 1000, k % 100_000)
        key = method == "online" or rng.random() < 0.5
        out["orders"].append((
            order_id, number, member, "mall", fulfilment, location, method, payment_status, status, reason,
            address or None, contact_name, contact_phone, "", goods, fee, total, _ts(placed), _ts(o.updated),
            _ts(expires) if expires else None, self._hex(32) if key else None, self._hex(64) if key else None))

    def _lines(self, order_id: int, out: dict) -> tuple[list, int]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]
        goods, lines = 0, []
        for product in rng.sample(self.chain.products, count):
            product_id, sku, name, sold_by, unit_price, per_kg, weight = product
            weighed = sold_by == "weight"
            price = (weight * per_kg + 500) // 1000 if weighed else unit_price
            qty = rng.choices((1, 2, 3), (70, 20, 10))[0]
            line = [self._next("order_lines"), order_id, product_id, sku, name, qty, price, price * qty,
                    weight if weighed else None, 0, per_kg if weighed else None, None]
            lines.append(line)
            goods += price * qty
        out["order_lines"].extend(lines)  # lists: a completed pickup sets handed_over_qty afterwards
        return lines, goods


class _Order:
    """The steps one order went through, each writing what the real path writes."""

    def __init__(self, builder: HistoryBuilder, out, order_id, member, fulfilment, location, method, total, lines,
                 placed, reason):
        self.b, self.out, self.id, self.member, self.fulfilment = builder, out, order_id, member, fulfilment
        self.location, self.method, self.total, self.lines, self.t = location, method, total, lines, placed
        self.updated = placed
        self.status = "pending_payment" if method == "online" else "awaiting_acceptance"
        self.payment_status = "unpaid"
        self.payment = self.code = None
        chain = builder.chain
        self.clerk = chain.clerks.get(location, chain.hq)
        self.clerk_actor = f"clerk:{self.clerk}" if location in chain.clerks else f"hq:{chain.hq}"
        self._event(f"member:{member}", "placed", None, self.status, reason)
        if method == "at_store":
            self._issue_code()

    # --- writing ---------------------------------------------------------------------------------------
    def _event(self, actor, kind, from_status, to_status, reason="", at=None):
        at = at or self.t
        self.out["order_events"].append((self.b._next("order_events"), self.id, _ts(at), actor, kind, from_status,
                                         to_status, reason))
        if to_status is not None:
            self.updated = at

    def _move(self, to_status, actor, reason="", minutes=0.0):
        self.t += timedelta(minutes=minutes)
        self._event(actor, "status", self.status, to_status, reason)
        self.status = to_status

    def _message(self, kind):
        read = _ts(self.t + timedelta(hours=6)) if self.b.rng.random() < 0.9 else None
        self.out["member_messages"].append((self.b._next("member_messages"), self.member, self.id, kind, _ts(self.t), read))

    def _issue_code(self):
        b = self.b
        while True:
            code = "%012d" % b.rng.randrange(10 ** 12)
            if code not in b.open_codes:
                break
        b.open_codes.add(code)  # unique among open codes (a partial unique index); closed ones may repeat
        self.code = [b._next("pickup_codes"), self.id, self.location, code, "open", 0, _ts(self.t),
                     _ts(self.t + timedelta(days=3)), None, None, None]
        self.out["pickup_codes"].append(self.code)
        if self.member:
            self._message("pickup_code")

    def _close_code(self, status):
        if self.code is not None:
            self.code[4] = status
            self.b.open_codes.discard(self.code[3])

    def _pay_online(self):
        b = self.b
        self.t += timedelta(seconds=b.rng.randrange(10, 120))
        txn, trade = "SBX" + b._hex(20), "PAY" + b._hex(24)
        self.payment = (b._next("payments"), txn)
        self.out["payments"].append((self.payment[0], self.id, "sandbox", trade, txn, self.total, "succeeded",
                                  f"{PUBLIC_BASE_URL}/sandbox/pay/." + b._hex(200), _ts(self.t - timedelta(seconds=2)),
                                  _ts(self.t), "order"))
        self.out["sandbox_transactions"].append(
            [txn, trade, self.total, 0, f"{PUBLIC_BASE_URL}/api/v1/payments/sandbox/notify", _ts(self.t),
             "delivered", 1, _ts(self.t + timedelta(seconds=15))])
        self.payment_status = "paid"
        self._move("awaiting_acceptance", "provider:sandbox", f"支付成功 {self.total / 100:.2f} 元")
        if self.fulfilment == "pickup":
            self._issue_code()

    def _refund(self, actor, reason):
        b = self.b
        refund_no = "RF" + b._hex(24)
        self.out["refunds"].append((b._next("refunds"), self.payment[0], self.id, refund_no, self.total, reason,
                                 "succeeded", 1, "", _ts(self.t), _ts(self.t + timedelta(seconds=1))))
        self.out["sandbox_refunds"].append((refund_no, self.payment[1], self.total, _ts(self.t)))
        self.out["sandbox_transactions"][-1][3] = self.total  # the transaction was this order's last
        self._event(actor, "refund", None, None, f"{reason}:原路退回 {self.total / 100:.2f} 元")
        self.payment_status = "refunded"

    def _prepare(self):
        self._move("accepted", self.clerk_actor, minutes=self.b.rng.uniform(1, 9))
        if self.b.rng.random() < 0.02:
            self.out["order_escalations"].append((self.id, self.location, _ts(self.t)))
            self._event("system", "escalated", None, None, "超过 10 分钟未接单,已提醒门店并通知总部")
        ready = "ready_for_pickup" if self.fulfilment == "pickup" else "ready_to_ship"
        self._move(ready, self.clerk_actor, minutes=self.b.rng.uniform(5, 30))
        if ready == "ready_for_pickup" and self.member:
            self._message("pickup_ready")

    def _ship(self, outcome):
        b, chain = self.b, self.b.chain
        courier = chain.couriers.get(self.location)
        if courier is not None:
            mode, carrier, tracking, how = "staff", "", "", "门店自配送"
        else:
            mode, carrier, tracking = "carrier", "顺丰速运", "SF%012d" % b.rng.randrange(10 ** 12)
            how = f"快递发货:{carrier} {tracking}"
        self._move("shipped", self.clerk_actor, how, minutes=b.rng.uniform(5, 30))
        if self.member:
            self._message("shipped")
        cod = self.total if self.method == "cod" else 0
        note = [b._next("delivery_notes"), self.id, self.location, mode, carrier, tracking, courier, "out", cod, None, "",
                _ts(self.t), self.clerk, None, None, None, None, None]
        self.out["delivery_notes"].append(note)
        if outcome is None:
            return
        self.t += timedelta(minutes=b.rng.uniform(30, 180))
        note[13] = _ts(self.t)
        if outcome == "completed":
            note[7] = "settled"
            if cod:
                note[9] = cod
                self._move("completed", self.clerk_actor, f"客户已签收,代收现金 {cod / 100:.2f} 元(待回店校验)")
                self.t += timedelta(hours=2)
                note[14], note[15], note[16], note[17] = _ts(self.t), self.clerk, cod, 0
                self.out["payments"].append((b._next("payments"), self.id, "cod_cash", f"COD{self.id}", self.clerk_actor,
                                          cod, "succeeded", "", _ts(self.t), _ts(self.t), "order"))
                self.payment_status = "paid"
                amount = f"{cod / 100:.2f}"
                self._event(self.clerk_actor, "cod_checked", None, None,
                            f"回店校验:应收 {amount} 元,配送员报收 {amount} 元,清点 {amount} 元,差额 0.00 元")
            else:
                self._move("completed", self.clerk_actor, "客户已签收")
        else:
            note[7], note[10] = "returned", "客户拒签"
            self._move("rejected", self.clerk_actor, "客户拒签")
            if self.payment_status == "paid":
                self._refund(self.clerk_actor, "拒签退款")
            self.t += timedelta(hours=2)
            note[14], note[15] = _ts(self.t), self.clerk
            self._event(self.clerk_actor, "returned", None, None, "拒签货物已退回门店入库")

    def _hand_over(self):
        b = self.b
        self.t += timedelta(minutes=b.rng.uniform(20, 600))
        if self.method == "at_store":
            self.out["payments"].append((b._next("payments"), self.id, "store_cash", f"CTR{self.id}", self.clerk_actor,
                                      self.total, "succeeded", "", _ts(self.t), _ts(self.t), "order"))
            self._event(self.clerk_actor, "payment", None, None, f"到店付款(现金){self.total / 100:.2f} 元")
            self.payment_status = "paid"
        for line in self.lines:
            line[9] = line[5]  # handed_over_qty = qty
        summary = "、".join(f"{line[4]}×{line[5]}" for line in self.lines)
        self._move("completed", self.clerk_actor, f"提货核销:{summary}")
        self.code[4], self.code[5], self.code[9], self.code[10] = "used", 1, _ts(self.t), self.clerk
        self.b.open_codes.discard(self.code[3])
        self.out["pickup_attempts"].append((b._next("pickup_attempts"), _ts(self.t), self.clerk, self.location, self.id,
                                         "qr" if b.rng.random() < 0.7 else "typed", "…" + self.code[3][-4:], 1,
                                         "handed_over", 0))

    # --- whole histories -------------------------------------------------------------------------------
    def closed_flow(self):
        rng = self.b.rng
        u = rng.random()
        member_actor = f"member:{self.member}"
        if self.method == "online":
            if u < 0.06:
                self._move("expired", "system", "超时未支付,自动关闭", minutes=15)
                return self.status, self.payment_status, None
            if u < 0.09:
                self._move("cancelled", member_actor, "取消订单", minutes=rng.uniform(0.5, 10))
                return self.status, self.payment_status, None
            self._pay_online()
            if u < 0.12:
                self._move("cancelled", member_actor, "不要了", minutes=rng.uniform(0.5, 5))
                self._close_code("void")
                self._refund(member_actor, "已取消退款")
                return self.status, self.payment_status, None
        elif u < 0.04:
            self._move("cancelled", member_actor, "取消订单", minutes=rng.uniform(0.5, 10))
            self._close_code("void")
            return self.status, self.payment_status, None
        self._prepare()
        if self.fulfilment == "pickup":
            self._hand_over()
        else:
            self._ship("rejected" if u > 0.99 else "completed")
        return self.status, self.payment_status, None

    def open_flow(self):
        """Still open: every step up to a random one of the open statuses."""
        rng = self.b.rng
        delivered = self.fulfilment != "pickup"
        stop = rng.choices(("pending_payment", "awaiting_acceptance", "accepted", "ready", "shipped"),
                           (20, 25, 20, 25, 10 if delivered else 0))[0]
        expires = None
        if stop == "pending_payment" and self.method == "online":
            expires = self.t + timedelta(minutes=15)
        else:
            if self.method == "online":
                self._pay_online()
            if stop in ("ready", "shipped"):
                self._prepare()
            elif stop == "accepted":
                self._move("accepted", self.clerk_actor, minutes=1)
        if stop == "shipped":
            self._ship(None)  # units handed over: no longer reserved
        else:
            for line in self.lines:
                key = (self.location, line[2])
                self.b.reserved[key] = self.b.reserved.get(key, 0) + line[5]
        # Open orders are minutes old: their steps must not lie in the future.
        self.updated = min(self.updated, self.b.now)
        return self.status, self.payment_status, expires


# --- writing to the databases ---------------------------------------------------------------------------

def fill(target: str, count: int, *, seed: int = 8, log=print) -> dict:
    """Add `count` orders of history to the database at `target` (an SQLite file path or a PostgreSQL
    SQLAlchemy URL). Returns {table: rows written}."""
    sink = PostgresSink(target) if target.startswith("postgresql") else SqliteSink(target)
    try:
        chain = Chain({name: sink.query(sql) for name, sql in QUERIES.items()})
        next_ids = {table: sink.max_id(table) + 1 for table in ID_TABLES}
        builder = HistoryBuilder(chain, count, next_ids, datetime.now(timezone.utc).replace(tzinfo=None), seed)
        started, written = time.perf_counter(), {table: 0 for table in TABLES}
        sink.begin()
        members = builder.members()
        sink.write("members", members)
        written["members"] = len(members)
        for n, chunk in enumerate(builder.chunks(), 1):
            for table, rows in chunk.items():
                sink.write(table, rows)
                written[table] += len(rows)
            sink.commit_chunk()
            if n % 10 == 0:
                log(f"  {min(count, n * CHUNK):,} orders written ({time.perf_counter() - started:.0f} s)")
        sink.reserve(builder.reserved)
        sink.finish()
        log(f"  history of {count:,} orders written in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{table} {rows:,}" for table, rows in written.items() if rows))
        return written
    finally:
        sink.close()


class SqliteSink:
    def __init__(self, path: str):
        import sqlite3

        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # a bench database: rebuilt if the machine crashes mid-fill
        self.conn.execute("PRAGMA cache_size=-200000")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def query(self, sql):
        return self.conn.execute(sql).fetchall()

    def max_id(self, table):
        return self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]

    def begin(self):
        self.conn.execute("BEGIN")

    def write(self, table, rows):
        if rows:
            columns = TABLES[table]
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                  f"({', '.join('?' * len(columns))})", rows)

    def commit_chunk(self):
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def reserve(self, reserved):
        self.conn.executemany("UPDATE stock_items SET on_hand = on_hand + ?, reserved = reserved + ? "
                              "WHERE location_id = ? AND product_id = ?",
                              [(units, units, location, product) for (location, product), units in reserved.items()])

    def finish(self):
        self.conn.execute("COMMIT")
        problems = self.conn.execute("PRAGMA foreign_key_check").fetchmany(5)
        if problems:
            raise RuntimeError(f"pre-filled rows break foreign keys: {problems}")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self):
        self.conn.close()


class PostgresSink:
    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))

    def query(self, sql):
        return self.conn.execute(sql).fetchall()

    def max_id(self, table):
        return self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]

    def begin(self):
        pass  # psycopg opens a transaction with the first statement

    def write(self, table, rows):
        if rows:
            with self.conn.cursor().copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def commit_chunk(self):
        self.conn.commit()

    def reserve(self, reserved):
        with self.conn.cursor() as cur:
            cur.executemany("UPDATE stock_items SET on_hand = on_hand + %s, reserved = reserved + %s "
                            "WHERE location_id = %s AND product_id = %s",
                            [(units, units, location, product) for (location, product), units in reserved.items()])

    def finish(self):
        for table in ID_TABLES:  # the next id the application inserts must come after the pre-filled rows
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))")
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")  # what autovacuum would do soon after such a load

    def close(self):
        self.conn.close()

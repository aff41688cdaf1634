"""Does cost grow with history? Each main endpoint's rate at 10,000 and at 1,000,000 orders, side by side.

What it does:
  1. prepares two databases, a small and a large one, each migrated, seeded with the demo chain and
     pre-filled with a realistic order history (bench/prefill.py: --small orders, default 10,000, and
     --history orders, default 1,000,000), then starts a server on each (bench/orders.py's
     running_server; on SQLite two fresh files, on PostgreSQL the database of --database-url for the
     large history and the same name + "_small" for the small one, both wiped first);
  2. on each server: stocks store 1 for the order phases (member 13800000001 places and pays there),
     and places one pay-at-store pickup order for member 13800000002 at store 2, whose code clerk2
     previews. Reads are made by member 13800000002 and clerk2 (store 2), who place nothing during
     the run, so what they read does not grow with the bench's own orders;
  3. measures every endpoint below for --duration seconds per server, split into --rounds rounds in
     which the two servers take turns endpoint by endpoint (the first one swapping each round): a
     shared host's drift then affects both alike, so the ratio is fair even when the rates are not;
  4. prints each endpoint's rate (req/s, p50, p99) on both and the ratio large/small, checked
     against the floor (0.8), and the CPU used by the servers, this client and everything else.

Run from the repository root with the virtualenv active:
  python bench/history.py                                   # SQLite, 10k vs 1M
  python bench/history.py --history 200000 --duration 6
  python bench/history.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_history
"""
from gevent import monkey

monkey.patch_all()  # before socket, subprocess and time are imported anywhere

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

from orders import (Api, ErrorLog, PhaseResult, add_history_argument, code_version, describe_database,  # noqa: E402
                    healthz, place_and_pay, place_one, prepare, run_phase, running_server)

FLOOR = 0.8
READER_PHONE = "13800000002"  # reads as this member: the bench's orders are placed by 13800000001
CLERK = "clerk2"
CLERK_STORE = 2  # clerk2's store (SH-JA); the order phases place at store 1
# 32 clients previewing the one typed code at once are no guessing, but the throttle counts each typed
# attempt before checking it (and takes it back after): at the default limits most would be refused.
SERVER_ENV = {"PICKUP_GUESSES_PER_CLERK": "1000000", "PICKUP_GUESSES_PER_STORE": "1000000"}


class Session:
    """One server under test and the tokens and ids its endpoints need."""

    def __init__(self, label: str, workers):
        self.label, self.workers = label, workers
        port = workers[0][0]
        self.buyer = prepare(port)
        api = Api(port)
        try:
            self.reader = api.login(phone=READER_PHONE)
            self.clerk = api.login(username=CLERK)
            self.hq = api.login(username="admin")
        finally:
            api.close()
        reader = Api(port, self.reader)
        try:
            order = reader.call("POST", "/api/v1/orders", {
                "items": [{"sku": "GRA-003", "qty": 1}], "fulfilment": "pickup", "store_id": CLERK_STORE,
                "payment": "at_store"}, expect=(201,))
            self.code = reader.call("GET", f"/api/v1/orders/{order['id']}")["pickup"]["code"]
            # The member's order detail: one of their orders from the history, not the one just placed.
            listed = reader.call("GET", "/api/v1/orders?limit=5")["orders"]
            self.detail_id = listed[-1]["id"]
        finally:
            reader.close()


def _get(path: str):
    def operation(api: Api) -> int:
        api.call("GET", path)
        return 0
    operation.__name__ = path
    return operation


def _preview(session: "Session"):
    def operation(api: Api) -> int:
        api.call("POST", "/api/v1/clerk/pickups/verify", {"code": session.code, "confirm": False})
        return 0
    return operation


# name, whose token, operation (given the session)
ENDPOINTS = (
    ("healthz (host drift)", "buyer", lambda s: healthz),
    ("place order", "buyer", lambda s: place_one),
    ("place-and-pay cycle", "buyer", lambda s: place_and_pay),
    ("member order detail", "reader", lambda s: _get(f"/api/v1/orders/{s.detail_id}")),
    ("member order list", "reader", lambda s: _get("/api/v1/orders")),
    ("member messages", "reader", lambda s: _get("/api/v1/me/messages")),
    ("clerk orders", "clerk", lambda s: _get("/api/v1/orders")),
    ("clerk orders ?status=completed", "clerk", lambda s: _get("/api/v1/orders?status=completed")),
    ("clerk orders ?status=cancelled", "clerk", lambda s: _get("/api/v1/orders?status=cancelled")),
    ("clerk queue", "clerk", lambda s: _get("/api/v1/clerk/orders")),
    ("clerk queue ?status=accepted", "clerk", lambda s: _get("/api/v1/clerk/orders?status=accepted")),
    ("clerk pickup preview", "clerk", _preview),
    ("clerk deliveries", "clerk", lambda s: _get("/api/v1/clerk/deliveries")),
    ("HQ orders", "hq", lambda s: _get("/api/v1/orders")),
    ("HQ orders ?status=cancelled", "hq", lambda s: _get("/api/v1/orders?status=cancelled")),
    ("HQ orders ?status=ready_to_ship", "hq", lambda s: _get("/api/v1/orders?status=ready_to_ship")),
    ("HQ escalations", "hq", lambda s: _get("/api/v1/hq/escalations")),
)


def size_label(orders: int) -> str:
    return f"{orders / 1e6:g}M" if orders >= 1_000_000 else f"{orders / 1000:g}k"


def small_database_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_small"))


def selected(args) -> list:
    return [e for i, e in enumerate(ENDPOINTS) if i == 0 or not args.only or any(t in e[0] for t in args.only)]


def measure(sessions, args, errors: ErrorLog) -> dict:
    """{(endpoint, label): PhaseResult}, the servers taking turns endpoint by endpoint, round by round."""
    results = {(name, s.label): PhaseResult(name, "req") for name, _, _ in selected(args) for s in sessions}
    rounds = {key: [] for key in results}  # (endpoint, label) -> the rate of each round
    for round_no in range(args.rounds):
        order = sessions if round_no % 2 == 0 else sessions[::-1]
        for name, who, make in selected(args):
            for session in order:
                operation = make(session)
                settings = dict(workers=session.workers, token=getattr(session, who), clients=args.clients,
                                errors=errors)
                if round_no == 0 and args.warmup:
                    run_phase(PhaseResult(name, "req"), operation, duration=args.warmup, **settings)
                result = results[(name, session.label)]
                done, seconds = len(result.latencies), result.seconds
                run_phase(result, operation, duration=args.duration / args.rounds, **settings)
                rounds[(name, session.label)].append((len(result.latencies) - done) / (result.seconds - seconds))
        print(f"round {round_no + 1}/{args.rounds} done", flush=True)
    return results, rounds


def report(args, sessions, results, rounds, errors: ErrorLog) -> bool:
    small, large = (s.label for s in sessions)
    print()
    print("=== StoreLink history benchmark: rate at each history size ===")
    print(f"database   {describe_database(args.database_url)}")
    print(f"code       {args.code}")
    print(f"setup      {args.clients} clients, {args.duration:g} s per endpoint and server in {args.rounds} rounds")
    header = f"{'endpoint':<32} {small + ' req/s':>12} {'p50':>7} {'p99':>7} {large + ' req/s':>12} {'p50':>7} {'p99':>7} {'ratio':>6}  per round"
    print(header)
    ok, cpu = True, {}
    for name, _, _ in selected(args):
        a, b = results[(name, small)], results[(name, large)]
        ratio = b.rate / a.rate if a.rate else 0.0
        below = name != ENDPOINTS[0][0] and ratio < FLOOR
        ok &= not below
        spread = [large_rate / small_rate if small_rate else 0.0
                  for small_rate, large_rate in zip(rounds[(name, small)], rounds[(name, large)])]
        print(f"{name:<32} {a.rate:12.1f} {a.percentile_ms(0.5):7.1f} {a.percentile_ms(0.99):7.1f} "
              f"{b.rate:12.1f} {b.percentile_ms(0.5):7.1f} {b.percentile_ms(0.99):7.1f} {ratio:6.2f}  "
              + " ".join(f"{r:.2f}" for r in spread)
              + ("  BELOW FLOOR" if below else "") + (f"  failures {a.failures}/{b.failures}" if a.failures or b.failures else ""))
        for result in (a, b):
            for who, used in result.cpu_seconds.items():
                cpu[who] = cpu.get(who, 0.0) + used
    seconds = sum(result.seconds for result in results.values())
    print("cpu (cores, mean over all phases): " + ", ".join(f"{who} {used / seconds:.2f}" for who, used in cpu.items())
          + "   (other = everything but the measured server and this client: the idle server, PostgreSQL, "
            "other people's work)")
    print(f"floor      every endpoint at {args.history:,} orders >= {FLOOR:.0%} of its rate at {args.small:,}: "
          + ("ok" if ok else "NOT MET"))
    print(f"errors     {errors.count} failed operations (warm-ups included)")
    for sample in errors.samples:
        print(f"  {sample}")
    return ok


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_history_argument(parser, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="orders in the small history (default 10,000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds measured per endpoint and server, over all rounds (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds the servers alternate in (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5, help="uncounted seconds before each first phase")
    parser.add_argument("--database-url", help="PostgreSQL database for the large history (wiped); the small one "
                                               "is the same name + _small (must exist, wiped). Default: SQLite files")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="measure only the endpoints whose name contains TEXT (repeatable; healthz always)")
    args = parser.parse_args(argv)
    if args.small < 1 or args.history < args.small or args.clients < 1 or args.rounds < 1 or args.duration <= 0:
        parser.error("need 1 <= --small <= --history, --clients and --rounds >= 1, --duration > 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.code = code_version()  # now: the servers run what is checked out when they start
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # unwind, so the servers are stopped
    errors = ErrorLog()
    small_url = small_database_url(args.database_url) if args.database_url else None
    with ExitStack() as stack:
        sessions = []
        for label, url, count in ((size_label(args.small), small_url, args.small),
                                  (size_label(args.history), args.database_url, args.history)):
            started = time.perf_counter()
            print(f"preparing {label}: {describe_database(url)} with {count:,} orders", flush=True)
            workers = stack.enter_context(running_server(url, history=count, env=SERVER_ENV))
            sessions.append(Session(label, workers))
            print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
        results, rounds = measure(sessions, args, errors)
    ok = report(args, sessions, results, rounds, errors)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Login-flood benchmark: how a password-guessing flood affects everyone else.

Starts the real server (fresh SQLite, demo data) three times and measures, with one sequential
client, /healthz latency (p50, p99) while N flood clients (default 8) send wrong passwords for the
demo member as fast as they can:
  idle         no flood: the baseline
  throttled    default throttling: after the account's limit the flood gets 429 without a hash
  unthrottled  throttling raised out of reach, so every guess costs a full password check (scrypt);
               shows what moving the check off the event loop buys
It prints the flood's own rate and statuses too. Run from the repository root with .venv active:
  python bench/login_flood.py [--clients 8] [--duration 10]
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import gevent  # noqa: E402

from orders import Api, running_server  # noqa: E402  (monkey-patches on import)

SCENARIOS = {
    "idle": (0, {}),
    "throttled": (None, {}),
    "unthrottled": (None, {"LOGIN_MAX_FAILURES_PER_ACCOUNT": "100000000", "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000000",
                           "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": "100000000"}),
}


def measure(port: int, flood_clients: int, duration: float) -> dict:
    statuses, latencies, stop = Counter(), [], False

    def flood():
        api = Api(port)
        while not stop:
            try:
                api.call("POST", "/api/v1/auth/login", {"phone": "13800000001", "password": "wrong"}, expect=(401, 429))
                statuses["401/429"] += 1
            except Exception as exc:  # noqa: BLE001 (counted, the bench goes on)
                statuses[type(exc).__name__] += 1

    def probe():
        api = Api(port)
        while not stop:
            start = time.perf_counter()
            api.call("GET", "/healthz")
            latencies.append(time.perf_counter() - start)
            gevent.sleep(0.01)

    floods = [gevent.spawn(flood) for _ in range(flood_clients)]
    prober = gevent.spawn(probe)
    gevent.sleep(duration)
    stop = True
    gevent.joinall(floods + [prober], timeout=30)
    ordered = sorted(latencies)
    pick = lambda q: 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "probes": len(ordered), "flood": sum(statuses.values()) / duration,
            "statuses": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="flood clients (default 8)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    args = parser.parse_args()
    results = {}
    for name, (clients, env) in SCENARIOS.items():
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with running_server(None) as workers:
                results[name] = measure(workers[0][0], args.clients if clients is None else clients, args.duration)
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        r = results[name]
        print(f"{name:12s} /healthz p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  ({r['probes']} probes)   "
              f"flood {r['flood']:7.1f} attempts/s {r['statuses']}", flush=True)


if __name__ == "__main__":
    main()

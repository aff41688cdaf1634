"""Scale-to-screen latency: from a weight frame written on the scale's serial line (a pseudo-terminal)
to the `scale.reading` at a store clerk's Socket.IO client, through the real bridge daemon and the real
server, each its own process. Prints p50/p90/p99/max; the floor is p99 under 150 ms.

    python bench/bridge.py [--frames 300] [--interval 0.05] [--protocol continuous|toledo8217]
                           [--redis redis://127.0.0.1:6379/0]

With --redis, two server processes share the database and Redis as their Socket.IO message queue (the
production layout): the bridge connects to one, the clerk to the other.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bridge_harness import (BridgeProcess, ClerkListener, LiveServer, PtyScale, api, device,  # noqa: E402
                                  register_bridge, wait_until)
from tests.fake_hardware import ToledoScale  # noqa: E402

FLOOR_P99_MS = 150.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between frames (a scale sends 10-20/s)")
    parser.add_argument("--protocol", choices=["continuous", "toledo8217"], default="continuous")
    parser.add_argument("--redis", help="message queue URL: run two workers, bridge and clerk on different ones")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
        tmp = Path(tmp)
        queue = {"SOCKETIO_MESSAGE_QUEUE": args.redis} if args.redis else {}
        server = LiveServer(tmp, **queue).start()
        clerk_server = LiveServer(tmp, **queue).start() if args.redis else server
        scale = PtyScale(tmp) if args.protocol == "continuous" else ToledoScale(tmp, answer=b"")
        bridge = clerk = None
        try:
            hq, clerk_token = server.login(username="admin"), server.login(username="clerk1")
            store_id = api(server, "GET", "/auth/me", clerk_token).json()["store_id"]
            device_id, token = register_bridge(server, hq, store_id)
            bridge = BridgeProcess(tmp, server.url, token, scale=str(scale.path), protocol=args.protocol).start()
            if not wait_until(lambda: device(server, hq, device_id)["online"]):
                raise SystemExit(f"bridge never came online:\n{bridge.log()}")
            clerk = ClerkListener(clerk_server.url, clerk_token, events=("scale.reading",))

            def send(weight_g: int) -> float:
                if args.protocol == "continuous":
                    frame = f"ST,GS,+{weight_g / 1000:8.3f}kg\r\n".encode()
                    at = time.perf_counter()
                    scale.write(frame)
                    return at
                frame = f"\x02{weight_g / 1000:8.3f}\r".encode()
                scale.answer = frame
                if not wait_until(lambda: frame in scale.first_answered, timeout=5, interval=0.001):
                    raise SystemExit("the bridge stopped polling")
                return scale.first_answered[frame]

            latencies, lost = [], 0
            for i in range(-20, args.frames):  # 20 frames of warm-up (and queue subscription), not counted
                weight = 100_000 + i if i >= 0 else 50_000 + i
                sent = send(weight)
                got = clerk.wait_for(lambda n, d, w=weight: d["weight_g"] == w, timeout=2)
                if i >= 0:
                    if got is None:
                        lost += 1
                    else:
                        latencies.append((got[0] - sent) * 1000)
                time.sleep(args.interval)

            p50, p90, p99 = (percentile(latencies, p) for p in (50, 90, 99))
            layout = "two workers through Redis" if args.redis else "one worker"
            print(f"bridge latency, {args.protocol}, {layout}, {len(latencies)} frames every {args.interval * 1000:.0f} ms "
                  f"(frame written on the pty -> scale.reading at a clerk's Socket.IO client)")
            print(f"  p50 {p50:.1f} ms   p90 {p90:.1f} ms   p99 {p99:.1f} ms   max {max(latencies):.1f} ms   "
                  f"mean {statistics.fmean(latencies):.1f} ms   lost {lost}")
            met = p99 < FLOOR_P99_MS and lost == 0
            print(f"  floor p99 < {FLOOR_P99_MS:.0f} ms and nothing lost: {'met' if met else 'NOT met'}")
            return 0 if met else 1
        finally:
            if clerk:
                clerk.close()
            if bridge:
                bridge.stop()
            scale.close()
            server.stop()
            if clerk_server is not server:
                clerk_server.stop()


if __name__ == "__main__":
    sys.exit(main())

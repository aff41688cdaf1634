"""Order-throughput benchmark for StoreLink: the real server, real HTTP, real database.

What it does:
  1. starts `python wsgi.py` as a subprocess on a free port with a fresh instance directory, so it
     migrates and seeds the demo chain itself (SQLite by default; with --database-url the public
     schema of that PostgreSQL database is dropped and recreated first);
  2. as HQ, raises store 1's stock of a few per-piece SKUs so no order fails for want of stock;
  3. logs in as demo member 13800000001 and runs three phases, each for --duration seconds with
     --clients concurrent clients (after a short warm-up that is not counted):
       trivial  GET /healthz                                         the framework's ceiling
       orders   POST /api/v1/orders (pickup, 1 line, fresh Idempotency-Key)
       cycles   place -> POST /orders/<id>/pay -> POST <pay_url>/confirm -> poll GET /orders/<id>
                after 20 ms, then every 10 ms, until payment_status is "paid" (the sandbox provider's signed
                notification reaches the server asynchronously); over 10 s counts as a failure;
  4. prints each round's rates as it goes (the spread shows how much the host drifted), then
     per-phase figures (throughput, p50/p99 latency, the CPU used by the server, by this
     client and by the rest of the machine, in cores) and a summary checked against the floors:
     orders/s >= 40% of trivial req/s, cycles/s >= 167. Errors are listed with their first bodies.

The server is always stopped at the end, also on errors, Ctrl-C and SIGTERM.

Clients are greenlets in this one process (gevent, monkey-patched), each with its own keep-alive
HTTP/1.1 connection on a raw socket: a hand-rolled client costs far less CPU than `requests`, which
matters because client and server share this machine's two cores. The per-phase CPU figures show
whether the client, not the server, is the limit (client near 100% of a core), and whether other
load on the machine ("other", which also counts PostgreSQL's own processes) skewed the run. One
client process is enough: at ~2,850 req/s it used about a third of a core while the server was at
100%, so spreading clients over processes would only take CPU from the server.

Because connections are kept alive, like a browser's, the figures include any delayed-ACK stall a
response written in two segments causes when the server's sockets lack TCP_NODELAY (~40 ms each).

Run from the repository root with the virtualenv active:
  python bench/orders.py
  python bench/orders.py --clients 64 --duration 20
  python bench/orders.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/benchdb

--workers N starts N server processes on N ports sharing the database, as production runs several
gevent workers behind a sticky load balancer; each client sticks to one worker. The trivial
endpoint is measured on the same workers, so orders/trivial compares like with like.
"""
from gevent import monkey

monkey.patch_all()  # before socket, subprocess and time are imported anywhere

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import gevent  # noqa: E402

REPO_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "demo1234"
MEMBER_PHONE = "13800000001"
STORE_ID = 1
SKUS = ("DAI-001", "GRA-003", "DRK-003", "SNK-002")  # per-piece goods stocked at every demo store
NEXT_SKU = itertools.cycle(SKUS)  # orders spread over the SKUs (greenlets share one thread)
STOCK_ON_HAND = 10_000_000  # the most HQ may set (app.stock.service.MAX_ON_HAND)
ORDER_FLOOR_RATIO = 0.40
CYCLE_FLOOR_PER_SECOND = 167
# The notification takes a few ms to arrive: look first after FIRST_POLL, then every POLL_INTERVAL
# (as a phone returning from the pay page would, only faster).
FIRST_POLL_SECONDS = 0.02
POLL_INTERVAL_SECONDS = 0.01
PAYMENT_WAIT_SECONDS = 10.0
STARTUP_TIMEOUT_SECONDS = 90.0
ERROR_SAMPLES = 5
NOISE_LIMIT_CORES = 0.25  # CPU used by other processes above which SQLite figures are suspect
SATURATED_CORES = 0.8  # server CPU below which the trivial phase is no true ceiling


# --- HTTP client --------------------------------------------------------------------------------

class ProtocolError(Exception):
    """The server answered something this minimal client does not understand."""


class UnexpectedStatus(Exception):
    def __init__(self, method: str, path: str, status: int, body: bytes):
        super().__init__(f"{method} {path} -> {status}: {body[:300].decode('utf-8', 'replace').strip()}")


class Connection:
    """One persistent HTTP/1.1 connection, with just enough protocol for a JSON API."""

    def __init__(self, port: int):
        self._port = port
        self._sock: socket.socket | None = None
        self._buf = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buf = None, b""

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = socket.create_connection((HOST, self._port))
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self._port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        try:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            status, keep_alive, data = self._read_response()
        except BaseException:
            self.close()
            raise
        if not keep_alive:
            self.close()
        return status, data

    def _read_response(self) -> tuple[int, bool, bytes]:
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self._buf = self._buf[:end].decode("latin-1"), self._buf[end + 4:]
        status_line, *header_lines = head.split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in header_lines)}
        if "content-length" not in headers:
            raise ProtocolError(f"response without Content-Length: {status_line}")
        length = int(headers["content-length"])
        while len(self._buf) < length:
            self._fill()
        data, self._buf = self._buf[:length], self._buf[length:]
        return int(status_line.split(" ", 2)[1]), headers.get("connection", "").lower() != "close", data

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ProtocolError("server closed the connection mid-response")
        self._buf += chunk


class Api:
    """A client's view of the server: JSON in, JSON out, any unexpected status raised."""

    def __init__(self, port: int, token: str | None = None):
        self._conn = Connection(port)
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}

    def close(self) -> None:
        self._conn.close()

    def call(self, method: str, path: str, body=None, *, expect=(200,), headers: dict | None = None):
        all_headers = dict(self._auth, **(headers or {}))
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        status, data = self._conn.request(method, path, payload, all_headers)
        if status not in expect:
            raise UnexpectedStatus(method, path, status, data)
        return json.loads(data) if data else None

    def login(self, **credentials) -> str:
        return self.call("POST", "/api/v1/auth/login", dict(credentials, password=PASSWORD))["token"]

    def place_order(self, sku: str) -> dict:
        body = {"items": [{"sku": sku, "qty": 1}], "fulfilment": "pickup", "store_id": STORE_ID}
        return self.call("POST", "/api/v1/orders", body, expect=(201,), headers={"Idempotency-Key": str(uuid.uuid4())})


# --- the server under test ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def reset_postgres(database_url: str) -> None:
    """Drop and recreate the public schema so the server migrates and seeds from scratch."""
    import psycopg

    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    if urlsplit(conninfo).path.lstrip("/") == "test":
        sys.exit("refusing to wipe database 'test': the test suite uses it")
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    except psycopg.OperationalError as exc:
        sys.exit(f"cannot reset the PostgreSQL database: {exc}")


def server_env(port: int, instance_dir: str, database_url: str | None) -> dict:
    # One member places every order: the per-member limits on unpaid orders would stop the run after
    # ten, so they are off here (their check costs one more statement per order when on).
    env = dict(os.environ, PORT=str(port), HOST=HOST, STORELINK_INSTANCE=instance_dir,
               PUBLIC_BASE_URL=f"http://{HOST}:{port}", STORELINK_ENV="development", STORELINK_DEMO_DATA="1",
               MAX_UNPAID_ORDERS_PER_MEMBER="0", MAX_UNPAID_UNITS_PER_MEMBER="0")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def wait_until_healthy(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        api = Api(port)
        try:
            api.call("GET", "/healthz")
            return
        except (OSError, ProtocolError, UnexpectedStatus):
            time.sleep(0.1)
        finally:
            api.close()
    raise RuntimeError(f"server not healthy after {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed_database(instance_dir: str, database_url: str | None) -> str:
    """Migrate and seed the demo chain without serving (`flask seed-demo`); returns where the database is:
    its URL, or the SQLite file's path."""
    env = server_env(free_port(), instance_dir, database_url)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", "seed-demo"], cwd=REPO_DIR,
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{result.stdout}{result.stderr}")
    return database_url or str(Path(instance_dir) / "storelink.db")


@contextmanager
def running_server(database_url: str | None, workers: int = 1, message_queue: str | None = None,
                   history: int = 0, env: dict | None = None):
    """Yield [(port, pid), ...] of freshly seeded server workers; stop them and delete the instance dir afterwards.

    Several workers run as production does: separate processes on their own ports, sharing the
    database (and, with --message-queue, Socket.IO's Redis queue); each bench client sticks to one,
    as it would behind a sticky load balancer. The first worker migrates and seeds before the others start.
    With `history`, the database is seeded and pre-filled with that many orders (bench/prefill.py)
    before any worker starts, so the server's start-up statistics (SQLite) see them. `env`: more
    settings for the workers."""
    if database_url:
        reset_postgres(database_url)
    instance_dir = tempfile.mkdtemp(prefix="storelink-bench-")
    procs = []
    try:
        if history:
            from prefill import fill

            fill(seed_database(instance_dir, database_url), history)
        for index in range(workers):
            port = free_port()
            log_path = Path(instance_dir) / f"server-{index}.log"
            worker_env = dict(server_env(port, instance_dir, database_url), **(env or {}))
            if message_queue:
                worker_env["SOCKETIO_MESSAGE_QUEUE"] = message_queue
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "wsgi.py"], cwd=REPO_DIR, env=worker_env,
                                        stdout=log, stderr=subprocess.STDOUT)
            procs.append((port, proc, log_path))
            wait_until_healthy(proc, port, log_path)
        yield [(port, proc.pid) for port, proc, _ in procs]
        for _, proc, log_path in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"server died during the run:\n{tail(log_path)}")
    finally:
        for _, proc, _ in procs:
            stop(proc)
        shutil.rmtree(instance_dir, ignore_errors=True)


# --- measuring ----------------------------------------------------------------------------------

class PaymentTimeout(Exception):
    pass


@dataclass
class ErrorLog:
    count: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, phase: str, exc: Exception) -> None:
        self.count += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(f"[{phase}] {type(exc).__name__}: {exc}")


@dataclass
class PhaseResult:
    name: str
    unit: str
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    polls: int = 0
    seconds: float = 0.0
    cpu_seconds: dict = field(default_factory=dict)  # who -> core-seconds used, see CpuMeter

    @property
    def cpu(self) -> dict:
        """who -> share of one core over the phase."""
        return {who: used / self.seconds for who, used in self.cpu_seconds.items()} if self.seconds else {}

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class CpuMeter:
    """CPU used during a phase, as shares of one core: the server, this client, and everything else
    on the machine (the PostgreSQL server, or other load that makes the figures noisy)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pids: list[int]):
        self._server_pids = server_pids
        self._start = self._sample()

    def _sample(self) -> dict:
        stats = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in self._server_pids]
        machine = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        own = os.times()
        return {
            "server": sum(int(stat[11]) + int(stat[12]) for stat in stats) / self.TICK,  # utime + stime
            "client": own.user + own.system,
            "machine": (sum(machine) - machine[3] - machine[4]) / self.TICK,  # all but idle and iowait
            "wall": time.perf_counter(),
        }

    def used(self) -> dict:
        """Core-seconds used since the start by the server, this client and everything else."""
        end = self._sample()
        used = {who: end[who] - self._start[who] for who in end}
        return {"server": used["server"], "client": used["client"],
                "other": max(0.0, used["machine"] - used["server"] - used["client"])}


def run_phase(result: PhaseResult, operation, *, workers: list[tuple[int, int]], token: str, clients: int,
              duration: float, errors: ErrorLog) -> PhaseResult:
    """Run `operation(api)` in a loop on `clients` connections for `duration` seconds.

    Clients are spread over the workers round-robin, each sticking to its own. operation returns
    the number of polls it made; each call is one latency sample."""
    deadline = time.perf_counter() + duration

    def client(port: int):
        api = Api(port, token)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    polls = operation(api)
                except (OSError, ProtocolError, UnexpectedStatus, PaymentTimeout) as exc:
                    result.failures += 1
                    errors.record(result.name, exc)
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.polls += polls
        finally:
            api.close()

    meter, started = CpuMeter([pid for _, pid in workers]), time.perf_counter()
    ports = [port for port, _ in workers]
    gevent.joinall([gevent.spawn(client, ports[i % len(ports)]) for i in range(clients)], raise_error=True)
    result.seconds += time.perf_counter() - started
    for who, used in meter.used().items():
        result.cpu_seconds[who] = result.cpu_seconds.get(who, 0.0) + used
    return result


def healthz(api: Api) -> int:
    api.call("GET", "/healthz")
    return 0


def place_one(api: Api) -> int:
    api.place_order(next(NEXT_SKU))
    return 0


def place_and_pay(api: Api) -> int:
    order_id = api.place_order(next(NEXT_SKU))["id"]
    pay_url = api.call("POST", f"/api/v1/orders/{order_id}/pay")["pay_url"]
    api.call("POST", urlsplit(pay_url).path + "/confirm", headers={"Accept": "application/json"})
    return wait_until_paid(api, order_id)


def wait_until_paid(api: Api, order_id: int) -> int:
    deadline = time.perf_counter() + PAYMENT_WAIT_SECONDS
    polls = 0
    time.sleep(FIRST_POLL_SECONDS)
    while time.perf_counter() < deadline:
        polls += 1
        if api.call("GET", f"/api/v1/orders/{order_id}")["payment_status"] == "paid":
            return polls
        time.sleep(POLL_INTERVAL_SECONDS)
    raise PaymentTimeout(f"order {order_id} not paid after {PAYMENT_WAIT_SECONDS:.0f} s ({polls} polls)")


PHASES = (("trivial", "req", healthz), ("orders", "orders", place_one), ("cycles", "cycles", place_and_pay))


# --- set-up and reporting -----------------------------------------------------------------------

def prepare(port: int) -> str:
    """Stock store 1 deep enough for the whole run; return a member token."""
    api = Api(port)
    try:
        catalogue = {p["sku"]: p for p in api.call("GET", f"/api/v1/products?store_id={STORE_ID}")["products"]}
        missing = [sku for sku in SKUS if catalogue.get(sku, {}).get("sold_by") != "piece"]
        if missing:
            raise RuntimeError(f"demo catalogue lacks per-piece SKUs {missing}")
        hq = Api(port, api.login(username="admin"))
        try:
            for sku in SKUS:
                hq.call("POST", "/api/v1/hq/stock", {"location_id": STORE_ID, "sku": sku, "on_hand": STOCK_ON_HAND})
        finally:
            hq.close()
        return api.login(phone=MEMBER_PHONE)
    finally:
        api.close()


def code_version() -> str:
    """The commit under test, "-dirty" when the work tree has changes (figures depend on them)."""
    result = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_DIR, capture_output=True, text=True)
    return result.stdout.strip() or "unknown (not a git checkout)"


def describe_database(database_url: str | None) -> str:
    if not database_url:
        return "sqlite (fresh file in a temporary STORELINK_INSTANCE)"
    parts = urlsplit(database_url)
    return f"{parts.scheme.split('+')[0]} ({parts.hostname}:{parts.port or 5432}{parts.path})"


def figures(result: PhaseResult) -> str:
    cpu = " ".join(f"{who} {share:4.0%}" for who, share in result.cpu.items())
    return (f"{result.rate:8.1f} {result.unit + '/s':<9} p50 {result.percentile_ms(0.50):7.1f} ms  "
            f"p99 {result.percentile_ms(0.99):7.1f} ms  cpu(cores) {cpu}")


def print_phase(result: PhaseResult) -> None:
    line = f"{result.name:<8} {figures(result)}  n={len(result.latencies)} failures={result.failures}"
    if result.unit == "cycles" and result.latencies:
        line += f" avg polls {result.polls / len(result.latencies):.2f}"
    print(line, flush=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW FLOOR"


def print_summary(args, trivial: PhaseResult, orders: PhaseResult, cycles: PhaseResult, errors: ErrorLog) -> None:
    ratio = orders.rate / trivial.rate if trivial.rate else 0.0
    avg_polls = cycles.polls / len(cycles.latencies) if cycles.latencies else float("nan")
    print()
    print("=== StoreLink order benchmark: summary ===")
    print(f"database        {describe_database(args.database_url)}"
          + (f", pre-filled with {args.history:,} orders" if args.history else ""))
    print(f"code            {code_version()}")
    queue = f", Socket.IO queue {args.message_queue}" if args.message_queue else ""
    print(f"setup           {args.clients} clients, {args.duration:g} s per phase in {args.rounds} rounds, "
          f"{args.workers} server worker(s){queue}")
    for result in (trivial, orders, cycles):
        print(f"{result.name:<15} {figures(result)}")
    print(f"orders/trivial  {ratio:8.1%}   floor {ORDER_FLOOR_RATIO:.0%}: {verdict(ratio >= ORDER_FLOOR_RATIO)}")
    print(f"cycles/s        {cycles.rate:8.1f}   floor {CYCLE_FLOOR_PER_SECOND}: "
          f"{verdict(cycles.rate >= CYCLE_FLOOR_PER_SECOND)}   failures {cycles.failures}   avg polls {avg_polls:.2f}")
    print(f"errors          {errors.count} failed operations (warm-ups included)")
    if trivial.cpu["server"] < SATURATED_CORES:
        print(f"WARNING         /healthz kept the server only {trivial.cpu['server']:.0%} busy: the ceiling is bound "
              "by latency, not CPU, so orders/trivial flatters the order path")
    busiest = max(result.cpu["other"] for result in (trivial, orders, cycles))
    if not args.database_url and busiest > NOISE_LIMIT_CORES:
        print(f"WARNING         other processes used up to {busiest:.0%} of a core: these figures are unreliable")
    for sample in errors.samples:
        print(f"  {sample}")


def add_history_argument(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument("--history", type=int, default=default, metavar="N",
                        help=f"pre-fill the database with N orders of history before serving (bench/prefill.py; "
                             f"default {default})")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per phase (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds before each phase (default 1)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the phases take turns this many times, --duration split among the rounds (default 4)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of a PostgreSQL database to wipe and use "
                                               "(default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes, each on its own port, clients sticking to one (default 1)")
    parser.add_argument("--message-queue", help="Redis URL for Socket.IO across workers, as production runs them")
    add_history_argument(parser)
    args = parser.parse_args(argv)
    if args.workers < 1 or args.clients < 1 or args.rounds < 1 or args.duration <= 0 or args.warmup < 0 \
            or args.history < 0:
        parser.error("--workers, --clients and --rounds must be >= 1, --duration > 0, --warmup and --history >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # unwind, so the server is stopped
    errors = ErrorLog()
    print(f"database: {describe_database(args.database_url)}", flush=True)
    with running_server(args.database_url, args.workers, args.message_queue, args.history) as workers:
        token = prepare(workers[0][0])
        settings = dict(workers=workers, token=token, clients=args.clients)
        results = [PhaseResult(name, unit) for name, unit, _ in PHASES]
        # The phases take turns, round after round: a machine whose speed drifts (a shared host)
        # then affects them alike, and the orders/trivial ratio stays fair.
        for round_no in range(args.rounds):
            rates = []
            for result, (_, _, operation) in zip(results, PHASES):
                if args.warmup and round_no == 0:  # uncounted, but its errors are still reported
                    run_phase(PhaseResult(result.name, result.unit), operation, duration=args.warmup,
                              errors=errors, **settings)
                done, seconds = len(result.latencies), result.seconds
                run_phase(result, operation, duration=args.duration / args.rounds, errors=errors, **settings)
                rates.append((len(result.latencies) - done) / (result.seconds - seconds))
            print(f"round {round_no + 1}/{args.rounds}: " + ", ".join(
                f"{name} {rate:,.0f}/s" for (name, _, _), rate in zip(PHASES, rates))
                + f", orders/trivial {rates[1] / rates[0]:.1%}", flush=True)
        for result in results:
            print_phase(result)
    print_summary(args, *results, errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())

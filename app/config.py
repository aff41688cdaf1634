"""Configuration read from the environment.

Only settings that differ between a laptop demo and a production chain live here;
everything else is a constant in the module that owns it.
"""
import os
import secrets
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("STORELINK_INSTANCE", PROJECT_DIR / "instance"))


class ConfigError(RuntimeError):
    """The server refuses to start with an unsafe or incomplete configuration."""


def _instance_secret_key() -> str:
    """A development key generated once and kept under instance/, never in the repo."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _tolerance(text: str):
    from .weighing.rules import Tolerance

    try:
        return Tolerance.parse(text)
    except ValueError as exc:
        raise ConfigError(f"WEIGH_TOLERANCE: {exc}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _trusted_proxies(text: str | None):
    from .infra.client_address import parse_trusted_proxies

    try:
        return parse_trusted_proxies(text)
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_PROXIES: {exc}") from exc


def public_base_url() -> str:
    """PUBLIC_BASE_URL if set, else the address wsgi.py listens on (HOST, PORT): a server started on
    another port must not send shoppers and payment notifications to port 5000."""
    explicit = os.environ.get("PUBLIC_BASE_URL")
    if explicit:
        return explicit.rstrip("/")
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine answers on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{_int('PORT', 5000)}"


def from_environment(**overrides) -> dict:
    """Build the Flask config mapping from environment variables plus explicit overrides."""
    production = os.environ.get("STORELINK_ENV", "development") == "production"
    secret_key = os.environ.get("SECRET_KEY")
    if production and (not secret_key or len(secret_key) < 32):
        raise ConfigError("production mode needs SECRET_KEY (at least 32 characters) in the environment")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'storelink.db'}"
    config = {
        "PRODUCTION": production,
        "SECRET_KEY": secret_key or _instance_secret_key(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # Demo data and demo logins exist only outside production.
        "DEMO_DATA": (not production) and os.environ.get("STORELINK_DEMO_DATA", "1") == "1",
        "PAYMENT_TIMEOUT_SECONDS": _int("PAYMENT_TIMEOUT_SECONDS", 15 * 60),
        "EXPIRY_SWEEP_SECONDS": _int("EXPIRY_SWEEP_SECONDS", 30),
        # SQLite planner statistics refreshed at start and then this often (app/infra/sqlite_stats.py).
        "SQLITE_ANALYZE_SECONDS": _int("SQLITE_ANALYZE_SECONDS", 3600),
        # What one member's unpaid online orders may hold (app/orders/member_limits.py); 0: no limit.
        "MAX_UNPAID_ORDERS_PER_MEMBER": _int("MAX_UNPAID_ORDERS_PER_MEMBER", 10),
        "MAX_UNPAID_UNITS_PER_MEMBER": _int("MAX_UNPAID_UNITS_PER_MEMBER", 2000),
        # Pickup codes: how long a shown QR stays valid, how many wrong typed codes a clerk / a store
        # may enter per window before being told to wait, and when an uncollected order lapses.
        "PICKUP_QR_TTL_SECONDS": _int("PICKUP_QR_TTL_SECONDS", 24 * 3600),
        "PICKUP_GUESSES_PER_CLERK": _int("PICKUP_GUESSES_PER_CLERK", 10),
        "PICKUP_GUESSES_PER_STORE": _int("PICKUP_GUESSES_PER_STORE", 30),
        "PICKUP_GUESS_WINDOW_SECONDS": _int("PICKUP_GUESS_WINDOW_SECONDS", 600),
        "PICKUP_DEADLINE_SECONDS": _int("PICKUP_DEADLINE_SECONDS", 3 * 24 * 3600),
        # After the reminder, an order still uncollected this long is cancelled and refunded (0: never).
        "PICKUP_CANCEL_AFTER_SECONDS": _int("PICKUP_CANCEL_AFTER_SECONDS", 24 * 3600),
        # Members may ask to return goods this many days after the order was completed (handed over).
        "RETURN_WINDOW_DAYS": _int("RETURN_WINDOW_DAYS", 7),
        # An order nobody accepts this long is escalated: louder alarm at the store, visible to HQ (0: never).
        "ESCALATE_AFTER_SECONDS": _int("ESCALATE_AFTER_SECONDS", 10 * 60),
        "STORE_JOBS_SWEEP_SECONDS": _int("STORE_JOBS_SWEEP_SECONDS", 30),
        # How often the outbox of status changes owed to delivery platforms is looked at (app/channels).
        "CHANNEL_WRITEBACK_SWEEP_SECONDS": _int("CHANNEL_WRITEBACK_SWEEP_SECONDS", 5),
        # The sandbox provider's shared secret; in production each provider brings its own.
        "SANDBOX_PAYMENT_SECRET": os.environ.get("SANDBOX_PAYMENT_SECRET") or None,
        # Production never registers the sandbox provider unless this is 1 (a staging system).
        "ALLOW_SANDBOX_PAYMENTS": os.environ.get("ALLOW_SANDBOX_PAYMENTS", "0") == "1",
        # Where the sandbox provider sends its notifications and returns the shopper to.
        "PUBLIC_BASE_URL": public_base_url(),
        "TOKEN_MAX_AGE_SECONDS": _int("TOKEN_MAX_AGE_SECONDS", 7 * 24 * 3600),
        "DB_POOL_SIZE": _int("DB_POOL_SIZE", 20),
        # Request bodies are small JSON; anything larger is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        # Re-weighing fresh goods: how far a weight may stray with nothing to settle ("5g" or "1.5%";
        # a product may set its own), and the most a store may waive on one order, in fen (a store may
        # set its own).
        "WEIGH_TOLERANCE": _tolerance(os.environ.get("WEIGH_TOLERANCE") or "5g"),
        "WEIGH_WAIVE_LIMIT": _int("WEIGH_WAIVE_LIMIT", 500),
        # What one connection may hold of the HTTP server (app/infra/http_server.py): seconds a client may
        # take to send a request's header block, to send its body, to stay idle between requests;
        # bytes of one header block.
        # Login throttling (app/accounts/throttle.py): failed attempts allowed per account from one
        # client address, per account from all addresses together (addresses it logged in from
        # within LOGIN_KNOWN_ADDRESS_DAYS exempt), and per client address within the window, then 429
        # until it ends. Counters in Redis when RATELIMIT_STORAGE_URL (else SOCKETIO_MESSAGE_QUEUE)
        # is set, in memory otherwise.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", 10),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 100),
        "LOGIN_KNOWN_ADDRESS_DAYS": _int("LOGIN_KNOWN_ADDRESS_DAYS", 30),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50),
        "LOGIN_THROTTLE_WINDOW_SECONDS": _int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60),
        "RATELIMIT_STORAGE_URL": os.environ.get("RATELIMIT_STORAGE_URL") or None,
        # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client
        # (app/infra/client_address.py); none by default: the connection's peer is the client.
        "TRUSTED_PROXIES": _trusted_proxies(os.environ.get("TRUSTED_PROXIES")),
        "HTTP_HEADER_TIMEOUT": _float("HTTP_HEADER_TIMEOUT", 10.0),
        "HTTP_BODY_TIMEOUT": _float("HTTP_BODY_TIMEOUT", 30.0),
        "HTTP_KEEPALIVE_TIMEOUT": _float("HTTP_KEEPALIVE_TIMEOUT", 60.0),
        "HTTP_MAX_HEADER_BYTES": _int("HTTP_MAX_HEADER_BYTES", 32 * 1024),
    }
    config.update(overrides)
    return config

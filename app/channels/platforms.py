"""Which platforms may push orders, each with its own HMAC secret and write-back URL.

Configured from the environment (README "Third-party platforms"): CHANNEL_PLATFORMS lists the
platforms; CHANNEL_<NAME>_SECRET and CHANNEL_<NAME>_WRITEBACK_URL configure each. Outside production a
platform without a secret gets one derived from the instance's SECRET_KEY (like the sandbox payment
provider's), so a demo works and no secret is ever in the repository; production never derives one.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from typing import NamedTuple

from ..errors import NotFound

log = logging.getLogger(__name__)

DEFAULT_PLATFORMS = "meituan,eleme"
LABELS = {"meituan": "美团", "eleme": "饿了么"}
MIN_SECRET_LENGTH = 32
EXTENSION_KEY = "storelink_channel_platforms"


class Platform(NamedTuple):
    name: str
    label: str
    secret: bytes
    writeback_url: str | None


def derived_secret(secret_key: str, name: str) -> str:
    return hmac.new(secret_key.encode(), f"channel-platform:{name}".encode(), hashlib.sha256).hexdigest()


def platforms_from(config: dict, environ) -> dict[str, Platform]:
    """{name: Platform} from the app's config and the environment."""
    names = [n.strip().lower() for n in (environ.get("CHANNEL_PLATFORMS") or DEFAULT_PLATFORMS).split(",") if n.strip()]
    platforms = {}
    for name in names:
        prefix = f"CHANNEL_{name.upper()}_"
        secret = environ.get(prefix + "SECRET")
        if not secret:
            if config.get("PRODUCTION"):
                log.warning("platform %s has no %sSECRET: its orders are refused", name, prefix)
                continue
            secret = derived_secret(config["SECRET_KEY"], name)
        elif len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{prefix}SECRET must be at least {MIN_SECRET_LENGTH} characters")
        platforms[name] = Platform(name, environ.get(prefix + "LABEL") or LABELS.get(name, name), secret.encode(),
                                   environ.get(prefix + "WRITEBACK_URL") or None)
    return platforms


def platform(platforms: dict[str, Platform], name: str) -> Platform:
    found = platforms.get(name)
    if found is None:
        raise NotFound("未知的第三方平台", code="unknown_platform")
    return found


def label(platforms: dict[str, Platform], name: str) -> str:
    """The platform's name for people (also for a platform no longer configured)."""
    return platforms[name].label if name in platforms else LABELS.get(name, name)


def platform_tags(source, platforms: dict[str, Platform], order_ids: list[int]) -> dict[int, dict]:
    """{order_id: {name, label, order_id}} for those of the orders a platform sent (the clerk centre's
    美团 / 饿了么 badge). `source`: a reader or a unit of work."""
    return {order_id: {"name": name, "label": label(platforms, name), "order_id": platform_order_id}
            for order_id, (name, platform_order_id) in source.channels.platforms_of(order_ids).items()}

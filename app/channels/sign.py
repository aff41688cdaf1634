"""Try a platform push locally: sign a JSON body as the platform would and print the curl command.

    python -m app.channels.sign meituan order.json          # or the body on stdin
    python -m app.channels.sign meituan order.json --cancel MT1001
    python -m app.channels.sign --secrets                    # each platform's secret and write-back URL

Secrets come from the same configuration as the server (CHANNEL_<NAME>_SECRET, or outside production
the one derived from this instance's SECRET_KEY).
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from .. import config
from .platforms import platforms_from
from .signing import signed_headers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.channels.sign", description=__doc__.splitlines()[0])
    parser.add_argument("platform", nargs="?")
    parser.add_argument("body", nargs="?", help="JSON file (default: stdin)")
    parser.add_argument("--cancel", metavar="PLATFORM_ORDER_ID", help="sign a cancellation of this order instead")
    parser.add_argument("--secrets", action="store_true", help="print each platform's secret and write-back URL")
    args = parser.parse_args(argv)
    platforms = platforms_from(config.from_environment(), os.environ)
    if args.secrets:
        for name, found in platforms.items():
            print(f"{name}\t{found.label}\tsecret={found.secret.decode()}\twriteback={found.writeback_url or '-'}")
        return 0
    if args.platform not in platforms:
        parser.error(f"platform must be one of {', '.join(platforms)}")
    body = open(args.body, "rb").read() if args.body else sys.stdin.buffer.read()
    path = f"/api/v1/channels/{args.platform}/orders" + (f"/{args.cancel}/cancel" if args.cancel else "")
    headers = signed_headers(platforms[args.platform].secret, body)
    parts = ["curl", "-sS", "-X", "POST", config.public_base_url() + path]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode()]
    print(" ".join(shlex.quote(part) for part in parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

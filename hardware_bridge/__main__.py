"""`python -m hardware_bridge --server URL --token TOKEN [--scale PORT --scale-protocol NAME] [--printer URI]...`

Settings may also come from a TOML file (`--config bridge.toml`, same names: server, token, scale,
scale_protocol, printers = [...], spool, log_level); the command line wins. The token may be given
in the environment as STORELINK_BRIDGE_TOKEN, which keeps it out of the process list.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tomllib

from .printing.transport import parse_printer
from .scale import PROFILES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hardware_bridge", description="StoreLink store-PC hardware bridge")
    p.add_argument("--config", help="TOML file with the settings below")
    p.add_argument("--server", help="StoreLink server URL, e.g. https://storelink.example.com")
    p.add_argument("--token", help="device token issued by HQ (or STORELINK_BRIDGE_TOKEN)")
    p.add_argument("--scale", help="serial port of the scale (a /dev/serial/by-id/... name survives replugging), or 'sim'")
    p.add_argument("--scale-protocol", choices=[*PROFILES, "sim"], help="scale protocol profile")
    p.add_argument("--printer", action="append", dest="printers", metavar="URI",
                   help="tcp://host:9100, serial:///dev/ttyUSB0?baud=19200, or a device/file path; "
                        "options ?name=receipt&paper=80|58&confirm=status|none; repeat for more printers")
    p.add_argument("--spool", help="the print spool file (default bridge-spool.db)")
    p.add_argument("--log-level", help="DEBUG, INFO (default), WARNING")
    p.add_argument("--list-ports", action="store_true", help="list serial ports with their stable names and exit")
    return p


def list_ports() -> int:
    from serial.tools import list_ports as lp

    by_id = {}
    base = "/dev/serial/by-id"
    if os.path.isdir(base):
        for name in sorted(os.listdir(base)):
            by_id[os.path.realpath(os.path.join(base, name))] = os.path.join(base, name)
    ports = sorted(lp.comports(), key=lambda p: p.device)
    if not ports:
        print("no serial ports found")
    for port in ports:
        stable = by_id.get(os.path.realpath(port.device), port.device)
        print(f"{stable}\t{port.device}\t{port.description}\t{port.hwid}")
    return 0


def settings(args: argparse.Namespace) -> dict:
    values: dict = {}
    if args.config:
        with open(args.config, "rb") as f:
            values.update(tomllib.load(f))
    for key in ("server", "token", "scale", "scale_protocol", "printers", "spool", "log_level"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    values.setdefault("token", os.environ.get("STORELINK_BRIDGE_TOKEN"))
    return values


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list_ports:
        return list_ports()
    values = settings(args)
    logging.basicConfig(level=str(values.get("log_level", "INFO")).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not values.get("server") or not values.get("token"):
        print("--server and --token (or a config file, or STORELINK_BRIDGE_TOKEN) are required", file=sys.stderr)
        return 2
    from .daemon import Bridge, BridgeConfig

    try:
        printers = [parse_printer(uri, default_name="receipt" if i == 0 else f"printer{i + 1}")
                    for i, uri in enumerate(values.get("printers") or [])]
        if len({p.name for p in printers}) != len(printers):
            raise ValueError("printer names must differ (?name=...)")
        bridge = Bridge(BridgeConfig(server=values["server"], token=values["token"], scale=values.get("scale"),
                                     scale_protocol=values.get("scale_protocol"), printers=printers,
                                     spool=values.get("spool", "bridge-spool.db")))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop.set())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop.set())
    bridge.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

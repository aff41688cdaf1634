"""The client's address, for the login throttle and the audit log: the connection's peer, unless that
peer is a trusted reverse proxy (TRUSTED_PROXIES), in which case X-Forwarded-For says who it serves.

X-Forwarded-For is written by the client as much as by proxies: a client can send any list, and a
proxy appends the address it saw (nginx's `$proxy_add_x_forwarded_for`). Only the right end of the
list was written by hosts we trust, so it is read from the right: trusted hops are skipped, and the
first hop that is not trusted is the client. Everything to its left is the client's own say and is
ignored. With no trusted proxy configured (the default) the header is never read: a server reached
directly would otherwise let anyone choose their address and escape the per-address throttle.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str | None) -> tuple[Network, ...]:
    """`10.0.0.5, 10.1.0.0/16, ::1` -> networks; ValueError naming the entry that is not one."""
    networks = []
    for entry in (text or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def _ip(text: str):
    """An address as a proxy writes it (`203.0.113.7`, `203.0.113.7:5123`, `[2001:db8::1]:443`,
    `2001:db8::1`), or None when it is none (`unknown`, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port; an IPv6 address has two colons or more
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client of a dual-stack proxy reaches it as ::ffff:a.b.c.d: the same client either way.
    return address.ipv4_mapped or address if address.version == 6 else address


def _trusted(address, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: Iterable[str] | str | None, proxies: Sequence[Network]) -> str:
    """The client's address given the connection's peer (REMOTE_ADDR) and the X-Forwarded-For values."""
    peer_ip = _ip(peer or "")
    if not proxies or not _trusted(peer_ip, proxies) or not forwarded_for:
        return peer or ""
    if isinstance(forwarded_for, str):
        forwarded_for = [forwarded_for]
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    nearest = str(peer_ip)
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            # A trusted proxy wrote something that is no address: nothing left of it can be vouched
            # for, so the client is the last hop that could (the proxy that wrote it).
            return nearest
        if not _trusted(address, proxies):
            return str(address)
        nearest = str(address)
    return nearest  # every hop is a trusted host: the left-most is the client


def of_request(request) -> str:
    """The current request's client address (Flask/Werkzeug request; the app's TRUSTED_PROXIES)."""
    from flask import current_app

    return client_address(request.remote_addr or "", request.headers.getlist("X-Forwarded-For"),
                          current_app.config.get("TRUSTED_PROXIES") or ())

"""The gevent HTTP server StoreLink runs under (the server socketio.run starts, tuned), and the
session-cookie interface pages will use."""
from __future__ import annotations

import re
import socket

from flask.sessions import SecureCookieSessionInterface
from gevent import pywsgi


def handler_class(access_log: bool) -> type[pywsgi.WSGIHandler]:
    class Handler(pywsgi.WSGIHandler):
        """Disables Nagle's algorithm on every connection: pywsgi may write a response's headers and
        body in separate sends, and with Nagle on the second waits for the client's delayed ACK, so
        every keep-alive request stalled ~40 ms (measured: 44 ms per sequential /healthz before,
        0.5 ms after)."""

        def __init__(self, sock, address, server, rfile=None):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket (a Unix socket behind a proxy, say)
                pass
            super().__init__(sock, address, server, rfile)

        def MessageClass(self, rfile, *_):  # noqa: N802 (pywsgi's name)
            return RequestHeaders.read(rfile)

        if not access_log:
            def log_request(self):
                """No access log: skip formatting the line nobody reads."""

    return Handler


MAX_HEADER_LINE = 65536  # the limits of http.client, which pywsgi parses with by default
MAX_HEADERS = 100
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token


class RequestHeaders:
    """A request's header fields, read without the email package pywsgi parses them with by default:
    that parser cost 25 µs on a trivial request and 75 µs on an order (more headers, colder caches),
    a tenth of the whole request. Offers what pywsgi's handler uses of its header object: `status`
    (non-empty makes pywsgi answer 400), get/getheader, del, `headers` (the raw lines), `typeheader`.

    Stricter than the email parser where RFC 9112 asks a server to be: a line that is no field, or
    whitespace before the colon, is a 400 rather than silently skipped. Obsolete line folding is
    joined into the previous field's value."""

    __slots__ = ("_fields", "status")

    def __init__(self, fields: list[tuple[str, str]] | None = None, status: str = ""):
        self._fields = fields or []
        self.status = status

    @classmethod
    def read(cls, rfile) -> "RequestHeaders":
        fields: list[tuple[str, str]] = []
        while True:
            line = rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                return cls(status="Line too long")
            if line in (b"\r\n", b"\n", b""):
                return cls(fields)
            text = line.decode("latin-1").rstrip("\r\n")
            if text[:1] in (" ", "\t"):
                if not fields:
                    return cls(status="Header continuation without a field")
                name, value = fields[-1]
                fields[-1] = (name, f"{value} {text.strip()}")
                continue
            if len(fields) >= MAX_HEADERS:
                return cls(status="Too many headers")
            name, colon, value = text.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                return cls(status="Invalid header line")
            fields.append((name, value.strip(" \t")))

    def get(self, name: str, default=None):
        wanted = name.lower()
        for field, value in self._fields:
            if field.lower() == wanted:
                return value
        return default

    getheader = get

    def __delitem__(self, name: str) -> None:
        wanted = name.lower()
        kept = [(field, value) for field, value in self._fields if field.lower() != wanted]
        if len(kept) == len(self._fields):
            raise KeyError(name)
        self._fields = kept

    @property
    def headers(self) -> list[str]:
        return [f"{field}: {value}\r\n" for field, value in self._fields]

    @property
    def typeheader(self):
        return self.get("content-type")


class CachedSessionInterface(SecureCookieSessionInterface):
    """Flask builds a new signing serializer for the session cookie on every request; the keys do not
    change while the app runs, so build it once per app and key set."""

    def open_session(self, app, request):
        # API calls carry a bearer token, not a cookie. With no Cookie header there is nothing to read,
        # and Flask would still parse the cookies, walking every header of the request to find none.
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class() if self.get_signing_serializer(app) is not None else None
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        key = (id(app), app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_cached", None)
        if cached is None or cached[0] != key:
            cached = self._cached = (key, super().get_signing_serializer(app))
        return cached[1]

"""The gevent HTTP server StoreLink runs under (the server socketio.run starts, tuned), and the
session-cookie interface pages will use."""
from __future__ import annotations

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

        if not access_log:
            def log_request(self):
                """No access log: skip formatting the line nobody reads."""

    return Handler


class CachedSessionInterface(SecureCookieSessionInterface):
    """Flask builds a new signing serializer for the session cookie on every request; the keys do not
    change while the app runs, so build it once per app and key set."""

    def get_signing_serializer(self, app):
        key = (id(app), app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_cached", None)
        if cached is None or cached[0] != key:
            cached = self._cached = (key, super().get_signing_serializer(app))
        return cached[1]

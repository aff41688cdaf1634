"""The gevent HTTP server StoreLink runs under (the server socketio.run starts, tuned and hardened),
and the session-cookie interface pages will use.

What a request may cost the server before the application sees it is bounded here: the header block
(bytes and lines, folded lines included), the time a client may take to send it, the time a
connection may sit idle between requests, and the time a body may take to arrive. The framing rules
of RFC 9112 that keep a front proxy and this server agreeing on where a request ends are enforced:
control characters (bare CR, NUL, ...) in the request line or a field, a Content-Length that is not
digits or that differs between repeated fields, and transfer codings other than plain chunked are
refused with 400; a request that carries both Transfer-Encoding and Content-Length is answered and
the connection closed (§6.3)."""
from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass

import gevent
from flask.sessions import SecureCookieSessionInterface
from gevent import pywsgi
from werkzeug.exceptions import ClientDisconnected


MAX_HEADERS = 100  # stock gevent's limit on header lines


@dataclass(frozen=True)
class HttpLimits:
    """What one connection may hold of the server. Timeouts in seconds."""

    max_header_bytes: int = 32 * 1024  # the whole header block after the request line, folded lines included
    max_header_lines: int = MAX_HEADERS  # every line counts, a folded continuation too
    keepalive_timeout: float = 60.0  # idle between requests (before a request's first byte)
    header_timeout: float = 10.0  # from a request's first byte to the end of its header block
    body_timeout: float = 30.0  # from the end of the header block until the whole body is read
    max_discard_bytes: int = 64 * 1024  # an unread body larger than this closes the connection instead

    @classmethod
    def from_config(cls, config) -> "HttpLimits":
        return cls(
            max_header_bytes=config.get("HTTP_MAX_HEADER_BYTES", cls.max_header_bytes),
            keepalive_timeout=config.get("HTTP_KEEPALIVE_TIMEOUT", cls.keepalive_timeout),
            header_timeout=config.get("HTTP_HEADER_TIMEOUT", cls.header_timeout),
            body_timeout=config.get("HTTP_BODY_TIMEOUT", cls.body_timeout),
        )


class IdleTimeout(TimeoutError):
    """The connection stayed idle between requests for too long."""


class RequestHeadTimeout(TimeoutError):
    """The client did not finish its request line and header block in time."""


class RequestBodyTimeout(TimeoutError, ClientDisconnected):
    """The body did not arrive in time. An OSError for gevent's and our own body readers, and a 400
    for werkzeug's."""


LINGER_SECONDS = 2.0  # how long a closing connection keeps reading what the client still sends
LINGER_BYTES = 1024 * 1024  # and how much of it
_REQUEST_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 15\r\n\r\nRequest Timeout")


class Watchdog:
    """Ends the timed waits of one hub's connections once they run past their deadline.

    A connection in a timed wait (idle between requests, reading a header block, reading a body)
    sets `_deadline` (monotonic seconds, 0 when none) and `_expiry` (the exception to raise) before
    blocking and clears them after. One periodic hub timer checks every connection and throws the
    exception into the greenlet of each that is late, as a gevent.Timeout would: a Timeout per wait
    cost ~6 µs to set up and cancel, three per request, a tenth of a trivial request. Deadlines
    are therefore kept to within one `interval`."""

    def __init__(self, interval: float):
        self.connections: set = set()
        self._timer = gevent.get_hub().loop.timer(interval, interval, ref=False)
        self._timer.start(self._sweep)

    @classmethod
    def for_current_hub(cls, limits: HttpLimits) -> "Watchdog":
        interval = min(1.0, max(0.05, min(limits.header_timeout, limits.body_timeout, limits.keepalive_timeout) / 4))
        hub = gevent.get_hub()
        watchdogs = hub.__dict__.setdefault("storelink_watchdogs", {})
        if interval not in watchdogs:
            watchdogs[interval] = cls(interval)
        return watchdogs[interval]

    def _sweep(self) -> None:
        # Runs in the hub: every connection's greenlet is suspended, so a connection whose deadline
        # is set is blocked inside the timed wait it set it for.
        now = time.monotonic()
        for handler in [h for h in self.connections if 0 < h._deadline <= now]:
            if 0 < handler._deadline <= now:  # again: an earlier throw may have run other code
                handler._deadline = 0
                handler._greenlet.throw(handler._expiry("connection deadline passed"))


def handler_class(access_log: bool, limits: HttpLimits = HttpLimits()) -> type[pywsgi.WSGIHandler]:
    class Handler(pywsgi.WSGIHandler):
        """Disables Nagle's algorithm on every connection: pywsgi may write a response's headers and
        body in separate sends, and with Nagle on the second waits for the client's delayed ACK, so
        every keep-alive request stalled ~40 ms (measured: 44 ms per sequential /healthz before,
        0.5 ms after). Applies `limits` to every request."""

        _deadline = 0.0  # see Watchdog
        _expiry = IdleTimeout
        _greenlet = None
        _unread_body = False

        def __init__(self, sock, address, server, rfile=None):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not a TCP socket (a Unix socket behind a proxy, say)
                pass
            super().__init__(sock, address, server, rfile)

        def handle(self):
            self._greenlet = gevent.getcurrent()
            watchdog = Watchdog.for_current_hub(limits)
            watchdog.connections.add(self)
            try:
                super().handle()
            finally:
                self._deadline = 0
                watchdog.connections.discard(self)

        def handle_one_request(self):
            try:
                result = super().handle_one_request()
            finally:
                self._deadline = 0
            if result.__class__ is tuple:  # refused before the application ran: answer, then close
                self.status, response = result
                self._answer_and_linger(response)
                return None
            if result is None and self._unread_body:
                self._answer_and_linger(b"")
            return result

        def read_requestline(self):
            # Waiting for the next request and reading its request line share the keep-alive
            # deadline; from there to the end of the header block runs the head deadline, cleared
            # by read_request before the application runs. IdleTimeout is an OSError: pywsgi then
            # ends the connection quietly.
            self._deadline, self._expiry = time.monotonic() + limits.keepalive_timeout, IdleTimeout
            line = self.rfile.readline(pywsgi.MAX_REQUEST_LINE).decode("latin-1")
            self._deadline, self._expiry = time.monotonic() + limits.header_timeout, RequestHeadTimeout
            return line

        def _answer_and_linger(self, response: bytes) -> None:
            """Sends the last response and closes gently: closing with unread input makes the
            kernel reset the connection, and the client may then lose the response it was sent
            (a 400 for a header flood still being sent, a 413 for a large body). So the write side
            is shut first and what the client still sends is read and dropped, for a bounded time
            and amount, before the socket closes."""
            sock = self.socket
            try:
                if response:
                    sock.sendall(response)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                return
            drained = 0
            with gevent.Timeout(LINGER_SECONDS, False):
                try:
                    while drained < LINGER_BYTES:
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        drained += len(chunk)
                except OSError:
                    pass

        def read_request(self, raw_requestline):
            try:
                if _CONTROL.search(raw_requestline[:-2 if raw_requestline.endswith("\r\n") else -1]):
                    raise ValueError("control character in the request line")
                super().read_request(raw_requestline)
            finally:
                self._deadline = 0
            if self.headers.framing_conflict:
                self.close_connection = True  # RFC 9112 §6.3: answer, then close
            return True

        def MessageClass(self, rfile, *_):  # noqa: N802 (pywsgi's name)
            return RequestHeaders.read(rfile, limits)

        def get_environ(self):
            env = super().get_environ()
            if env["wsgi.input"] is self.wsgi_input:
                timed = TimedInput(self.rfile, self.content_length, socket=self.wsgi_input.socket,
                                   chunked_input=self.wsgi_input.chunked_input)
                timed.deadline = time.monotonic() + limits.body_timeout
                timed.handler = self
                env["wsgi.input"] = self.wsgi_input = timed
            return env

        def finalize_headers(self):
            super().finalize_headers()
            if self.close_connection and self.request_version == "HTTP/1.1" and not any(
                    name.lower() in ("connection", b"connection") for name, _ in self.response_headers):
                self.response_headers.append((b"Connection", b"close"))  # tell the client it is the last

        def _handle_client_error(self, ex):
            if isinstance(ex, RequestHeadTimeout):
                self.log_error("(from %s) request head not received within %ss", self.client_address,
                               limits.header_timeout)
                return ("408", _REQUEST_TIMEOUT_RESPONSE)
            return super()._handle_client_error(ex)

        if not access_log:
            def log_request(self):
                """No access log: skip formatting the line nobody reads."""

    Handler.limits = limits
    return Handler


class TimedInput(pywsgi.Input):
    """pywsgi's request body reader with a deadline for the whole body (kept by the Watchdog). A
    body that is not read to its end (the application refused the request, say) is discarded only
    when small; a large one closes the connection instead of being read for nothing."""

    __slots__ = ("deadline", "handler")

    def _do_read(self, length=None, use_readline=False):
        handler = self._start_timed_read()
        try:
            return super()._do_read(length, use_readline)
        except OSError:
            handler.close_connection = True  # where the next request starts is unknown now
            raise
        finally:
            handler._deadline = 0

    def _chunked_read(self, length=None, use_readline=False):
        handler = self._start_timed_read()
        try:
            return super()._chunked_read(length, use_readline)
        except OSError:
            handler.close_connection = True
            raise
        finally:
            handler._deadline = 0

    def _start_timed_read(self):
        handler = self.handler
        if time.monotonic() >= self.deadline:
            handler.close_connection = True
            raise RequestBodyTimeout("request body not received in time")
        handler._deadline, handler._expiry = self.deadline, RequestBodyTimeout
        return handler

    def _discard(self):
        unread = (self.content_length or 0) - self.position
        if unread > self.handler.limits.max_discard_bytes:
            self.handler.close_connection = self.handler._unread_body = True
            return
        super()._discard()


_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no field value or request line may hold these (HTAB may)
_DIGITS = re.compile(r"[0-9]{1,18}")
_CLEAN_LINE = re.compile(rb"([^\x00-\x08\x0a-\x1f\x7f]*)\r?\n")  # a line without control characters
_FRAMING_NAMES = ("content-length", "transfer-encoding")
_FRAMING_NAME_LENGTHS = {len(name) for name in _FRAMING_NAMES}


class RequestHeaders:
    """A request's header fields, read without the email package pywsgi parses them with by default:
    that parser cost 25 µs on a trivial request and 75 µs on an order (more headers, colder caches),
    a tenth of the whole request. Offers what pywsgi's handler uses of its header object: `status`
    (non-empty makes pywsgi answer 400), get/getheader, del, `headers` (the raw lines), `typeheader`;
    and `framing_conflict` (both Transfer-Encoding and Content-Length: the handler closes after).

    Stricter than the email parser where RFC 9112 asks a server to be: a line that is no field,
    whitespace before the colon, a control character, a header block over the limits, a
    Content-Length that is not plain digits or differs between repeats, and any transfer coding but
    plain `chunked` are a 400 rather than silently skipped or guessed at. Obsolete line folding is
    replaced by a space (RFC 9112 §5.2); its lines count toward the limits like any other."""

    __slots__ = ("_fields", "status", "framing_conflict")

    def __init__(self, fields: list[tuple[str, str]] | None = None, status: str = "", framing_conflict: bool = False):
        self._fields = fields or []
        self.status = status
        self.framing_conflict = framing_conflict

    @classmethod
    def read(cls, rfile, limits: HttpLimits = HttpLimits()) -> "RequestHeaders":
        fields: list[tuple[str, str]] = []
        budget, lines, framing = limits.max_header_bytes, 0, None
        while True:
            line = rfile.readline(budget + 1)
            budget -= len(line)
            if budget < 0:
                return cls(status="Header block too large")
            clean = _CLEAN_LINE.fullmatch(line)
            if clean is None:
                if line.endswith(b"\n"):
                    return cls(status="Control character in a header line")
                return cls(status="Connection closed inside the header block")
            text = clean[1].decode("latin-1")
            if not text:
                return cls(fields) if framing is None else cls._framed(fields, framing)
            lines += 1
            if lines > limits.max_header_lines:
                return cls(status="Too many header lines")
            if text[0] in " \t":
                if not fields:
                    return cls(status="Header continuation without a field")
                name, value = fields[-1]
                fields[-1] = (name, value + " " + text.strip(" \t"))  # bounded: the block is capped
                continue
            name, colon, value = text.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                return cls(status="Invalid header line")
            value = value.strip(" \t")
            if len(name) in _FRAMING_NAME_LENGTHS and (key := name.lower()) in _FRAMING_NAMES:
                (framing := framing or []).append((key, value))
            fields.append((name, value))

    @classmethod
    def _framed(cls, fields: list[tuple[str, str]], framing: list[tuple[str, str]]) -> "RequestHeaders":
        """Checks the fields that say where the body ends (RFC 9112 §6)."""
        lengths = {value for name, value in framing if name == "content-length"}
        codings = [value for name, value in framing if name == "transfer-encoding"]
        if len(lengths) > 1:
            return cls(status="Differing Content-Length fields")
        if lengths and not _DIGITS.fullmatch(next(iter(lengths))):
            return cls(status="Invalid Content-Length")
        if codings and ",".join(codings).replace(" ", "").replace("\t", "").lower() != "chunked":
            return cls(status="Unsupported Transfer-Encoding")
        return cls(fields, framing_conflict=bool(lengths and codings))

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

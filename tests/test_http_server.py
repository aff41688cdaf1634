"""The server's own request-header parser, through a real pywsgi server on a socket: what reaches the
WSGI environ, and which malformed requests are refused with 400."""
import json
import select
import socket
import threading

import gevent
import pytest
from gevent import pywsgi

from app.infra.http_server import MAX_HEADERS, HttpLimits, handler_class


def echo(environ, start_response):
    try:
        body = environ["wsgi.input"].read()
    except OSError as exc:  # the body did not arrive in time: what a WSGI application answers then
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(str(exc))))])
        return [str(exc).encode()]
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")}
    payload = json.dumps({"environ": seen, "body": body.decode()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


@pytest.fixture(scope="module")
def port():
    yield from _serve(HttpLimits())


# Short timeouts, so the tests can watch them act (the tests assert what happens, never how long).
QUICK = HttpLimits(header_timeout=0.3, body_timeout=0.3, keepalive_timeout=0.3)


@pytest.fixture(scope="module")
def quick_port():
    yield from _serve(QUICK)


def _serve(limits):
    # gevent runs its own hub in this thread; the tests talk to it over plain sockets.
    ready, stop, box = threading.Event(), threading.Event(), {}

    def serve():
        server = pywsgi.WSGIServer(("127.0.0.1", 0), echo, handler_class=handler_class(False, limits), log=None)
        server.start()
        box["port"] = server.server_port
        ready.set()
        while not stop.is_set():
            gevent.sleep(0.01)
        server.stop()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield box["port"]
    stop.set()
    thread.join(5)


def exchange(port: int, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def request(port: int, *header_lines: str, body: bytes = b"") -> tuple[int, bytes]:
    head = "POST /x HTTP/1.1\r\n" + "".join(line + "\r\n" for line in header_lines) + "Connection: close\r\n\r\n"
    return exchange(port, head.encode("latin-1") + body)


def test_fields_reach_the_environ_as_wsgi_names_them(port):
    status, body = request(port, "Host: shop", "Authorization: Bearer abc.def", "Content-Type: application/json",
                           "Content-Length: 7", "Idempotency-Key:  k-1 ", body=b'{"a":1}')
    seen = json.loads(body)
    assert status == 200 and seen["body"] == '{"a":1}'
    assert seen["environ"]["HTTP_AUTHORIZATION"] == "Bearer abc.def"
    assert seen["environ"]["HTTP_IDEMPOTENCY_KEY"] == "k-1"  # surrounding whitespace is not the value
    assert (seen["environ"]["CONTENT_TYPE"], seen["environ"]["CONTENT_LENGTH"]) == ("application/json", "7")


def test_repeated_fields_are_joined_and_folded_lines_continue_the_value(port):
    status, body = request(port, "Host: shop", "X-Tag: a", "x-tag: b", "X-Long: first", "  second", "Content-Length: 0")
    seen = json.loads(body)["environ"]
    assert status == 200 and seen["HTTP_X_TAG"] == "a,b" and seen["HTTP_X_LONG"] == "first second"


def test_chunked_bodies_drop_a_content_length(port):
    status, body = request(port, "Host: shop", "Transfer-Encoding: chunked", "Content-Length: 99",
                           body=b"3\r\nabc\r\n0\r\n\r\n")
    seen = json.loads(body)
    assert status == 200 and seen["body"] == "abc" and "CONTENT_LENGTH" not in seen["environ"]


@pytest.mark.parametrize("lines", [
    ["Host: shop", "NoColonHere"],
    ["Host : shop"],  # whitespace between name and colon (RFC 9112 §5.1)
    ["Bad Name: x"],
    ["  folded: before any field"],
    ["X-Huge: " + "a" * 70_000],
    [f"X-{i}: v" for i in range(MAX_HEADERS + 1)],
    ["Host: shop", "Content-Length: -1"],
])
def test_malformed_header_blocks_are_refused(port, lines):
    status, _ = request(port, *lines)
    assert status == 400


def test_keep_alive_carries_several_requests(port):
    one = b"GET /x HTTP/1.1\r\nHost: shop\r\nX-N: 1\r\n\r\n"
    two = b"GET /x HTTP/1.1\r\nHost: shop\r\nX-N: 2\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(one + two)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 2 and b'"HTTP_X_N": "1"' in data and b'"HTTP_X_N": "2"' in data


def receive_all(sock) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("lines", [
    ["Host: shop", "X-A: a\rContent-Length: 37"],  # bare CR: a proxy may see two fields here
    ["Host: shop", "X-A: a\x00b"],  # NUL
    ["Host: shop", "X-A: a\x1bb"],  # any other control character
    ["Host: shop", "Content-Length: 3", "Content-Length: 4"],  # which one ends the body?
    ["Host: shop", "Content-Length: 3, 4"],
    ["Host: shop", "Content-Length: +3"],
    ["Host: shop", "Content-Length: 0x3"],
    ["Host: shop", "Content-Length: 1_0"],  # Python's int() would take it
    ["Host: shop", "Content-Length: 3 3"],
    ["Host: shop", "Transfer-Encoding: gzip"],  # only plain chunked framing is understood
    ["Host: shop", "Transfer-Encoding: chunked, gzip"],
    ["Host: shop", "Transfer-Encoding: chunked", "Transfer-Encoding: identity"],
    ["Host: shop", "X-Folded: a"] + ["  continued"] * MAX_HEADERS,  # folded lines count toward the limit
    ["Host: shop"] + [f"X-{i}: " + "v" * 1000 for i in range(40)],  # 40 kB of fields: over the block's size
    ["Host: shop", "X-Folded: a"] + ["  " + "v" * 1000 for _ in range(40)],  # the same, folded
])
def test_ambiguous_or_oversized_header_blocks_are_refused(port, lines):
    status, _ = request(port, *lines, body=b"abc")
    assert status == 400


def test_control_characters_in_the_request_line_are_refused(port):
    for line in (b"GET /x\x00 HTTP/1.1", b"GET /x\rHTTP/1.1 HTTP/1.1", b"GET /x HTTP/1.1\r\r"):
        status, _ = exchange(port, line + b"\r\nHost: shop\r\nConnection: close\r\n\r\n")
        assert status == 400, line


def test_identical_repeated_content_lengths_are_one_length(port):
    status, body = request(port, "Host: shop", "Content-Length: 3", "Content-Length: 3", body=b"abc")
    assert status == 200 and json.loads(body)["body"] == "abc"


def test_a_request_with_both_framings_is_answered_then_the_connection_closes(port):
    """RFC 9112 §6.3: chunked wins, and the server closes after answering, so whatever a proxy that
    believed Content-Length sent next is never read as a request."""
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: shop\r\n\r\n"
    raw = (b"POST /x HTTP/1.1\r\nHost: shop\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n0\r\n\r\n" + smuggled)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        data = receive_all(sock)  # ends: the server closed although the client asked for nothing
    assert data.count(b"HTTP/1.1 ") == 1 and data.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in data and b'"body": "abc"' in data


def test_a_refused_header_flood_still_gets_its_400_while_the_client_is_sending(port):
    """Closing with unread input resets the connection and the client would lose the answer: the
    server shuts its side, reads on for a while, and the client reads the 400."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: shop\r\nX-Flood: a\r\n" + b" " + b"v" * 200_000 + b"\r\n")
        data = receive_all(sock)
    assert data.startswith(b"HTTP/1.1 400")


def test_a_stalled_header_block_is_answered_408_and_closed(quick_port):
    with socket.create_connection(("127.0.0.1", quick_port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
        data = receive_all(sock)  # returns because the server closes; the client never finished
    assert data.startswith(b"HTTP/1.1 408")


def test_a_trickled_header_block_is_bounded_as_a_whole(quick_port):
    """Each line arriving in time is not enough: the whole block has one deadline."""
    with socket.create_connection(("127.0.0.1", quick_port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: shop\r\n")
        for sent in range(1, 61):  # up to 60 lines, one every tenth of the block's deadline
            if select.select([sock], [], [], QUICK.header_timeout / 10)[0]:
                break  # the server answered
            sock.sendall(b"X-Drip: %d\r\n" % sent)
        data = receive_all(sock)
    assert data.startswith(b"HTTP/1.1 408") and sent < 60


def test_an_idle_keep_alive_connection_is_closed(quick_port):
    with socket.create_connection(("127.0.0.1", quick_port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: shop\r\n\r\n")
        data = receive_all(sock)  # one answer, then the server ends the idle connection
    assert data.count(b"HTTP/1.1 200") == 1


def test_a_stalled_body_is_refused_and_the_connection_closed(quick_port):
    with socket.create_connection(("127.0.0.1", quick_port), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: shop\r\nContent-Length: 10\r\n\r\nabc")
        data = receive_all(sock)
    assert data.startswith(b"HTTP/1.1 400") and b"Connection: close" in data

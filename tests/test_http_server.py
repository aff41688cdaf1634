"""The server's own request-header parser, through a real pywsgi server on a socket: what reaches the
WSGI environ, and which malformed requests are refused with 400."""
import json
import socket
import threading

import gevent
import pytest
from gevent import pywsgi

from app.infra.http_server import MAX_HEADERS, handler_class


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")}
    payload = json.dumps({"environ": seen, "body": body.decode()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


@pytest.fixture(scope="module")
def port():
    # gevent runs its own hub in this thread; the tests talk to it over plain sockets.
    ready, stop, box = threading.Event(), threading.Event(), {}

    def serve():
        server = pywsgi.WSGIServer(("127.0.0.1", 0), echo, handler_class=handler_class(False), log=None)
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

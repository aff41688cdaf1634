"""Attacks on the HTTP front of the real server (`python wsgi.py`), over raw sockets: header floods,
request smuggling through ambiguous framing, and connections that never finish their request.
Each test asserts the order of what happens (answered before fully sent, others served meanwhile),
never how long it took."""
from __future__ import annotations

import select
import socket

import pytest
import requests

from .live_server import LiveServer

TIMEOUTS = {"HTTP_HEADER_TIMEOUT": "1", "HTTP_BODY_TIMEOUT": "1", "HTTP_KEEPALIVE_TIMEOUT": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("attacks"), **TIMEOUTS).start()
    yield live
    live.stop()


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=15)


def receive_all(sock) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def answered(sock) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def test_a_folded_header_flood_is_refused_before_it_is_sent_and_others_are_served_meanwhile(server):
    """Folded continuation lines count toward the header limits: the flood is answered 400 after the
    first 32 kB, not accepted after 2.4 MB, and the server answers other clients throughout."""
    events = []
    other = requests.Session()
    flood = connect(server)
    try:
        flood.sendall(b"GET /healthz HTTP/1.1\r\nHost: shop\r\nX-Flood: a\r\n")
        events.append("flood started")
        lines, line = 300, b" " + b"v" * 8000 + b"\r\n"
        for sent in range(lines):
            assert other.get(server.url + "/healthz", timeout=15).status_code == 200
            events.append("other answered")
            if answered(flood):
                events.append("flood answered")
                break
            try:
                flood.sendall(line)
            except OSError:
                events.append("flood cut off")
                break
        else:
            flood.sendall(b"\r\n")
            events.append("flood fully sent")
        response = receive_all(flood)
    finally:
        flood.close()
        other.close()
    assert response.startswith(b"HTTP/1.1 400"), response[:200]
    assert "flood fully sent" not in events, events
    assert events[0] == "flood started" and events[1] == "other answered"
    assert sent < lines and events.count("other answered") == sent + 1


@pytest.mark.parametrize("field", [
    "X-A: a\rContent-Length: 44",  # bare CR: a front proxy may see a Content-Length here
    "X-A: a\x00Content-Length: 44",
    "Content-Length: 0\r\nContent-Length: 44",  # which one ends the request?
    "Content-Length: +44",
    "Transfer-Encoding: xchunked",
])
def test_ambiguous_framing_is_refused_and_no_second_request_is_read_from_the_body(server, field):
    hidden = b"GET /api/v1/auth/me HTTP/1.1\r\nHost: shop\r\n\r\n"  # 44 bytes
    with connect(server) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: shop\r\n{field}\r\n\r\n".encode("latin-1") + hidden)
        sock.shutdown(socket.SHUT_WR)
        data = receive_all(sock)
    assert data.startswith(b"HTTP/1.1 400") and data.count(b"HTTP/1.1 ") == 1, data


def test_content_length_with_transfer_encoding_closes_after_the_answer(server):
    """RFC 9112 §6.3: chunked framing wins and the connection closes, so the bytes a proxy trusting
    Content-Length would take for the next request are never read as one."""
    hidden = b"GET /api/v1/auth/me HTTP/1.1\r\nHost: shop\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: shop\r\nContent-Length: 49\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"0\r\n\r\n" + hidden)
        data = receive_all(sock)  # returns: the server closed, the client never asked it to
    assert data.startswith(b"HTTP/1.1 200") and data.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in data


def test_half_sent_requests_are_dropped_and_others_served_meanwhile(server):
    """Slowloris: 40 connections that never finish their header block, 10 that never finish their
    body, 10 that never send anything. The server answers others while they hang, then ends each."""
    stalled = []
    try:
        for i in range(40):
            sock = connect(server)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: shop\r\nX-Slow: %d" % i)
            stalled.append(("head", sock))
        for _ in range(10):
            sock = connect(server)
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 60\r\n\r\n{\"phone\":")
            stalled.append(("body", sock))
        for _ in range(10):
            stalled.append(("idle", connect(server)))
        assert requests.get(server.url + "/healthz", timeout=15).status_code == 200
        outcomes = {kind: set() for kind in ("head", "body", "idle")}
        for kind, sock in stalled:
            outcomes[kind].add(receive_all(sock)[:12])  # returns only once the server closes
    finally:
        for _, sock in stalled:
            sock.close()
    assert outcomes == {"head": {b"HTTP/1.1 408"}, "body": {b"HTTP/1.1 400"}, "idle": {b""}}
    assert requests.get(server.url + "/healthz", timeout=15).status_code == 200

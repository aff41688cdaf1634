"""End to end, each part its own process: the real server (wsgi.py), the real bridge daemon
(python -m hardware_bridge), a scale on a pseudo-terminal, a printer on a local TCP port, and a store
clerk's Socket.IO client."""
from __future__ import annotations

import pytest

from .bridge_harness import (BridgeProcess, ClerkListener, LiveServer, PtyScale, TcpPrinter, api, device,
                             register_bridge, wait_until)
from .live_server import two_workers


@pytest.fixture
def setup(tmp_path):
    server = LiveServer(tmp_path).start()
    scale, printer = PtyScale(tmp_path), TcpPrinter()
    parts = {"server": server, "scale": scale, "printer": printer, "bridge": None, "clerks": []}
    yield parts
    for clerk in parts["clerks"]:
        clerk.close()
    if parts["bridge"]:
        parts["bridge"].stop()
    printer.stop()
    scale.close()
    server.stop()


def reading_of(weight):
    return lambda name, data: name == "scale.reading" and data["weight_g"] == weight


def test_reading_print_job_server_restart_and_revocation(setup, tmp_path):
    server, scale, printer = setup["server"], setup["scale"], setup["printer"]
    hq, clerk_token = server.login(username="admin"), server.login(username="clerk1")
    store_id = api(server, "GET", "/auth/me", clerk_token).json()["store_id"]
    other_clerk = server.login(username="clerk2")
    device_id, token = register_bridge(server, hq, store_id)

    bridge = setup["bridge"] = BridgeProcess(tmp_path, server.url, token, scale=str(scale.path), protocol="continuous",
                                             printers=(printer.uri + "?paper=58",)).start()
    online = wait_until(lambda: (d := device(server, hq, device_id))["online"] and d["printers"] and d["scale"]
                        and d["scale"]["state"] == "online")
    assert online, bridge.log()
    clerk, other = ClerkListener(server.url, clerk_token), ClerkListener(server.url, other_clerk)
    setup["clerks"] += [clerk, other]

    # A weight written on the scale's line reaches the clerk of that store, and no other.
    scale.write(b"US,GS,+  1.1")
    scale.write(b"00kg\r\nST,GS,+  1.234kg\r\n", byte_delay=0.002)
    got = clerk.wait_for(reading_of(1234))
    assert got, bridge.log()
    assert got[1] == {"device_id": device_id, "weight_g": 1234, "stable": True, "net": False, "overload": False}
    assert [r["weight_g"] for r in clerk.of("scale.reading")][:2] == [1100, 1234]
    assert other.of("scale.reading") == []

    # A print job created on the server comes out of the store's printer, once, and is acknowledged.
    member = server.login(phone="13800000001")
    order = api(server, "POST", "/orders", member, json={"items": [{"sku": "FRE-001", "qty": 1}],
                                                         "fulfilment": "pickup", "store_id": store_id})
    assert order.status_code == 201, order.text
    r = api(server, "POST", f"/clerk/orders/{order.json()['id']}/print", clerk_token, json={"kind": "pickup_ticket"})
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["job_id"]
    assert printer.wait_for(lambda p: len(p.jobs) == 1), bridge.log()
    ticket = printer.jobs[0]
    assert "提货单".encode("gb18030") in ticket and order.json()["number"].encode() in ticket
    assert b"\x1d(k" in ticket and ticket.endswith(b"\x1dVB\x03")
    assert clerk.wait_for(lambda n, d: n == "print.status" and d["job_id"] == job_id and d["status"] == "printed")
    assert api(server, "GET", "/clerk/print-jobs", clerk_token).json()["jobs"][0]["status"] == "printed"

    # The server restarts; the bridge comes back by itself and a job queued meanwhile still prints once.
    server.stop()
    server.start()
    queued = api(server, "POST", f"/clerk/orders/{order.json()['id']}/print", clerk_token, json={"kind": "receipt"})
    assert queued.status_code == 202, queued.text
    assert printer.wait_for(lambda p: len(p.jobs) == 2, timeout=40), bridge.log()
    assert "购物小票".encode("gb18030") in printer.jobs[1]
    clerk.close()
    clerk = ClerkListener(server.url, clerk_token)
    setup["clerks"].append(clerk)
    assert wait_until(lambda: device(server, hq, device_id)["online"])
    scale.write(b"ST,NT,+  0.250kg\r\n")
    assert clerk.wait_for(reading_of(250)), bridge.log()

    # The member pays and collects the order: the hand-over at the clerk centre prints its receipt by itself.
    from .test_live_server import _pay_through_sandbox

    paid = _pay_through_sandbox(server, member, order.json()["id"])
    code = api(server, "GET", f"/orders/{order.json()['id']}", member).json()["pickup"]["code"]
    handed = api(server, "POST", "/clerk/pickups/verify", clerk_token, json={"code": code, "confirm": True})
    assert handed.status_code == 200, handed.text
    assert printer.wait_for(lambda p: len(p.jobs) == 3), bridge.log()
    assert "购物小票".encode("gb18030") in printer.jobs[2] and paid["number"].encode() in printer.jobs[2]

    # Revoked: cut off at once, refused on every retry, its weights reach nobody.
    assert api(server, "POST", f"/hq/devices/{device_id}/revoke", hq).status_code == 200
    assert wait_until(lambda: "disconnected" in bridge.log().split("0.250kg")[-1]), bridge.log()
    assert device(server, hq, device_id)["online"] is False
    scale.write(b"ST,GS,+  0.777kg\r\n")
    assert clerk.wait_for(reading_of(777), timeout=2) is None
    assert wait_until(lambda: "invalid or revoked device token" in bridge.log()), bridge.log()
    assert bridge.process.poll() is None  # it keeps trying, slowly, without crashing
    assert len(printer.jobs) == 3


def test_two_workers_relay_readings_and_revoke_across_redis(tmp_path):
    """The bridge on one worker, the clerk and HQ on another: readings cross through Redis, and a
    revocation made on the other worker still cuts the bridge off at once."""
    shared = tmp_path / "shared"
    shared.mkdir()
    first, second = two_workers(shared)
    scale, bridge, clerk = PtyScale(tmp_path), None, None
    try:
        hq, clerk_token = second.login(username="admin"), second.login(username="clerk1")
        store_id = api(second, "GET", "/auth/me", clerk_token).json()["store_id"]
        device_id, token = register_bridge(second, hq, store_id)
        bridge = BridgeProcess(tmp_path, first.url, token, scale=str(scale.path), protocol="continuous").start()
        assert wait_until(lambda: device(second, hq, device_id)["online"]), bridge.log()
        clerk = ClerkListener(second.url, clerk_token)
        # A worker subscribes to the message queue when its first Socket.IO client connects, a moment
        # after that client is in: the scale streams, as real ones do, until a reading comes across.
        for _ in range(50):
            scale.write(b"ST,GS,+  2.500kg\r\n")
            if clerk.wait_for(reading_of(2500), timeout=0.2):
                break
        assert clerk.wait_for(reading_of(2500), timeout=1), f"{bridge.log()}\n{first.log()}\n{second.log()}"

        assert api(second, "POST", f"/hq/devices/{device_id}/revoke", hq).status_code == 200
        assert wait_until(lambda: "disconnected" in bridge.log().split("connected to")[-1]), first.log()
        scale.write(b"ST,GS,+  0.900kg\r\n")
        assert clerk.wait_for(reading_of(900), timeout=2) is None
    finally:
        if clerk:
            clerk.close()
        if bridge:
            bridge.stop()
        scale.close()
        first.stop()
        second.stop()

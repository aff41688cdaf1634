"""Hardware bridges on the server: registration with a token shown once, the /bridge namespace
(authentication, revocation cutting a connection off, readings relayed to the store's clerks), and
durable print jobs (pushed, pulled again after a reconnect, acknowledged once, printed automatically
at a pickup hand-over)."""
from __future__ import annotations

from datetime import timedelta

import gevent
import pytest
from sqlalchemy import select, text, update

from app.clock import utcnow
from app.devices import printing
from app.devices.models import Device, PrintJob
from app.devices.service import hash_token
from app.extensions import db, socketio
from app.orders import lifecycle, state

from .factories import build_chain
from .helpers import get_order, pay, place, race

PRINTER_STATUS = {"version": "1.0", "scale": {"port": "/dev/ttyUSB0", "protocol": "toledo8217", "state": "online"},
                  "printers": [{"name": "receipt", "uri": "tcp://10.0.0.9:9100", "kind": "tcp", "paper": 80,
                                "state": "online", "detail": ""}]}


@pytest.fixture
def chain(app):
    return build_chain(app)


def register(client, chain, store="A", name="收银台电脑"):
    r = client.post("/api/v1/hq/devices", json={"store_id": chain.stores[store], "name": name}, headers=chain.h("hq"))
    assert r.status_code == 201, r.json
    return r.json["device"], r.json["token"]


def bridge_client(app, token):
    return socketio.test_client(app, namespace="/bridge", auth={"token": token})


def clerk_client(app, chain, who="clerkA"):
    client = socketio.test_client(app, namespace="/clerk", auth={"token": chain.tokens[who]})
    assert client.is_connected("/clerk")
    return client


def events(client, namespace, name):
    return [m["args"][0] for m in client.get_received(namespace) if m["name"] == name]


def online_bridge(app, client, chain, store="A", status=PRINTER_STATUS):
    device, token = register(client, chain, store)
    bridge = bridge_client(app, token)
    assert bridge.is_connected("/bridge")
    assert bridge.emit("bridge.status", status, namespace="/bridge", callback=True) == {"ok": True}
    return device, token, bridge


def picked_up_order(app, client, chain, deferred, fulfilment="pickup"):
    """A paid order; a pickup order is handed over with its pickup code at the clerk centre."""
    order_id = place(client, chain, fulfilment=fulfilment).json["id"]
    pay(app, client, chain, order_id, deferred)
    if fulfilment == "pickup":
        code = get_order(client, chain, order_id)["pickup"]["code"]
        r = client.post("/api/v1/clerk/pickups/verify", json={"code": code, "confirm": True}, headers=chain.h("clerkA"))
        assert r.status_code == 200, r.json
    else:
        with app.app_context():
            lifecycle.advance(order_id, state.ACCEPTED, chain.principals["clerkA"])
            db.session.remove()
    return order_id


# --- registration ------------------------------------------------------------------------------------

def test_hq_registers_a_bridge_and_sees_its_token_once(app, client, chain):
    device, token = register(client, chain)
    assert token.startswith("slb_") and len(token) > 40
    assert device["token_hint"] == token[:8] and device["store_name"] == "徐汇店"
    assert (device["online"], device["revoked"]) == (False, False)
    listed = client.get("/api/v1/hq/devices", headers=chain.h("hq")).json["devices"]
    assert [d["id"] for d in listed] == [device["id"]]
    assert token not in str(listed)
    with app.app_context():
        row = db.session.get(Device, device["id"])
        assert row.token_hash == hash_token(token) and token not in str(vars(row))
        db.session.remove()


@pytest.mark.parametrize("body, status, code", [
    ({"store_id": 999999, "name": "x"}, 404, "store_not_found"),
    ({"store_id": "1", "name": "x"}, 422, "invalid_field"),
    ({"store_id": 1, "name": ""}, 422, "invalid_field"),
    ({"store_id": 1, "name": "x" * 51}, 422, "invalid_field"),
    ({"store_id": 1}, 422, "invalid_field"),
])
def test_registration_refuses_bad_input(client, chain, body, status, code):
    r = client.post("/api/v1/hq/devices", json=body, headers=chain.h("hq"))
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


def test_a_stores_live_bridges_have_distinct_names_and_a_revoked_one_gives_its_name_up(client, chain):
    device, _ = register(client, chain, name="收银台电脑")
    r = client.post("/api/v1/hq/devices", json={"store_id": chain.stores["A"], "name": " 收银台电脑 "}, headers=chain.h("hq"))
    assert r.status_code == 409 and r.json["error"]["code"] == "device_name_taken", r.json
    register(client, chain, store="B", name="收银台电脑")  # another store's may share it
    assert client.post(f"/api/v1/hq/devices/{device['id']}/revoke", headers=chain.h("hq")).status_code == 200
    register(client, chain, name="收银台电脑")


def test_hq_registering_one_name_twice_at_once_gets_one_bridge(app, chain):
    def attempt(i):
        return app.test_client().post("/api/v1/hq/devices", json={"store_id": chain.stores["A"], "name": "称重台"},
                                      headers=chain.h("hq"))

    responses = race(8, attempt)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.json for r in responses]
    assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"device_name_taken"}


def test_registration_refuses_a_warehouse_and_non_hq(client, chain):
    r = client.post("/api/v1/hq/devices", json={"store_id": chain.stores["W"], "name": "仓库"}, headers=chain.h("hq"))
    assert r.status_code == 404
    for who in ("clerkA", "m0"):
        r = client.post("/api/v1/hq/devices", json={"store_id": chain.stores["A"], "name": "x"}, headers=chain.h(who))
        assert r.status_code == 403
        assert client.get("/api/v1/hq/devices", headers=chain.h(who)).status_code == 403
    assert client.post("/api/v1/hq/devices/1/revoke", headers=chain.h("clerkA")).status_code == 403
    assert client.post("/api/v1/hq/devices/999/revoke", headers=chain.h("hq")).status_code == 404


# --- the /bridge namespace ---------------------------------------------------------------------------

def test_bridge_needs_a_valid_token(app, client, chain):
    _, token = register(client, chain)
    for auth in ({"token": token[:-1] + ("x" if token[-1] != "x" else "y")}, {"token": chain.tokens["hq"]}, {}, None):
        refused = socketio.test_client(app, namespace="/bridge", auth=auth)
        assert not refused.is_connected("/bridge")


def test_connected_bridge_shows_online_with_its_hardware(app, client, chain):
    device, _, bridge = online_bridge(app, client, chain)
    listed = client.get("/api/v1/hq/devices", headers=chain.h("hq")).json["devices"][0]
    assert listed["online"] is True and listed["printers"][0]["name"] == "receipt"
    assert listed["scale"] == PRINTER_STATUS["scale"]
    own = client.get("/api/v1/clerk/devices", headers=chain.h("clerkA")).json["devices"]
    assert [d["id"] for d in own] == [device["id"]] and "token_hint" not in own[0]
    assert client.get("/api/v1/clerk/devices", headers=chain.h("clerkB")).json["devices"] == []
    bridge.disconnect(namespace="/bridge")
    assert client.get("/api/v1/hq/devices", headers=chain.h("hq")).json["devices"][0]["online"] is False


def test_readings_reach_the_clerks_of_that_store_only(app, client, chain):
    device, _, bridge = online_bridge(app, client, chain)
    clerk_a, clerk_b = clerk_client(app, chain, "clerkA"), clerk_client(app, chain, "clerkB")
    bridge.emit("scale.reading", {"weight_g": 1234, "stable": True, "net": False, "overload": False,
                                  "raw": "\\x02  1.234"}, namespace="/bridge")
    bridge.emit("scale.reading", {"weight_g": None, "stable": False, "net": False, "overload": True, "raw": ""},
                namespace="/bridge")
    for bad in ({"weight_g": "9", "stable": True, "net": False, "overload": False}, {"weight_g": 1}, [1],
                {"weight_g": 1e30, "stable": True, "net": False, "overload": False}):
        bridge.emit("scale.reading", bad, namespace="/bridge")
    assert events(clerk_a, "/clerk", "scale.reading") == [
        {"device_id": device["id"], "weight_g": 1234, "stable": True, "net": False, "overload": False},
        {"device_id": device["id"], "weight_g": None, "stable": False, "net": False, "overload": True}]
    assert events(clerk_b, "/clerk", "scale.reading") == []


def test_revoking_cuts_the_open_connection_and_refuses_the_next(app, client, chain):
    device, token, bridge = online_bridge(app, client, chain)
    r = client.post(f"/api/v1/hq/devices/{device['id']}/revoke", headers=chain.h("hq"))
    assert r.status_code == 200 and r.json["device"]["revoked"] is True and r.json["device"]["online"] is False
    assert not bridge.is_connected("/bridge")
    assert not bridge_client(app, token).is_connected("/bridge")


def test_a_second_connection_with_the_same_token_replaces_the_first(app, client, chain):
    device, token, first = online_bridge(app, client, chain)
    second = bridge_client(app, token)
    gevent.sleep(0.05)  # the replaced connection is cut off from a background task
    assert second.is_connected("/bridge") and not first.is_connected("/bridge")
    assert client.get("/api/v1/hq/devices", headers=chain.h("hq")).json["devices"][0]["online"] is True


# --- print jobs --------------------------------------------------------------------------------------

def test_print_needs_a_bridge_with_a_printer(app, client, chain, deferred):
    order_id = place(client, chain).json["id"]
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "receipt"}, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "no_printer")
    online_bridge(app, client, chain, status={**PRINTER_STATUS, "printers": []})
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "receipt"}, headers=chain.h("clerkA"))
    assert r.status_code == 409


def test_a_print_job_is_pushed_acknowledged_once_and_announced(app, client, chain):
    device, _, bridge = online_bridge(app, client, chain)
    clerk, other = clerk_client(app, chain, "clerkA"), clerk_client(app, chain, "clerkB")
    hq = clerk_client(app, chain, "hq")
    order_id = place(client, chain).json["id"]
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "pickup_ticket"}, headers=chain.h("clerkA"))
    assert r.status_code == 202 and r.json["job"]["status"] == "queued"
    job_id = r.json["job"]["job_id"]
    [job] = events(bridge, "/bridge", "print.job")
    assert job["job_id"] == str(job_id) and job["kind"] == "pickup_ticket"
    assert job["document"]["store"] == "徐汇店" and 3500 < job["ttl_seconds"] <= 3600
    assert job["document"]["lines"][0]["name"] == "鲜牛奶"

    ack = bridge.emit("print.result", {"job_id": str(job_id), "status": "printed", "error": ""},
                      namespace="/bridge", callback=True)
    assert ack == {"ok": True}
    assert bridge.emit("print.result", {"job_id": str(job_id), "status": "printed"}, namespace="/bridge",
                       callback=True) == {"ok": True}  # a repeated acknowledgement is harmless
    statuses = [(e["job_id"], e["status"]) for e in events(clerk, "/clerk", "print.status")]
    assert statuses == [(job_id, "queued"), (job_id, "printed")]
    assert [e["status"] for e in events(hq, "/clerk", "print.status")] == ["queued", "printed"]
    assert events(other, "/clerk", "print.status") == []
    jobs = client.get("/api/v1/clerk/print-jobs", headers=chain.h("clerkA")).json["jobs"]
    assert jobs[0]["status"] == "printed" and jobs[0]["printed_at"]
    assert client.get("/api/v1/clerk/print-jobs", headers=chain.h("clerkB")).json["jobs"] == []


def test_failures_are_visible_and_only_the_jobs_own_bridge_may_report(app, client, chain):
    _, _, bridge = online_bridge(app, client, chain)
    _, _, stranger = online_bridge(app, client, chain, store="B")
    order_id = place(client, chain).json["id"]
    job_id = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={}, headers=chain.h("clerkA")).json["job"]["job_id"]
    for bad in ({"job_id": str(job_id), "status": "printed"}, {"job_id": "x", "status": "printed"}):
        assert stranger.emit("print.result", bad, namespace="/bridge", callback=True) == {"ok": False}
    assert bridge.emit("print.result", {"job_id": str(job_id), "status": "burnt"}, namespace="/bridge",
                       callback=True) == {"ok": False}
    assert bridge.emit("print.result", {"job_id": str(job_id), "status": "failed", "error": "paper jam"},
                       namespace="/bridge", callback=True) == {"ok": True}
    failed = client.get("/api/v1/hq/print-jobs?status=failed", headers=chain.h("hq")).json["jobs"]
    assert [(j["job_id"], j["error"]) for j in failed] == [(job_id, "paper jam")]
    assert client.get("/api/v1/hq/print-jobs?status=nope", headers=chain.h("hq")).status_code == 422
    assert client.get("/api/v1/hq/devices", headers=chain.h("hq")).json["devices"][0]["failed_jobs"] == 1


def test_jobs_wait_for_the_bridge_and_stale_ones_expire(app, client, chain):
    device, token, bridge = online_bridge(app, client, chain)
    bridge.disconnect(namespace="/bridge")
    order_id = place(client, chain).json["id"]
    ids = [client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": k}, headers=chain.h("clerkA"))
           .json["job"]["job_id"] for k in ("receipt", "delivery_note")]
    with app.app_context():  # the receipt waited past its hour
        db.session.execute(update(PrintJob).where(PrintJob.id == ids[0]).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    clerk = clerk_client(app, chain)
    back = bridge_client(app, token)
    assert back.emit("print.pull", {}, namespace="/bridge", callback=True) == {"ok": True, "jobs": 1}
    assert [j["job_id"] for j in events(back, "/bridge", "print.job")] == [str(ids[1])]
    assert [(e["job_id"], e["status"]) for e in events(clerk, "/clerk", "print.status")] == [(ids[0], "expired")]
    # Not acknowledged yet: the next reconnect sends it again (the bridge's spool knows it).
    again = bridge_client(app, token)
    again.emit("print.pull", {}, namespace="/bridge", callback=True)
    assert [j["job_id"] for j in events(again, "/bridge", "print.job")] == [str(ids[1])]


def test_a_clerk_kicks_the_drawer_open(app, client, chain):
    _, _, bridge = online_bridge(app, client, chain)
    r = client.post("/api/v1/clerk/drawer/open", headers=chain.h("clerkA"))
    assert r.status_code == 202 and r.json["job"]["kind"] == "drawer_kick"
    [job] = events(bridge, "/bridge", "print.job")
    assert job["document"] == {"kind": "drawer_kick"} and job["ttl_seconds"] <= 10
    assert client.post("/api/v1/clerk/drawer/open", headers=chain.h("clerkB")).status_code == 409


def test_scale_commands_reach_the_stores_bridge(app, client, chain):
    device, _, bridge = online_bridge(app, client, chain)
    url = f"/api/v1/clerk/devices/{device['id']}/scale/tare"
    assert client.post(url, headers=chain.h("clerkA")).status_code == 202
    assert events(bridge, "/bridge", "scale.command") == [{"command": "tare"}]
    assert client.post(url, headers=chain.h("clerkB")).status_code == 404  # another store's bridge
    assert client.post(url.replace("tare", "launch"), headers=chain.h("clerkA")).status_code == 404
    bridge.disconnect(namespace="/bridge")
    r = client.post(url, headers=chain.h("clerkA"))
    assert (r.status_code, r.json["error"]["code"]) == (409, "device_offline")


def test_clerks_print_only_their_own_stores_orders(client, chain):
    order_id = place(client, chain).json["id"]
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "receipt"}, headers=chain.h("clerkB"))
    assert r.status_code == 404
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "poster"}, headers=chain.h("clerkA"))
    assert r.status_code == 422
    assert client.post(f"/api/v1/clerk/orders/{order_id}/print", json={}, headers=chain.h("m0")).status_code == 403


def test_a_pickup_hand_over_prints_its_receipt_by_itself_once(app, client, chain, deferred):
    _, _, bridge = online_bridge(app, client, chain)
    order_id = picked_up_order(app, client, chain, deferred)
    [job] = events(bridge, "/bridge", "print.job")
    assert job["kind"] == "receipt" and job["document"]["totals"][-1][0] == "合计"
    with app.app_context():
        assert printing.auto_receipt_for_pickup(order_id) is None  # the event again: no second receipt
        jobs = db.session.execute(select(PrintJob.order_id, PrintJob.requested_by)).all()
        db.session.remove()
    assert [tuple(j) for j in jobs] == [(order_id, "auto")]
    # A reprint is a button away, and is a job of its own.
    r = client.post(f"/api/v1/clerk/orders/{order_id}/print", json={"kind": "receipt"}, headers=chain.h("clerkA"))
    assert r.status_code == 202


def test_no_automatic_receipt_without_a_printer_or_for_other_orders(app, client, chain, deferred):
    picked_up_order(app, client, chain, deferred)  # no bridge yet
    _, _, bridge = online_bridge(app, client, chain)
    delivery = picked_up_order(app, client, chain, deferred, fulfilment="store_delivery")  # accepted only
    with app.app_context():
        assert printing.auto_receipt_for_pickup(delivery) is None
        count = db.session.execute(text("SELECT count(*) FROM print_jobs")).scalar()
        db.session.remove()
    assert count == 0 and events(bridge, "/bridge", "print.job") == []


def test_racing_events_queue_one_automatic_receipt(app, client, chain, deferred):
    online_bridge(app, client, chain)
    order_id = place(client, chain).json["id"]
    pay(app, client, chain, order_id, deferred)
    with app.app_context():
        clerk = chain.principals["clerkA"]
        lifecycle.advance(order_id, state.ACCEPTED, clerk)
        lifecycle.mark_ready(order_id, clerk)
        db.session.execute(text("UPDATE orders SET status = 'completed' WHERE id = :id"), {"id": order_id})
        db.session.commit()
        db.session.remove()

    def attempt(_):
        with app.app_context():
            try:
                return printing.auto_receipt_for_pickup(order_id) is not None
            finally:
                db.session.remove()

    assert sorted(race(6, attempt)) == [False] * 5 + [True]


def test_a_revocation_racing_connections_leaves_none_connected(app, client, chain):
    """Connections and a revocation at the same instant: whatever the order, no connection claims the
    device after the revocation, and the revocation names the one that held it before (to cut it off)."""
    device, token = register(client, chain)
    from app.devices import service

    def attempt(i):
        with app.app_context():
            try:
                if i == 0:
                    return ("revoke", service.revoke(device["id"])[1])
                return ("connect", f"sid-{i}" if service.connect(token, f"sid-{i}") is not None else None)
            finally:
                db.session.remove()

    results = race(8, attempt)
    cut_off = next(sid for kind, sid in results if kind == "revoke")
    connected = {sid for kind, sid in results if kind == "connect" and sid}
    assert cut_off is None or cut_off in connected
    with app.app_context():
        row = db.session.get(Device, device["id"])
        assert row.revoked_at is not None and row.connected_sid is None
        db.session.remove()
    assert service_connect_refused(app, token)


def service_connect_refused(app, token) -> bool:
    from app.devices import service

    with app.app_context():
        try:
            return service.connect(token, "sid-late") is None
        finally:
            db.session.remove()

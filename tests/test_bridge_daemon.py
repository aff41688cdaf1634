"""The daemon's wiring without a server: jobs spooled once and routed to their printer, refused jobs
reported, outcomes re-sent until acknowledged, readings relayed on change."""
from __future__ import annotations

import time

import pytest

from hardware_bridge.daemon import Bridge, BridgeConfig
from hardware_bridge.printing.transport import parse_printer
from hardware_bridge.scale import Reading


class FakeLink:
    """Stands in for ServerLink: records what would be sent, acknowledges when told to."""

    def __init__(self, connected=True, acknowledge=True):
        self.sent, self.connected, self.acknowledge = [], connected, acknowledge

    def emit(self, event, data, callback=None):
        if not self.connected:
            return False
        self.sent.append((event, data))
        if callback and self.acknowledge:
            callback({"ok": True})
        return True

    def of(self, event):
        return [d for e, d in self.sent if e == event]


@pytest.fixture
def bridge(tmp_path):
    config = BridgeConfig(server="http://unused", token="t", printers=[
        parse_printer(str(tmp_path / "front.bin") + "?name=front"), parse_printer(str(tmp_path / "kitchen.bin") + "?name=kitchen")],
        spool=str(tmp_path / "spool.db"))
    b = Bridge(config)
    b.link = FakeLink()
    yield b
    b.spool.close()


def job(job_id, printer=None, kind="receipt"):
    return {"job_id": job_id, "kind": kind, "printer": printer, "document": {"kind": kind, "meta": [["单号", "1"]]},
            "ttl_seconds": 3600}


def test_jobs_are_spooled_once_for_their_printer(bridge):
    assert bridge._job(job("1", "kitchen")) == {"ok": True}
    assert bridge._job(job("2")) == {"ok": True}  # no printer named: the first one
    assert bridge._job(job("3", "nonexistent")) == {"ok": True}
    assert bridge._job(job("1", "kitchen")) == {"ok": True}  # sent again after a reconnect
    assert bridge.spool.pending_count("kitchen") == 1 and bridge.spool.pending_count("front") == 2


def test_jobs_it_cannot_print_are_reported_failed(bridge):
    assert bridge._job({"job_id": "9", "kind": "poster", "document": {}}) == {"ok": True}
    assert bridge._job("garbage") == {"ok": False, "error": "malformed job"}
    assert bridge.link.of("print.result") == [{"job_id": "9", "status": "failed", "error": "unknown document kind 'poster'"}]
    assert bridge.spool.unreported() == []  # acknowledged


def test_outcomes_wait_for_the_servers_acknowledgement(bridge):
    bridge.link = FakeLink(connected=False)
    bridge._job(job("5"))
    bridge.spool.take("front")
    bridge.spool.finish("5", "printed")
    bridge._outcome("5", "printed", "")  # the server is away: kept
    assert [r["job_id"] for r in bridge.spool.unreported()] == ["5"]
    bridge.link = FakeLink(acknowledge=False)
    bridge._after_connect()  # back, but no acknowledgement yet
    assert bridge.link.of("print.result") == [{"job_id": "5", "status": "printed", "error": ""}]
    assert [r["job_id"] for r in bridge.spool.unreported()] == ["5"]
    bridge.link = FakeLink()
    bridge._after_connect()
    assert bridge.spool.unreported() == []
    assert bridge.link.sent[0][0] == "bridge.status" and bridge.link.sent[-1] == ("print.pull", {})
    # The job again (the server never saw the acknowledgement): not printed again, its outcome re-sent.
    bridge._job(job("5"))
    assert bridge.link.of("print.result")[-1] == {"job_id": "5", "status": "printed", "error": ""}
    assert bridge.spool.pending_count("front") == 0


def test_readings_are_relayed_on_change_and_repeated_now_and_then(bridge, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    r1 = Reading(1234, True, False, False, "a")
    for _ in range(5):
        bridge._reading(r1)
    bridge._reading(Reading(1240, False, False, False, "b"))
    clock[0] += 1.5
    bridge._reading(Reading(1240, False, False, False, "b"))
    assert [d["weight_g"] for d in bridge.link.of("scale.reading")] == [1234, 1240, 1240]


def test_status_names_the_attached_hardware(bridge):
    status = bridge.status()
    assert status["scale"] is None
    assert [(p["name"], p["kind"], p["paper"]) for p in status["printers"]] == [("front", "path", 80), ("kitchen", "path", 80)]

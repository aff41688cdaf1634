"""Printing on the bridge: the ESC/POS bytes of rendered documents, and the spool and printer worker
against a printer on a local TCP port, switched off and on mid-queue."""
from __future__ import annotations

import threading
import time

import pytest

from hardware_bridge.printing import escpos
from hardware_bridge.printing.render import cell_width, render
from hardware_bridge.printing.spool import Spool
from hardware_bridge.printing.transport import parse_printer
from hardware_bridge.printing.worker import PrinterWorker
from tests.bridge_harness import wait_until
from tests.fake_hardware import TcpPrinter

RECEIPT = {
    "kind": "receipt", "store": "徐汇漕溪北路店", "meta": [["单号", "20261122-0001"], ["提货码", "834 221"]],
    "lines": [{"name": "招牌烤鸡(整只)", "qty": 2, "amount": "59.80"},
              {"name": "有机菠菜 300g 特别长的商品名称用来测试换行是否正确", "qty": 1, "amount": "8.50"}],
    "totals": [["合计", "68.30"], ["实付", "68.30"]], "notes": ["多退少补：称重后结算"],
    "qr": "https://storelink.example/p/abc", "qr_caption": "扫码查看订单", "footer": "谢谢惠顾，欢迎再来",
}


def job_document(n: int) -> dict:
    return {"kind": "receipt", "meta": [["单号", f"JOB-{n:03d}"]], "lines": [{"name": "烤鸡", "qty": 1, "amount": "29.90"}]}


def printed_numbers(printer: TcpPrinter) -> list[int]:
    out = []
    for job in printer.jobs:
        marker = job.index(b"JOB-")
        out.append(int(job[marker + 4:marker + 7]))
    return out


# --- rendering ---------------------------------------------------------------------------------------

def test_receipt_bytes_carry_gb18030_text_qr_cut_and_chinese_mode():
    data = render(RECEIPT, 80)
    assert data.startswith(escpos.INIT + escpos.CHINESE_MODE)
    assert "徐汇漕溪北路店".encode("gb18030") in data
    # Full-width punctuation alone is still GB18030, not "?" (what python-escpos 3.1 does to it).
    assert "多退少补：称重后结算".encode("gb18030") in data and b"?" not in data
    payload = b"https://storelink.example/p/abc"
    stored = len(payload) + 3
    assert (b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C\x06" + b"\x1d(k\x03\x001E1"
            + b"\x1d(k" + bytes([stored, 0]) + b"1P0" + payload + b"\x1d(k\x03\x001Q0") in data
    assert data.endswith(escpos.feed(3) + b"\x1dVB\x03")
    assert b"\x1bp" not in data  # no drawer kick unless asked


def test_lines_fit_the_paper_width():
    for paper, columns in ((58, 32), (80, 48)):
        text = render(RECEIPT, paper).decode("gb18030", errors="replace")
        printable = [line for line in text.split("\n") if "\x1b" not in line and "\x1d" not in line]
        assert printable and all(cell_width(line) <= columns for line in printable), paper
        assert any(cell_width(line) == columns for line in printable)  # the rule spans the paper
    assert cell_width("烤鸡 x2") == 7


def test_drawer_kick_and_receipt_that_opens_the_drawer():
    assert render({"kind": "drawer_kick"}).endswith(b"\x1bp\x00\x32\x64")
    assert render({**RECEIPT, "open_drawer": True}).endswith(b"\x1dVB\x03\x1bp\x00\x32\x64")
    with pytest.raises(ValueError):
        render({"kind": "poster"})


def test_printer_addresses():
    tcp = parse_printer("tcp://192.0.2.7?paper=58&name=front")
    assert (tcp.kind, tcp.target, tcp.paper, tcp.name, tcp.confirm) == ("tcp", "192.0.2.7:9100", 58, "front", True)
    path = parse_printer("/dev/usb/lp0")
    assert (path.kind, path.target, path.confirm, path.paper) == ("path", "/dev/usb/lp0", False, 80)
    ser = parse_printer("serial:///dev/ttyUSB1?baud=9600")
    assert (ser.kind, ser.target, ser.baudrate) == ("serial", "/dev/ttyUSB1", 9600)
    with pytest.raises(ValueError):
        parse_printer("tcp://h:9100?paper=76")


# --- spool and worker --------------------------------------------------------------------------------

class Bridge:
    """Workers over one spool file, collecting outcomes (what the bridge would acknowledge)."""

    def __init__(self, spool_path, configs, backoff=(0.05, 0.2)):
        self.spool = Spool(str(spool_path))
        self.recovered = self.spool.recover()  # as the daemon does before its workers start
        self.outcomes: list[tuple[str, str, str]] = []
        self.stop = threading.Event()
        self.workers = {c.name: PrinterWorker(c, self.spool, on_outcome=lambda *o: self.outcomes.append(o),
                                              backoff=backoff) for c in configs}
        self.threads = [threading.Thread(target=w.run, args=(self.stop,), daemon=True) for w in self.workers.values()]
        for t in self.threads:
            t.start()

    def add(self, job_id, document, printer="receipt", ttl=None):
        added = self.spool.add(job_id, printer, document["kind"], document, ttl)
        self.workers[printer].wake()
        return added

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        self.spool.close()


@pytest.fixture
def printer():
    p = TcpPrinter()
    yield p
    p.stop()


def test_jobs_print_in_order_once_each(tmp_path, printer):
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        for n in range(5):
            assert bridge.add(f"j{n}", job_document(n))
        assert not bridge.add("j1", job_document(1))  # the server re-sent it after a reconnect
        assert printer.wait_for(lambda p: len(p.jobs) == 5)
        assert wait_until(lambda: len(bridge.outcomes) == 5)
        assert printed_numbers(printer) == [0, 1, 2, 3, 4]
        assert [o[:2] for o in bridge.outcomes] == [(f"j{n}", "printed") for n in range(5)]
        assert printer.jobs[0] == render(job_document(0), 80)
    finally:
        bridge.close()


def test_printer_switched_off_mid_queue_prints_every_job_exactly_once(tmp_path, printer):
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        job_size = len(render(job_document(0), 80)) + len(escpos.STATUS_REQUEST)
        # The printer dies half-way through the fourth job: three printed, a torn fourth in its buffer.
        printer.cut_after_bytes = 3 * job_size + job_size // 2
        for n in range(10):
            bridge.add(f"j{n}", job_document(n))
        assert printer.wait_for(lambda p: not p._running)
        assert printed_numbers(printer) == [0, 1, 2]
        assert wait_until(lambda: bridge.workers["receipt"].state == "offline")
        time.sleep(0.5)  # retries against a printer that is off
        assert printed_numbers(printer) == [0, 1, 2]
        printer.start()  # switched on again, same address
        assert printer.wait_for(lambda p: len(p.jobs) == 10)
        assert wait_until(lambda: len(bridge.outcomes) == 10)
        time.sleep(0.3)
        assert printed_numbers(printer) == list(range(10))
        assert sorted(o[0] for o in bridge.outcomes if o[1] == "printed") == sorted(f"j{n}" for n in range(10))
    finally:
        bridge.close()


def test_a_restarted_bridge_prints_its_spool_and_never_reprints(tmp_path, printer):
    printer.stop()  # away while jobs arrive
    first = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    for n in range(3):
        first.add(f"j{n}", job_document(n))
    first.close()
    # One job was on its way to the printer when the bridge stopped: it may have printed.
    spool = Spool(str(tmp_path / "spool.db"))
    spool._db.execute("UPDATE jobs SET state = 'sending' WHERE job_id = 'j0'")
    spool.close()

    printer.start()
    second = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        assert second.recovered == ["j0"]
        assert printer.wait_for(lambda p: len(p.jobs) == 2)
        assert wait_until(lambda: second.spool.state("j2") == ("printed", ""))
        assert printed_numbers(printer) == [1, 2]
        state, error = second.spool.state("j0")
        assert state == "failed" and error.startswith("uncertain")
        assert not second.add("j0", job_document(0))  # the server's re-send is not printed again
        time.sleep(0.3)
        assert printed_numbers(printer) == [1, 2]
        assert {r["job_id"]: r["status"] for r in second.spool.unreported()} == {
            "j0": "failed", "j1": "printed", "j2": "printed"}
    finally:
        second.close()


def test_a_dead_printer_never_blocks_another(tmp_path, printer):
    dead = TcpPrinter()
    dead.stop()
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(dead.uri + "?name=kitchen"),
                                            parse_printer(printer.uri + "?name=front")])
    try:
        for n in range(3):
            bridge.add(f"k{n}", job_document(n), printer="kitchen")
        for n in range(3):
            bridge.add(f"f{n}", job_document(n), printer="front")
        assert printer.wait_for(lambda p: len(p.jobs) == 3)
        assert wait_until(lambda: bridge.workers["kitchen"].state == "offline")
        assert bridge.spool.pending_count("kitchen") == 3
    finally:
        bridge.close()


def test_stale_jobs_expire_per_kind_and_are_reported(tmp_path, printer):
    printer.stop()
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        bridge.add("kick", {"kind": "drawer_kick"}, ttl=0.2)
        bridge.add("r1", job_document(1), ttl=999999)  # capped at a receipt's hour
        assert wait_until(lambda: ("kick", "expired", "expired before the printer was back") in bridge.outcomes)
        expires = bridge.spool._db.execute("SELECT expires_at - received_at FROM jobs WHERE job_id='r1'").fetchone()[0]
        assert expires == pytest.approx(3600)
        printer.start()
        assert printer.wait_for(lambda p: len(p.jobs) == 1)
        assert b"\x1bp" not in bytes(printer.raw)  # the stale drawer kick never fired
    finally:
        bridge.close()


def test_paper_out_keeps_the_job_until_paper_is_back(tmp_path, printer):
    printer.paper_status = 0x0C
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        bridge.add("j1", job_document(1))
        assert wait_until(lambda: bridge.workers["receipt"].state == "paper_out")
        assert bridge.spool.state("j1")[0] in ("pending", "sending")
        printer.paper_status = 0x00
        # Wait for the outcome itself: the worker records it in the spool first and reports it after
        # (so a crash in between re-sends it), and a loaded host can run this thread in between.
        assert wait_until(lambda: bridge.outcomes)
        assert bridge.outcomes == [("j1", "printed", "")]
        assert bridge.spool.state("j1") == ("printed", "")
    finally:
        bridge.close()


def test_unprintable_document_fails_without_blocking_the_queue(tmp_path, printer):
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(printer.uri)])
    try:
        bridge.add("bad", {"kind": "receipt", "lines": [{"name": "x", "qty": 1}], "meta": 5})
        bridge.add("good", job_document(2))
        assert printer.wait_for(lambda p: len(p.jobs) == 1)
        assert wait_until(lambda: len(bridge.outcomes) == 2)
        assert bridge.outcomes[0][:2] == ("bad", "failed")
    finally:
        bridge.close()


def test_file_printer(tmp_path):
    target = tmp_path / "lp0"
    bridge = Bridge(tmp_path / "spool.db", [parse_printer(str(target))])
    try:
        bridge.add("j1", job_document(1))
        assert wait_until(lambda: bridge.spool.state("j1") == ("printed", ""))
        assert target.read_bytes() == render(job_document(1), 80)
    finally:
        bridge.close()

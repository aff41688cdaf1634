"""The few ESC/POS commands receipts need, encoded by hand (Epson's ESC/POS command reference; the
Chinese printers of this market follow it).

python-escpos 3.1 was tried first: its text path writes GB18030 only for strings that contain a CJK
ideograph in U+4E00-U+9FA5, so a line of Chinese punctuation ("：", "——") or a "¥" on its own comes out
as "?"; it never selects the printer's Chinese mode (FS &); and it brings PyYAML, six, appdirs,
argcomplete, importlib_resources and python-barcode along and writes a capabilities cache to a temp
directory on import. What it would have given us beyond that is the dozen byte sequences below.
"""
from __future__ import annotations

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"

INIT = ESC + b"@"  # reset modes (not the buffer)
CHINESE_MODE = FS + b"&"  # two-byte (GB18030) characters on
STATUS_REQUEST = GS + b"r\x01"  # "transmit paper sensor status": answered after all earlier data is processed
PAPER_END_BITS = 0x0C  # in the answer: bits 2 and 3, paper roll end

LEFT, CENTER, RIGHT = 0, 1, 2
QR_ERROR_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}


def text(value: str) -> bytes:
    # GB18030 covers every Unicode character, so nothing is lost to a code page.
    return value.encode("gb18030")


def align(where: int) -> bytes:
    return ESC + b"a" + bytes([where])


def bold(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def size(width: int = 1, height: int = 1) -> bytes:
    """Character magnification, 1-8 each way (GS !)."""
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def feed(lines: int) -> bytes:
    return ESC + b"d" + bytes([lines])


def qr(data: str, module: int = 6, error_level: str = "M") -> bytes:
    """A QR code printed by the printer itself (GS ( k, model 2): select model, module size, error
    correction level, store the data, print it."""
    payload = data.encode("utf-8")
    if len(payload) > 7000:
        raise ValueError("QR data too long")
    stored = len(payload) + 3

    def fn(body: bytes) -> bytes:
        return GS + b"(k" + bytes([len(body) & 0xFF, len(body) >> 8]) + body

    return (fn(b"1A2\x00") + fn(b"1C" + bytes([module])) + fn(b"1E" + bytes([QR_ERROR_LEVELS[error_level]]))
            + GS + b"(k" + bytes([stored & 0xFF, stored >> 8]) + b"1P0" + payload + fn(b"1Q0"))


def cut(partial: bool = True) -> bytes:
    """Feed to the cutter and cut (GS V 66/65 n)."""
    return GS + b"V" + (b"B" if partial else b"A") + b"\x03"


def drawer_kick(pin: int = 0, on_ms: int = 100, off_ms: int = 200) -> bytes:
    """Pulse the cash-drawer connector (ESC p m t1 t2; times in 2 ms units)."""
    return ESC + b"p" + bytes([pin, min(on_ms // 2, 255), min(off_ms // 2, 255)])

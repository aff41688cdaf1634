"""Print jobs are structured documents; the bridge lays them out for its own paper.

A document (all fields optional but `kind`):
  {"kind": "receipt" | "pickup_ticket" | "delivery_note" | "drawer_kick",
   "title": "...", "store": "...", "meta": [["单号", "2026..."], ...],
   "lines": [{"name": "...", "qty": 2, "amount": "59.80", "note": "..."}],
   "totals": [["合计", "59.80"], ...], "notes": ["..."], "qr": "...", "qr_caption": "...",
   "footer": "...", "open_drawer": false}
Amounts arrive as display text: the server owns money formatting.
"""
from __future__ import annotations

import unicodedata

from . import escpos

COLUMNS = {58: 32, 80: 48}  # font A characters per line on 58 mm (384 dots) and 80 mm (576 dots) paper
TITLES = {"receipt": "购物小票", "pickup_ticket": "提货单", "delivery_note": "配送单"}
KINDS = frozenset(TITLES) | {"drawer_kick"}


def cell_width(value: str) -> int:
    """Columns a text takes: Chinese characters and full-width forms take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def wrap(value: str, columns: int) -> list[str]:
    lines, current, used = [], "", 0
    for ch in value:
        w = cell_width(ch)
        if ch == "\n" or used + w > columns:
            lines.append(current)
            current, used = "", 0
            if ch == "\n":
                continue
        current += ch
        used += w
    lines.append(current)
    return lines


def two_columns(left: str, right: str, columns: int) -> list[str]:
    """`left` then `right` flush right on the same line, or on a line of its own when they do not fit."""
    gap = columns - cell_width(left) - cell_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    return wrap(left, columns) + [" " * max(columns - cell_width(right), 0) + right]


def render(document: dict, paper_mm: int = 80) -> bytes:
    columns = COLUMNS[paper_mm]
    kind = document.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    out = [escpos.INIT, escpos.CHINESE_MODE]
    if kind == "drawer_kick":
        out.append(escpos.drawer_kick())
        return b"".join(out)

    def line(value: str = "") -> None:
        out.append(escpos.text(value + "\n"))

    out += [escpos.align(escpos.CENTER), escpos.bold(True), escpos.size(2, 2)]
    for part in wrap(str(document.get("title") or TITLES[kind]), columns // 2):
        line(part)
    out += [escpos.size(1, 1), escpos.bold(False)]
    if document.get("store"):
        for part in wrap(str(document["store"]), columns):
            line(part)
    out.append(escpos.align(escpos.LEFT))
    rule = "-" * columns
    line(rule)
    for label, value in document.get("meta") or ():
        out.extend(escpos.text(s + "\n") for s in two_columns(f"{label}:", str(value), columns))
    if document.get("lines"):
        line(rule)
        for item in document["lines"]:
            for part in wrap(str(item.get("name", "")), columns):
                line(part)
            qty = f"  x{item['qty']}" if item.get("qty") is not None else ""
            out.extend(escpos.text(s + "\n") for s in two_columns(qty, str(item.get("amount", "")), columns))
            if item.get("note"):
                for part in wrap(f"  {item['note']}", columns):
                    line(part)
    if document.get("totals"):
        line(rule)
        out.append(escpos.bold(True))
        for label, value in document["totals"]:
            out.extend(escpos.text(s + "\n") for s in two_columns(str(label), str(value), columns))
        out.append(escpos.bold(False))
    for note in document.get("notes") or ():
        for part in wrap(str(note), columns):
            line(part)
    if document.get("qr"):
        line()
        out += [escpos.align(escpos.CENTER), escpos.qr(str(document["qr"]), module=6 if paper_mm == 80 else 5)]
        if document.get("qr_caption"):
            line(str(document["qr_caption"]))
        out.append(escpos.align(escpos.LEFT))
    if document.get("footer"):
        line(rule)
        out.append(escpos.align(escpos.CENTER))
        for part in wrap(str(document["footer"]), columns):
            line(part)
        out.append(escpos.align(escpos.LEFT))
    out += [escpos.feed(3), escpos.cut()]
    if document.get("open_drawer"):
        out.append(escpos.drawer_kick())
    return b"".join(out)

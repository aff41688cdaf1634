"""Scale protocols as data: how the port is set up, what is written to ask for a weight, what a frame
looks like and what its fields mean. Adding a scale model is adding a profile, not a code branch.

A frame pattern may name these groups (all optional):
  weight     the number ("  1.234"); absent on status-only frames
  sign       "+" or "-"
  unit       a key of `units` (else `default_unit`)
  net        present when the frame marks a net weight (Toledo's trailing "N")
  mode       a key of `modes` (continuous scales' "GS" gross / "NT" net)
  stability  a key of `stability` (continuous scales' "ST" / "US" / "OL")
  status     one status byte whose bits `status_bits` names (Toledo's "STX ? <byte> CR")
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

STABLE, MOTION, OVERLOAD = "stable", "motion", "overload"


@dataclass(frozen=True)
class Reading:
    weight_g: int | None  # None when the scale gives no weight (in motion for Toledo, overload, under zero)
    stable: bool
    net: bool
    overload: bool
    raw: str  # the frame as received, control bytes escaped, for the log and for support

    def to_dict(self) -> dict:
        return {"weight_g": self.weight_g, "stable": self.stable, "net": self.net, "overload": self.overload,
                "raw": self.raw}


@dataclass(frozen=True)
class ScaleProfile:
    name: str
    frames: tuple[re.Pattern[bytes], ...]  # tried in order on one frame (terminator removed)
    terminator: bytes
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    request: bytes = b""  # written to ask for each reading; empty: the scale streams frames by itself
    poll_interval: float = 0.1  # seconds between requests (poll protocols)
    answer_timeout: float = 0.5  # a request unanswered for this long counts as a miss
    default_unit: str = "kg"
    units: dict[str, float] = field(default_factory=lambda: {"kg": 1000.0, "g": 1.0, "lb": 453.59237})
    stability: dict[str, str] = field(default_factory=dict)
    modes: dict[str, bool] = field(default_factory=dict)  # token -> is net
    status_bits: dict[str, int] = field(default_factory=dict)  # motion / overload / under_zero -> bit number
    commands: dict[str, bytes] = field(default_factory=dict)  # zero / tare / clear_tare -> bytes to write
    max_frame: int = 64  # longer runs without a terminator are line noise and dropped


TOLEDO_8217 = ScaleProfile(
    name="toledo8217",
    baudrate=9600, bytesize=7, parity="E", stopbits=1,
    request=b"W",
    terminator=b"\r",
    frames=(
        re.compile(rb"\x02(?P<weight> *\d+(?:\.\d*)?)(?P<net>N)?\Z"),
        re.compile(rb"\x02\?(?P<status>[\x40-\x7f])\Z"),
    ),
    # Bit 6 of the status byte is always set; the scale sends a status instead of a weight while the
    # load moves, above capacity or below zero.
    status_bits={"motion": 0, "overload": 1, "under_zero": 2},
    commands={"zero": b"Z", "tare": b"T", "clear_tare": b"C"},
)

CONTINUOUS = ScaleProfile(
    name="continuous",
    baudrate=9600, bytesize=8, parity="N", stopbits=1,
    terminator=b"\r\n",
    frames=(
        re.compile(rb"(?P<stability>ST|US|OL),(?P<mode>GS|NT),(?P<sign>[+-]) *(?P<weight>\d+(?:\.\d*)?) *"
                   rb"(?P<unit>kg|g|lb)\Z"),
        # An overloaded scale prints dashes or "OL" where the number was.
        re.compile(rb"(?P<stability>OL),(?P<mode>GS|NT),.*\Z"),
    ),
    stability={"ST": STABLE, "US": MOTION, "OL": OVERLOAD},
    modes={"GS": False, "NT": True},
)

PROFILES: dict[str, ScaleProfile] = {p.name: p for p in (TOLEDO_8217, CONTINUOUS)}


def escape(frame: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in frame)


def decode_frame(profile: ScaleProfile, frame: bytes) -> Reading | None:
    """One terminated frame (terminator removed) as a reading, or None when it is not a frame of this
    protocol (a fragment left from before the port was opened, line noise)."""
    for pattern in profile.frames:
        match = pattern.search(frame)
        if match:
            break
    else:
        return None
    fields = match.groupdict()
    stable, overload, net = True, False, bool(fields.get("net"))
    if fields.get("status") is not None:
        byte = fields["status"][0]
        flags = {name: bool(byte >> bit & 1) for name, bit in profile.status_bits.items()}
        stable = not (flags.get("motion") or flags.get("overload") or flags.get("under_zero"))
        overload = flags.get("overload", False)
    if fields.get("stability") is not None:
        state = profile.stability[fields["stability"].decode()]
        stable, overload = state == STABLE, state == OVERLOAD
    if fields.get("mode") is not None:
        net = profile.modes[fields["mode"].decode()]
    weight_g = None
    if fields.get("weight") is not None and not overload:
        unit = fields["unit"].decode() if fields.get("unit") else profile.default_unit
        value = float(fields["weight"]) * profile.units[unit]
        if fields.get("sign") == b"-":
            value = -value
        weight_g = round(value)
    if weight_g is None:
        stable = False  # nothing to capture
    return Reading(weight_g, stable, net, overload, escape(frame))

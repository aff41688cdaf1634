"""Electronic scales: protocols as data profiles, one serial reader loop, a simulator."""
from .profiles import PROFILES, Reading, ScaleProfile, decode_frame
from .reader import FrameBuffer, ScaleReader
from .sim import SimulatedScale

__all__ = ["PROFILES", "Reading", "ScaleProfile", "decode_frame", "FrameBuffer", "ScaleReader", "SimulatedScale"]

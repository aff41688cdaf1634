"""A simulated scale for demos: goods are put on, the reading wobbles, settles, and they are taken off."""
from __future__ import annotations

import random
import threading
from typing import Callable

from .profiles import Reading


class SimulatedScale:
    port = "sim"

    def __init__(self, on_reading: Callable[[Reading], None], *, on_state=None, interval: float = 0.2,
                 seed: int | None = None):
        self._on_reading = on_reading
        self._on_state = on_state or (lambda state, detail: None)
        self._interval = interval
        self._random = random.Random(seed)
        self.state = "offline"

    def command(self, name: str) -> bool:
        return False

    def run(self, stop: threading.Event) -> None:
        self.state = "online"
        self._on_state("online", "simulated scale")
        while not stop.is_set():
            for weight, stable in self._one_weighing():
                if stop.wait(self._interval):
                    break
                self._on_reading(Reading(weight, stable, False, False, f"sim {weight} g"))
        self.state = "offline"
        self._on_state("offline", "stopped")

    def _one_weighing(self):
        target = self._random.randrange(150, 2500)
        yield from ((0, True) for _ in range(10))
        for step in range(6):  # put on: overshoots, wobbles
            yield round(target * (0.6 + 0.1 * step) + self._random.randrange(-40, 40)), False
        yield from ((target, True) for _ in range(20))
        yield round(target * 0.3), False

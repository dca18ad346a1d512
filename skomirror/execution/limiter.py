"""Per-registry concurrency that backs off when a registry says it is overloaded (AIMD).

On a 429 or 503 the registry's limit of concurrent copies is halved (at most
once per cooldown, since one burst fails several copies at once); each clean
copy adds 1/limit, so the limit grows by one per round of clean copies, back
up to --parallel-images. The same idea as TCP's congestion window.
"""

import threading
import time
from typing import Dict, Iterable, List, Optional, Tuple


def lowest_limits(events: Iterable[dict]) -> Dict[str, int]:
    """registry -> the lowest limit it went down to: one rule for RegistryLimiter.lowest and the run summary."""
    lowest: Dict[str, int] = {}
    for event in events:
        lowest[event["registry"]] = min(lowest.get(event["registry"], event["limit"]), event["limit"])
    return lowest


class RegistryLimiter:
    def __init__(self, maximum: int, cooldown: float = 2.0):
        self.maximum = maximum
        self.cooldown = cooldown
        self._limits: Dict[str, float] = {}
        self._running: Dict[str, int] = {}
        self._last_decrease: Dict[str, float] = {}
        self._lock = threading.Lock()
        self.events: List[dict] = []  # every change of a limit, for results.json

    def limit(self, registry: str) -> int:
        with self._lock:
            return int(self._limits.get(registry, self.maximum))

    def acquire(self, registries: Iterable[str]) -> Optional["Slot"]:
        """A slot in each registry, all or none: None when one is at its limit. The slot gives them back,
        so what was taken is what is returned, even if the registries a copy talks to were asked anew."""
        wanted = tuple(registries)
        with self._lock:
            if not all(self._running.get(r, 0) < int(self._limits.get(r, self.maximum)) for r in wanted):
                return None
            for registry in wanted:
                self._running[registry] = self._running.get(registry, 0) + 1
        return Slot(self, wanted)

    def _give_back(self, registries: Tuple[str, ...]) -> None:
        with self._lock:
            for registry in registries:
                self._running[registry] -= 1

    def slow_down(self, registry: str, reason: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last_decrease.get(registry, -self.cooldown) < self.cooldown:
                return
            self._last_decrease[registry] = now
            limit = max(1.0, int(self._limits.get(registry, self.maximum)) // 2)
            self._limits[registry] = limit
            self.events.append({"time": time.time(), "registry": registry, "limit": int(limit), "reason": reason})

    def speed_up(self, registries: Iterable[str]) -> None:
        with self._lock:
            for registry in registries:
                current = self._limits.get(registry)
                if current is None or current >= self.maximum:
                    continue
                raised = min(float(self.maximum), current + 1.0 / int(current))
                self._limits[registry] = raised
                if int(raised) > int(current):
                    self.events.append({"time": time.time(), "registry": registry, "limit": int(raised),
                                        "reason": "clean copies"})

    def lowest(self) -> Dict[str, int]:
        with self._lock:
            return lowest_limits(self.events)


class Slot:
    """What RegistryLimiter.acquire took; release() gives it back once, however often it is called."""

    def __init__(self, limiter: RegistryLimiter, registries: Tuple[str, ...]):
        self.registries = registries
        self._limiter: Optional[RegistryLimiter] = limiter
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._give_back(self.registries)

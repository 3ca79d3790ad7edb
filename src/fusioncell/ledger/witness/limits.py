"""How often one source may ask the witness to cosign: a token bucket per address.

Every request costs the witness a signature check and, for a fork, a durable write; without a
limit one client could keep it busy and fill its log. The log it serves pushes a checkpoint
about once a second (twice when it has to retry from the witness's size), far below the
default, so only a flood is refused.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_RATE = 20.0  # requests a second, sustained, per source address
DEFAULT_BURST = 40
MAX_SOURCES = 10_000  # buckets remembered; the longest idle is forgotten first


class RateLimiter:
    """``rate`` requests a second per source, in bursts of up to ``burst``."""

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        if not rate > 0 or burst < 1:
            raise ValueError("the rate must be above 0 and the burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_sources = max_sources
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def take(self, source: str) -> int:
        """0 if ``source`` may go ahead (a token is spent), else the seconds until it may."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.pop(source, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(now - then, 0.0) * self.rate)
            wait = 0 if tokens >= 1 else max(math.ceil((1 - tokens) / self.rate), 1)
            self._buckets[source] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_sources:
                # Forgetting an idle source forgives it at most one burst.
                self._buckets.popitem(last=False)
            return wait

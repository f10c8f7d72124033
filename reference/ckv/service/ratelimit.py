"""A per-client token bucket (API-006)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """``rate`` requests per second per client, with bursts of up to ``burst``.

    :meth:`take` returns 0.0 when the request may go ahead, else the seconds
    until it may. Buckets of clients idle for a minute are forgotten, so the
    table stays bounded by the clients of the last minute.
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def take(self, client: str) -> float:
        """Spend one token of ``client``; 0.0 if granted, else the wait in seconds."""
        if self._rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            if now - self._last_sweep > 60.0:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60.0}
                self._last_sweep = now
            tokens, last = self._buckets.get(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self._rate

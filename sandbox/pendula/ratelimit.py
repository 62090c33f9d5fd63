"""A per-key token bucket: Pendula's "up to 200 requests/second" per flow webhook trigger."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allows `rate` requests per second per key, with a burst of one second's worth (at least 1).

    Kept in memory rather than SQLite: it is a property of the running service, and losing it
    on restart is what a real front door does too.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be a positive number of requests per second, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated_at)

    def acquire(self, key: str) -> int | None:
        """Take one request's allowance; None when allowed, else whole seconds to wait (>= 1)."""
        with self._lock:
            now = self._clock()
            tokens, updated_at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated_at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            # Retry-After carries whole seconds, so round the wait for the next token up.
            return max(1, math.ceil((1 - tokens) / self.rate))

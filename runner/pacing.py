"""A thread-safe token bucket that keeps a worker at or under its share of MaxWritesPerSecond."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take()` blocks until one is free.

    The burst is a twentieth of a second's worth; with the writes in flight bounded the same way
    (runner.planning.paced_concurrency), no one-second window exceeds the rate by more than 10%.
    A rate of None means unpaced.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, rate / 20) if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._tokens = 0.0
        self._stamp = clock()
        self._lock = threading.Lock()

    def set_rate(self, rate: float | None) -> None:
        """A new rate from now on (the run's shared rate changed)."""
        with self._lock:
            self.rate = rate
            self.burst = max(1.0, rate / 20) if rate else 0.0
            self._tokens = min(self._tokens, self.burst)

    def debit(self, count: float) -> None:
        """Take `count` more without waiting (what a request consumed beyond its estimate); the
        next `take` waits until the debt is paid."""
        if not self.rate or count <= 0:
            return
        with self._lock:
            self._tokens -= count

    def take(self, count: float = 1.0) -> None:
        if not self.rate:
            return
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens + 1e-9 >= count:
                    self._tokens -= count
                    return
                wait = max((count - self._tokens) / self.rate, 1e-6)
            self._sleep(wait)

"""Failed sign-ins counted per (name, address) in a sliding window, in this process's memory.

Enough for the one web process of a shop's support team; with several web replicas each
counts on its own, so the limit becomes "per replica" (a shared store would fix that).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

# Keys kept at most; past this the oldest are forgotten (an attacker cycling through names
# must not grow the process without bound).
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, key: Hashable) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        failures = self._recent(key)
        if len(failures) < self.max_failures:
            return None
        return max(1.0, failures[-self.max_failures] + self.window - self.clock())

    def failed(self, key: Hashable) -> None:
        if key not in self._failures and len(self._failures) >= MAX_KEYS:
            del self._failures[next(iter(self._failures))]
        self._failures.setdefault(key, deque()).append(self.clock())

    def succeeded(self, key: Hashable) -> None:
        self._failures.pop(key, None)

"""Sign-in attempts counted per key (client address, account name) in a sliding window.

An attempt is *reserved* before the password is checked, so a burst of parallel guesses
cannot all pass the check while the slow hash of the first is still running: `reserve`
counts the attempt under every key at once, or refuses it when any key is at its limit.
A successful sign-in `release`s its attempt; a failed one stays counted for the window.

Kept in this process's memory: enough for the one web process of a shop's support team.
With several web replicas each counts on its own (a shared store would fix that). Call it
from the event loop only: a reservation is atomic because it never awaits.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A key is (kind, value): ("client", "203.0.113.7") or ("account", "maria"); each kind has
# its own limit.
Key = tuple[str, str]

# Keys kept at most; past this the oldest are forgotten (an attacker cycling through names
# must not grow the process without bound).
MAX_KEYS = 10_000


@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt: what `release` needs to take it back."""

    id: int
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Refusal:
    """An attempt refused: the key that is at its limit, and when it may try again."""

    key: Key
    retry_after: float


class LoginThrottle:
    """At most `limits[kind]` attempts per `(kind, value)` key within `window_seconds`."""

    def __init__(
        self,
        limits: Mapping[str, int],
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = dict(limits)
        self.window = window_seconds
        self.clock = clock
        self._attempts: dict[Key, deque[tuple[float, int]]] = {}
        self._ids = itertools.count(1)

    def _recent(self, key: Key) -> deque[tuple[float, int]]:
        attempts = self._attempts.get(key)
        if attempts is None:
            return deque()
        cutoff = self.clock() - self.window
        while attempts and attempts[0][0] <= cutoff:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]
        return attempts

    def retry_after(self, key: Key) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        attempts = self._recent(key)
        limit = self.limits.get(key[0], 0)
        if len(attempts) < limit:
            return None
        if limit <= 0:
            return float(self.window)
        return max(1.0, attempts[-limit][0] + self.window - self.clock())

    def reserve(self, *keys: Key) -> Attempt | Refusal:
        """Count one attempt under every key, or refuse it (nothing counted) if one is full."""
        refusals = [
            Refusal(key, wait) for key in keys if (wait := self.retry_after(key)) is not None
        ]
        if refusals:
            return max(refusals, key=lambda refusal: refusal.retry_after)
        attempt = Attempt(next(self._ids), tuple(keys))
        now = self.clock()
        for key in attempt.keys:
            if key not in self._attempts and len(self._attempts) >= MAX_KEYS:
                del self._attempts[next(iter(self._attempts))]
            self._attempts.setdefault(key, deque()).append((now, attempt.id))
        return attempt

    def release(self, attempt: Attempt) -> None:
        """Take a reserved attempt back (the sign-in succeeded)."""
        for key in attempt.keys:
            attempts = self._attempts.get(key)
            if attempts is None:
                continue
            kept = deque(entry for entry in attempts if entry[1] != attempt.id)
            if kept:
                self._attempts[key] = kept
            else:
                del self._attempts[key]

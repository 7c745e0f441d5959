"""What the reconciler remembers of each service between passes: its failed repairs, its backoff, its health streak."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    """Seconds: the first wait after a failed repair (doubling on each further failure) and the longest."""

    initial: float = 30.0
    cap: float = 900.0

    def delay(self, failures: int) -> float:
        return min(self.initial * 2 ** max(0, failures - 1), self.cap)


@dataclass
class ServiceWatch:
    """One service as the reconciler saw it: consecutive failed repairs and failed probes, when it may be tried again."""

    failures: int = 0
    """Repairs that failed in a row."""
    delay: float = 0.0
    """The wait chosen after the last failure."""
    retry_at: float = 0.0
    """Epoch seconds before which no repair is tried."""
    healthy_since: float | None = None
    unhealthy: int = 0
    """Probes that failed in a row while it ran."""

    def waiting(self, now: float) -> bool:
        """Whether it is backing off now."""
        return now < self.retry_at

    def failed(self, now: float, policy: BackoffPolicy) -> float:
        """A repair failed: the wait before the next one (doubling, capped)."""
        self.failures += 1
        self.delay = policy.delay(self.failures)
        self.retry_at = now + self.delay
        self.healthy_since = None
        return self.delay

    def repaired(self, now: float) -> None:
        """A repair made it healthy; the failures count until it has stayed healthy (:meth:`seen_healthy`)."""
        self.retry_at = 0.0
        self.unhealthy = 0
        self.healthy_since = now

    def seen_healthy(self, now: float, policy: BackoffPolicy) -> bool:
        """It was healthy at this pass; ``True`` when that reset its backoff (healthy for a whole backoff window)."""
        self.unhealthy = 0
        if self.healthy_since is None:
            self.healthy_since = now
        if self.failures and now - self.healthy_since >= max(self.delay, policy.initial):
            self.failures = 0
            self.delay = 0.0
            return True
        return False

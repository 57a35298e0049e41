"""Waiting between tries while something is down: capped exponential back-off with jitter.

One policy for every loop that waits on a store, a queue or a database (the agent's uploader,
the ingest's queue loop). Single requests inside boto3 have botocore's own retry modes on top.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

Jitter = Callable[[float], float]


def full_jitter(ceiling: float) -> float:
    """A uniformly random wait in ``[0, ceiling]``: many agents coming back after one outage
    spread out instead of arriving together."""
    return random.uniform(0.0, ceiling)


@dataclass
class Backoff:
    """Capped exponential back-off with jitter: ceilings base, 2·base, 4·base … up to cap.

    >>> b = Backoff(1.0, 5.0, jitter=lambda ceiling: ceiling)
    >>> [b.failed() for _ in range(5)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    """

    base_s: float
    cap_s: float
    jitter: Jitter = full_jitter
    failures: int = 0  # in a row

    def failed(self) -> float:
        """Count one more failure; return how long to wait before the next try."""
        self.failures += 1
        exponent = min(self.failures - 1, 62)  # 2**62 · base is past any cap
        return self.jitter(min(self.cap_s, self.base_s * 2.0**exponent))

    def reset(self) -> None:
        """The store answered: the next failure starts from ``base_s`` again."""
        self.failures = 0

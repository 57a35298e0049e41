"""Waiting in fault tests: :func:`tests.waiting.wait_until` with a longer guard, since a
loaded 2-core machine running kills and restarts may need most of it."""

from __future__ import annotations

from functools import partial

from tests import waiting

DEADLINE_S = 600.0

wait_until = partial(waiting.wait_until, timeout_s=DEADLINE_S)

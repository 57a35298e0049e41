"""Named pipes in tests: a reader stuck in open() (the bug under test) must not hang the run."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def release_blocked_readers(root: Path) -> None:
    """Give every FIFO under ``root`` a writer, so a reader stuck in ``open()`` returns and a
    failing test ends with its assertion instead of hanging; files that are no FIFO or have no
    reader are left alone."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading it, nothing to do
                os.close(os.open(os.path.join(dirpath, name), os.O_WRONLY | os.O_NONBLOCK))

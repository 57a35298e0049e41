"""Child processes that fault tests start, kill -9 and restart; none outlives its test.

Each child runs in its own session, so a kill takes its own children (tesseract) with it, as a
power cut or the OOM killer would, and no orphan keeps working after the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
STOP_WAIT_S = 60.0


@dataclass
class Children:
    """Every process started through :meth:`start`; :meth:`close` leaves none running."""

    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0

    def start(self, command: list[str], env: dict[str, str], log_name: str,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start ``command`` (a console script of this venv first) appending to ``log_name``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / log_name, "ab") as log:
            process = subprocess.Popen([str(BIN / command[0]), *command[1:]],
                                       env=os.environ | env, cwd=cwd, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.started.append(process)
        return process

    def kill9(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and everything it started; wait for it."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_WAIT_S)
        self.kills += 1

    def terminate(self, process: subprocess.Popen[bytes]) -> int:
        """SIGTERM and wait for a clean exit; its exit code (SIGKILL after a long wait)."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill9(process)
            return -signal.SIGKILL

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill9(process)
            else:  # its children, if any outlived it
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)

    def tail(self, log_name: str, chars: int = 3000) -> str:
        """The end of a child's log, for failure messages."""
        path = self.logs / log_name
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def exited(process: subprocess.Popen[bytes], name: str) -> Callable[[], str | None]:
    """For :func:`tests.faults.waiting.wait_until`: a message once ``process`` has exited."""
    return lambda: None if process.poll() is None else f"{name} exited {process.returncode}"


@contextmanager
def children(logs: Path) -> Iterator[Children]:
    """A :class:`Children` whose processes are all killed when the block ends, however."""
    group = Children(logs)
    try:
        yield group
    finally:
        group.close()

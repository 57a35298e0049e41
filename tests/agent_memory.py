"""Run ``aspa-agent`` in a child process and measure the most memory it ever held.

The peak is the child's own high-water mark as the kernel reports it when the child is reaped
(``wait4``: the agent or any process it ran and waited for, such as ``pdftoppm`` or
``tesseract``). A child that goes past ``kill_above_mb`` is killed at once, so a test of a
memory bomb fails fast instead of taking the machine down with it.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

AGENT = str(Path(sys.executable).parent / "aspa-agent")


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    killed: bool  # went past the kill limit


def run_agent(args: list[str], var: Path, *, kill_above_mb: float = 2048,
              timeout_s: float = 300, stop_when: Callable[[], bool] | None = None) -> Measured:
    """``aspa-agent *args`` with its var dir at ``var``; its exit, output and peak RSS.

    ``stop_when``: for a command that runs until stopped, SIGTERM is sent once it is true.
    """
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), OMP_THREAD_LIMIT="1")
    out, err = var.parent / f"{var.name}.stdout", var.parent / f"{var.name}.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen([AGENT, *args], stdout=stdout, stderr=stderr,
                                 stdin=subprocess.DEVNULL, env=env)
    status, usage, killed = _watch(child.pid, kill_above_mb, time.monotonic() + timeout_s,
                                   stop_when)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped by _watch already
    return Measured(child.returncode, out.read_text(), err.read_text(),
                    usage.ru_maxrss / 1024, killed)


def _watch(pid: int, kill_above_mb: float, deadline: float,
           stop_when: Callable[[], bool] | None) -> tuple[int, resource.struct_rusage, bool]:
    killed = stopped = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, killed
        if not killed and (_rss_mb(pid) > kill_above_mb or time.monotonic() > deadline):
            os.kill(pid, signal.SIGKILL)
            killed = True
        elif not stopped and stop_when is not None and stop_when():
            os.kill(pid, signal.SIGTERM)
            stopped = True
        time.sleep(0.02)


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

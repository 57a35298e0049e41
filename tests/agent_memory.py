"""Run ``aspa-agent`` in a child process and measure the most memory it ever held.

The agent is started by a small launcher (this file run as a script, standard library only)
that reaps it with ``wait4`` and reports its peak RSS: the agent's own or that of a process it
ran and waited for (``pdftoppm``, ``tesseract``), whichever is larger. The launcher is what
makes the figure honest: the kernel charges a new process with the memory of the one that
spawned it, so an agent started straight from a test process that had made a few big pages
would be charged with the test's own memory.

The launcher kills the agent once it goes past ``kill_above_mb``, so a test of a memory bomb
fails fast instead of taking the machine down with it.
"""

from __future__ import annotations

import json
import os
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
    killed: bool  # went past the kill limit or the time limit


def run_agent(args: list[str], var: Path, *, kill_above_mb: float = 2048,
              timeout_s: float = 300, stop_when: Callable[[], bool] | None = None) -> Measured:
    """``aspa-agent *args`` with its var dir at ``var``; its exit, output and peak RSS.

    ``stop_when``: for a command that runs until stopped, SIGTERM is sent once it is true.
    """
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), OMP_THREAD_LIMIT="1")
    out, err, report = (var.parent / f"{var.name}.{kind}" for kind in ("stdout", "stderr", "rss"))
    command = [sys.executable, "-S", __file__, str(report), str(kill_above_mb), str(timeout_s),
               AGENT, *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        launcher = subprocess.Popen(command, stdout=stdout, stderr=stderr,
                                    stdin=subprocess.DEVNULL, env=env)
        stopped = False
        while launcher.poll() is None:
            if not stopped and stop_when is not None and stop_when():
                launcher.send_signal(signal.SIGTERM)  # passed on to the agent
                stopped = True
            time.sleep(0.05)
    facts = json.loads(report.read_text())
    return Measured(facts["returncode"], out.read_text(), err.read_text(),
                    facts["peak_kb"] / 1024, facts["killed"])


def _launch(report: str, kill_above_mb: str, timeout_s: str, command: list[str]) -> int:
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    deadline = time.monotonic() + float(timeout_s)
    killed = False
    while True:
        done, status, usage = os.wait4(child.pid, os.WNOHANG)
        if done:
            break
        if not killed and (_hwm_mb(child.pid) > float(kill_above_mb)
                           or time.monotonic() > deadline):
            child.kill()
            killed = True
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    Path(report).write_text(json.dumps({"returncode": code, "peak_kb": usage.ru_maxrss,
                                        "killed": killed}))
    return code


def _hwm_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))

"""Running a measured tool to its end under GNU time: wall seconds, peak RSS, processor time.

GNU time starts the tool from its own small process: a child forked straight from the
benchmark's Python process would report that process's memory as its own floor (Linux keeps the
high-water mark of the memory a process had before exec).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measured:
    wall_seconds: float
    peak_rss_kib: int | None
    cpu_seconds: float | None  # user + system
    exit_code: int | None  # None: killed at the time limit


def run_under_gnu_time(
    argv: Sequence[str],
    *,
    stdout: Path,
    rusage: Path,
    time_limit: float,
    cwd: Path | None = None,
) -> Measured:
    """Run ``argv`` to its end (or kill it and its children at ``time_limit``), its standard
    output into ``stdout``, GNU time's figures into ``rusage``."""
    timed = [GNU_TIME, "--format", "%M %U %S", "--output", str(rusage), *argv]
    with stdout.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            timed,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the time limit kills the tool and its children together
        )
        try:
            exit_code: int | None = process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            exit_code = None
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        wall = time.perf_counter() - started
    peak: int | None = None
    cpu: float | None = None
    try:
        # The last line: GNU time writes "Command exited with non-zero status N" before it.
        figures = rusage.read_text().splitlines()[-1].split()
        peak, cpu = int(figures[0]), float(figures[1]) + float(figures[2])
    except (OSError, ValueError, IndexError):
        pass
    return Measured(wall, peak, cpu, exit_code)

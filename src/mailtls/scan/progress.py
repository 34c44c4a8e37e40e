"""Progress of a scan on standard error: a rich bar with rate and ETA on a terminal; for cron
and logs, one plain line at most every ``interval`` seconds and one at the end."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

from mailtls.models import DomainReport
from mailtls.scan.engine import ScanObserver, SilentScanObserver

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID


class _BarObserver:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def scan_started(self, total: int, done: int) -> None:
        self._task = self._progress.add_task("scanning", total=total, completed=done)

    def domain_finished(self, report: DomainReport, *, stored: bool) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=1, description=report.target.name)


class LineObserver:
    """Plain progress lines: ``scan: 1200/10000 domains (12.0%), 41.3/s, about 3m 33s left``."""

    def __init__(
        self,
        out: TextIO,
        *,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._interval = interval
        self._clock = clock
        self._total = 0
        self._done = 0
        self._started_done = 0
        self._started = clock()
        self._last_line = self._started

    def scan_started(self, total: int, done: int) -> None:
        self._total, self._done, self._started_done = total, done, done
        self._started = self._last_line = self._clock()
        resumed = f", {done} done before" if done else ""
        self._write(f"scan: {total - done} of {total} domains to scan{resumed}")

    def domain_finished(self, report: DomainReport, *, stored: bool) -> None:
        self._done += 1
        now = self._clock()
        if now - self._last_line >= self._interval or self._done == self._total:
            self._last_line = now
            self._write(self.status(now))

    def status(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = (self._done - self._started_done) / elapsed
        share = 100.0 * self._done / self._total if self._total else 100.0
        line = f"scan: {self._done}/{self._total} domains ({share:.1f}%), {rate:.1f}/s"
        left = self._total - self._done
        if left and rate > 0:
            line += f", about {_duration(left / rate)} left"
        return line

    def _write(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def _rate_column() -> ProgressColumn:
    from rich.progress import ProgressColumn, Task  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    class RateColumn(ProgressColumn):
        """Domains per second over rich's recent window."""

        def render(self, task: Task) -> Text:
            speed = task.speed
            return Text(f"{speed:6.1f}/s" if speed is not None else "     -/s")

    return RateColumn()


@contextlib.contextmanager
def scan_progress(mode: str, *, out: TextIO | None = None) -> Iterator[ScanObserver]:
    """``bar`` (a terminal), ``lines`` (logs, cron) or ``none``."""
    stream = out or sys.stderr
    if mode == "none":
        yield SilentScanObserver()
        return
    if mode == "lines":
        yield LineObserver(stream)
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description:<30.30}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _rate_column(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=True,
    )
    with progress:
        yield _BarObserver(progress)

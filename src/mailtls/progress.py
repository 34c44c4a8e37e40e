"""Progress on standard error while a check runs: a rich bar on a terminal, nothing otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mailtls.models import AddressObservation
from mailtls.scanner import Observer, SilentObserver

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class _BarObserver:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def targets_resolved(self, addresses: int) -> None:
        self._task = self._progress.add_task("probing addresses", total=addresses)

    def address_finished(self, observation: AddressObservation) -> None:
        if self._task is not None:
            self._progress.update(
                self._task, advance=1, description=f"probed {observation.endpoint}"
            )


@contextlib.contextmanager
def progress_observer(*, enabled: bool) -> Iterator[Observer]:
    if not enabled:
        yield SilentObserver()
        return
    # rich loads only for a terminal: piped and cron runs start faster without it.
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    with progress:
        yield _BarObserver(progress)

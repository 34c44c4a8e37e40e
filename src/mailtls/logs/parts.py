"""One large log file read in parts, a process each, to the result one pass would give.

Reading a Postfix log is Python work per session line, so one process reads a few hundred
thousand lines a second whatever the disk does. A large uncompressed file is therefore cut into
byte ranges at line ends (:func:`byte_ranges`) and each range read by a process of its own
(:func:`map_parts`); the caller (:mod:`mailtls.logs.analyse`) then adds the parts up in file
order. What makes the sum exact:

- A Postfix process's lines depend on its lines before, which a part does not see. A part's
  parser therefore holds back each process's lines until one that starts afresh
  (``PostfixParser.hold``); merging reads the held lines on the state the earlier parts left and
  takes over the part's state (``PostfixParser.absorb``).
- Syslog stamps carry no year. Every part but the first starts with the year the first started
  with; a part whose stamps show that a new year began before it (December, then January) is
  read again with the right year (``YearGuesser.carries_on_from``).
- Line numbers count from each part's start; merging adds the lines of the parts before.
- The peer table keeps nothing that depends on reading order (``PeerAggregator.merge``).

Left as one pass: compressed files, standard input, UTF-16 and files with a byte order mark, other
formats, and files smaller than :data:`MIN_PART_BYTES` (starting processes would cost more than
they save).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

# Below this a part is not worth a process: about 250 000 lines of a typical Postfix log.
MIN_PART_BYTES = 32 * 1024 * 1024

# How far past a cut point a line end is looked for; a longer line ends the search there (the
# part boundary then falls at the line end found further on by the reader of the part before).
_LOOK_FOR_LINE_END = 1024 * 1024

_Task = TypeVar("_Task")
_Outcome = TypeVar("_Outcome")


# Processes by default: past this, they mostly wait for the disk and for each other.
MAX_DEFAULT_JOBS = 8


def usable_cores() -> int:
    """The processors this process may run on (its affinity mask), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """How many processes read a large log at once when nobody says: one per usable processor,
    at most :data:`MAX_DEFAULT_JOBS`."""
    return min(usable_cores(), MAX_DEFAULT_JOBS)


def part_count(size: int, jobs: int, min_part_bytes: int = MIN_PART_BYTES) -> int:
    """How many parts to read a file of ``size`` bytes in, with ``jobs`` processes."""
    return max(1, min(jobs, size // max(1, min_part_bytes)))


def byte_ranges(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` ranges of about equal size that cover the file's first ``size`` bytes, each
    starting at the start of a line (fewer when lines are longer than a part)."""
    starts = [0]
    with open(path, "rb") as file:
        for index in range(1, parts):
            at = max(size * index // parts, starts[-1])
            file.seek(at)
            piece = file.read(_LOOK_FOR_LINE_END)
            end = piece.find(b"\n")
            if end < 0:
                continue  # no line end near: this cut point is left out
            start = at + end + 1
            if starts[-1] < start < size:
                starts.append(start)
    ends = [*starts[1:], size]
    return list(zip(starts, ends, strict=True))


def map_parts(
    read_part: Callable[[_Task], _Outcome], tasks: Sequence[_Task], jobs: int
) -> list[_Outcome]:
    """``read_part`` of every task, in the tasks' order: the first in this process, the others
    in ``jobs - 1`` processes of their own meanwhile (this process would wait anyway, and its
    own part's result need not be sent through a pipe).

    Raises what a process raised (or ``BrokenProcessPool`` when one died): the caller then reads
    the file in one pass.
    """
    if len(tasks) < 2 or jobs < 2:
        return [read_part(task) for task in tasks]
    context = multiprocessing.get_context(_start_method())
    workers = min(jobs - 1, len(tasks) - 1)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(read_part, task) for task in tasks[1:]]
        first = read_part(tasks[0])
        return [first, *(future.result() for future in futures)]


def _start_method() -> str:
    """fork where it is safe: the processes start in milliseconds with everything imported. A
    process with other threads (a program that calls the library from one, a test runner) may
    fork while one of them holds a lock the child then waits for forever: there forkserver, or
    spawn, which import mailtls again in each process."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"

"""A log read in parts, a process each, gives the report one pass gives (mailtls.logs.parts)."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import os
import random
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.cli import main
from mailtls.logs import analyse, parts
from mailtls.logs.analyse import analyse_logs
from mailtls.logs.parts import byte_ranges, map_parts, part_count
from mailtls.logs.report import LogsReport
from tests.unit.logs.samples_io import sample_lines
from tests.unit.logs.test_postfix import mutate

_Task = TypeVar("_Task")
_Outcome = TypeVar("_Outcome")

# Real Postfix lines: a fleet's and a relay's logs, and the documentation's examples.
REAL = [
    line
    for name in ("postfix-fleet.log", "postfix-relay.log", "postfix-documented.log")
    for _, line in sample_lines(name)
]


def copies(lines: Sequence[str], times: int) -> list[str]:
    """The lines ``times`` over, each copy's processes numbered apart (so sessions of several
    copies are open at once when the copies are interleaved)."""
    out = []
    for copy in range(times):
        shift = copy * 100_000
        out += [re.sub(r"\[(\d+)\]: ", lambda m, s=shift: f"[{int(m[1]) + s}]: ", line)
                for line in lines]  # fmt: skip
    return out


def interleaved(lines: Sequence[str], times: int, seed: int) -> list[str]:
    """Copies of the lines, merged in an order that keeps each copy's own order."""
    rng = random.Random(seed)
    queues = [copies(lines, times)[i * len(lines) : (i + 1) * len(lines)] for i in range(times)]
    out: list[str] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        out.append(queue.pop(0))
    return out


def without_time(report: LogsReport) -> LogsReport:
    return dataclasses.replace(report, generated_at=None)  # type: ignore[arg-type]


def in_parts_and_whole(path: Path, jobs: int, **options: object) -> tuple[LogsReport, LogsReport]:
    whole = analyse_logs([str(path)], jobs=1, **options)  # type: ignore[arg-type]
    parts = analyse_logs([str(path)], jobs=jobs, min_part_bytes=1, **options)  # type: ignore[arg-type]
    return without_time(whole), without_time(parts)


def in_this_process(
    read_part: Callable[[_Task], _Outcome], tasks: Sequence[_Task], jobs: int
) -> list[_Outcome]:
    """map_parts without processes: for property tests that read hundreds of logs."""
    return [read_part(task) for task in tasks]


def write(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


# --- cutting a file into ranges ---------------------------------------------------------------


def test_ranges_cover_the_file_and_start_at_line_starts(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", REAL)
    data = log.read_bytes()
    for count in (1, 2, 3, 7, 50, len(REAL) * 3):
        ranges = byte_ranges(str(log), len(data), count)
        assert ranges[0][0] == 0
        assert ranges[-1][1] == len(data)
        assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
        assert all(data[start - 1 : start] == b"\n" for start, _ in ranges[1:])
        assert len(ranges) <= count


def test_a_line_longer_than_the_search_is_not_cut(tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    log.write_bytes(b"x" * (3 * 1024 * 1024) + b"\nshort\n")
    ranges = byte_ranges(str(log), log.stat().st_size, 4)
    assert all(start == 0 or log.read_bytes()[start - 1 : start] == b"\n" for start, _ in ranges)


def test_small_files_are_one_part() -> None:
    assert part_count(10 * 1024 * 1024, jobs=8) == 1
    assert part_count(100 * 1024 * 1024, jobs=8) == 3
    assert part_count(10**12, jobs=2) == 2


# --- the same report --------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_real_lines_in_parts_give_the_report_of_one_pass(tmp_path: Path, jobs: int) -> None:
    log = write(tmp_path / "mail.log", interleaved(REAL, times=6, seed=jobs))
    whole, parts = in_parts_and_whole(log, jobs, year=2025, impact=True)
    assert whole.totals == parts.totals
    assert whole == parts
    assert sum(whole.totals.values()) > 100  # sessions enough to cross part boundaries


def pid_of(_: object) -> int:
    return os.getpid()


def test_parts_are_read_in_processes_of_their_own() -> None:
    pids = map_parts(pid_of, range(5), jobs=3)
    assert len(pids) == 5
    assert pids[0] == os.getpid()  # the first part in this process, which would wait anyway
    assert os.getpid() not in pids[1:]
    assert 1 <= len(set(pids[1:])) <= 2  # the others in jobs - 1 processes


@settings(max_examples=60, deadline=None)
@given(
    st.randoms(use_true_random=False),
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=20, max_value=400),
)
def test_mutated_logs_in_any_number_of_parts_give_the_report_of_one_pass(
    rng: random.Random, jobs: int, count: int
) -> None:
    lines = [rng.choice(REAL) for _ in range(count)]
    lines = [mutate(line, rng) if rng.random() < 0.2 else line for line in lines]
    # A few lines longer than the reader takes, which it cuts and counts as unparsed.
    if rng.random() < 0.3:
        at = rng.randrange(len(lines))
        lines[at] = lines[at] + " x" * 40_000
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        log = write(Path(folder) / "mail.log", lines)
        patch.setattr(analyse, "map_parts", in_this_process)
        whole, parts = in_parts_and_whole(log, jobs, year=2025, impact=True)
    assert whole == parts


def test_a_new_year_before_a_part_is_read_again_with_the_next_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documented = [line for line in REAL if line.startswith("Jan 10 ")]
    december = [line.replace("Jan 10", "Dec 31") for line in copies(documented, 3)]
    january = [line.replace("Jan 10", "Jan  1") for line in copies(documented, 3)]
    reads: list[analyse._PartTask] = []
    real_read_part = analyse.read_part

    def counting(task: analyse._PartTask) -> analyse._PartOutcome:
        reads.append(task)
        return real_read_part(task)

    monkeypatch.setattr(analyse, "map_parts", in_this_process)
    monkeypatch.setattr(analyse, "read_part", counting)
    log = write(tmp_path / "mail.log", december + january)
    whole, parts = in_parts_and_whole(log, 4, year=2025)
    assert whole == parts
    assert any(peer.last_seen and peer.last_seen.year == 2026 for peer in parts.peers)
    retried = [task for task in reads if task.last_month is not None and task.byte_range[0] > 0]
    assert retried  # the parts after the new year were read again, knowing the year


def test_files_that_cannot_be_cut_are_read_in_one_pass(tmp_path: Path) -> None:
    lines = interleaved(REAL, times=2, seed=3)
    plain = write(tmp_path / "mail.log", lines)
    zipped = tmp_path / "mail.log.1.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    marked = tmp_path / "bom.log"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    exim = write(tmp_path / "exim.log", [line for _, line in sample_lines("exim-openssl.log")])
    for path in (zipped, marked, exim):
        run = analyse._Run(None, 2025, jobs=4, min_part_bytes=1)
        reader = analyse.LineReader(analyse.expand_sources([str(path)]).sources[0])
        head = next(reader.batches())
        log_format = analyse.detect_format(list(head.texts))
        assert run.parts_of(reader.source, reader, log_format) == [], path.name
        whole, parts = in_parts_and_whole(path, 4, year=2025)
        assert whole == parts


def test_the_command_takes_jobs_and_refuses_nonsense(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", REAL)
    assert main(["logs", "--jobs", "3", "--year", "2025", "--json", str(log)]) in (0, 1)
    with pytest.raises(SystemExit) as refused:
        main(["logs", "--jobs", "0", str(log)])
    assert refused.value.code == 64


def test_a_process_with_threads_reads_parts_without_forking_them(tmp_path: Path) -> None:
    """Forking beside other threads can deadlock the child: then the parts start otherwise."""
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)
    waiting.start()
    try:
        assert parts._start_method() in ("forkserver", "spawn")
        log = write(tmp_path / "mail.log", interleaved(REAL, times=3, seed=5))
        whole, in_parts = in_parts_and_whole(log, 3, year=2025)
        assert whole == in_parts
    finally:
        stop.set()
        waiting.join()

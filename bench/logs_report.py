"""The logs benchmark's tools as command lines, what their outputs say, and the figures. Pure.

Every tool reads the same generated log. Each one's answer is checked against what the
generator knows the log contains (:class:`bench.generate_postfix_log.Truth`), so that a fast
tool that skipped lines cannot pass for a fast tool.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.generate_postfix_log import Truth

TARGET_SPEEDUP_OVER_PFLOGSUMM = 3.0
# "Flat": the peak memory on the largest log is within this factor of the smallest's.
FLAT_MEMORY_FACTOR = 1.10

# The program that reads a log with mailtls's input layer alone and prints the line count:
# the floor for any Python tool built on it.
READ_ONLY_PROGRAM = (
    "import sys\n"
    "from mailtls.logs.inputs import LineReader, Source\n"
    "from pathlib import Path\n"
    "reader = LineReader(Source(sys.argv[1], Path(sys.argv[1])))\n"
    "print(sum(len(batch.texts) for batch in reader.batches()), len(reader.problems))\n"
)


@dataclass(frozen=True)
class Programs:
    grep: str
    pflogsumm: str
    mailtls: tuple[str, ...]  # the console script, as a user runs it
    python: str


@dataclass(frozen=True)
class Verdict:
    right: bool
    detail: str  # what the tool said, briefly, or why it is wrong


@dataclass(frozen=True)
class Variant:
    key: str
    label: str  # the command as the table shows it
    build: Callable[[Programs, Path, Truth], tuple[str, ...]]
    judge: Callable[[str, Truth], Verdict]  # (standard output, truth) -> right?
    exit_codes: frozenset[int]  # the exit codes of a run that did its job


# --- grep ----------------------------------------------------------------------------------------

GREP_PATTERN = "TLS connection established"


def _grep(programs: Programs, log: Path, _truth: Truth) -> tuple[str, ...]:
    return (programs.grep, "-c", GREP_PATTERN, str(log))


def judge_grep(stdout: str, truth: Truth) -> Verdict:
    try:
        count = int(stdout.strip())
    except ValueError:
        return Verdict(False, f"no count: {stdout[:80]!r}")
    return Verdict(count == truth.tls_lines, f"{count} lines (generator: {truth.tls_lines})")


# --- pflogsumm -------------------------------------------------------------------------------


def _pflogsumm(programs: Programs, log: Path, _truth: Truth) -> tuple[str, ...]:
    return (programs.pflogsumm, str(log))


_PFLOGSUMM_TOTALS = re.compile(r"^\s*(\d+)([km]?)\s+(received|delivered|deferred|rejected)\b", re.M)
# pflogsumm shortens large counts: "528k  received" is 528 × 1024 to 529 × 1024 - 1.
_PFLOGSUMM_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def pflogsumm_totals(stdout: str) -> dict[str, tuple[int, str]]:
    """The message counts of pflogsumm's "Grand Totals" (the first of each), with their unit."""
    totals: dict[str, tuple[int, str]] = {}
    for count, unit, name in _PFLOGSUMM_TOTALS.findall(stdout):
        totals.setdefault(name, (int(count), unit))
    return totals


def _agrees(said: tuple[int, str] | None, expected: int) -> bool:
    if said is None:
        return False
    count, unit = said
    step = _PFLOGSUMM_UNITS[unit]
    return count * step <= expected < (count + 1) * step


def judge_pflogsumm(stdout: str, truth: Truth) -> Verdict:
    said = pflogsumm_totals(stdout)
    expected = {
        "received": truth.messages_received,
        "delivered": truth.messages_delivered,
        "deferred": truth.messages_deferred,
        "rejected": truth.rejected,
    }
    shown = {k: "".join(map(str, said[k])) if k in said else "nothing" for k in expected}
    wrong = [
        f"{k} {shown[k]} (generator: {v})"
        for k, v in expected.items()
        if not _agrees(said.get(k), v)
    ]
    if wrong:
        return Verdict(False, "; ".join(wrong))
    return Verdict(True, ", ".join(f"{shown[k]} {k}" for k in expected))


# --- mailtls ---------------------------------------------------------------------------------


def _mailtls(*extra: str) -> Callable[[Programs, Path, Truth], tuple[str, ...]]:
    def build(programs: Programs, log: Path, truth: Truth) -> tuple[str, ...]:
        return (*programs.mailtls, "logs", "--json", *extra, "--year", str(truth.year), str(log))

    return build


def mailtls_sessions(report: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Sessions per "direction/role/kind" and peers per "direction/role" in a JSON report."""
    sessions: dict[str, int] = {}
    peers: dict[str, int] = {}
    for peer in report["peers"]:
        group = f"{peer['direction']}/{peer['role']}"
        peers[group] = peers.get(group, 0) + 1
        for kind, count in peer["sessions"].items():
            if count:
                sessions[f"{group}/{kind}"] = sessions.get(f"{group}/{kind}", 0) + count
    return dict(sorted(sessions.items())), dict(sorted(peers.items()))


def _judge_mailtls(stdout: str, truth: Truth, *, impact: bool) -> Verdict:
    try:
        report = json.loads(stdout)
        sessions, peers = mailtls_sessions(report)
    except (ValueError, KeyError, TypeError) as problem:
        return Verdict(False, f"no JSON report: {problem!r}")
    wrong = [
        f"{key}: {sessions.get(key, 0)} (generator: {truth.sessions.get(key, 0)})"
        for key in sorted(set(sessions) | set(truth.sessions))
        if sessions.get(key, 0) != truth.sessions.get(key, 0)
    ]
    wrong += [
        f"{key} peers: {peers.get(key, 0)} (generator: {truth.peers.get(key, 0)})"
        for key in sorted(set(peers) | set(truth.peers))
        if peers.get(key, 0) != truth.peers.get(key, 0)
    ]
    if impact and not report.get("impact"):
        wrong.append("no impact section")
    if wrong:
        return Verdict(False, "; ".join(wrong[:4]) + (" ..." if len(wrong) > 4 else ""))
    total = sum(sessions.values())
    return Verdict(True, f"{total} sessions of {sum(peers.values())} peers, as generated")


def judge_mailtls(stdout: str, truth: Truth) -> Verdict:
    return _judge_mailtls(stdout, truth, impact=False)


def judge_mailtls_impact(stdout: str, truth: Truth) -> Verdict:
    return _judge_mailtls(stdout, truth, impact=True)


def _read_only(programs: Programs, log: Path, _truth: Truth) -> tuple[str, ...]:
    return (programs.python, "-c", READ_ONLY_PROGRAM, str(log))


def judge_read_only(stdout: str, truth: Truth) -> Verdict:
    try:
        lines, problems = (int(word) for word in stdout.split())
    except ValueError:
        return Verdict(False, f"no count: {stdout[:80]!r}")
    right = lines == truth.lines and problems == 0
    return Verdict(right, f"{lines} lines, {problems} problems (generator: {truth.lines} lines)")


# mailtls's exit codes: 0 all TLS >= 1.2, 1 weaker sessions found, 3 no session at all.
_MAILTLS_EXITS = frozenset({0, 1})

GREP, PFLOGSUMM, MAILTLS, MAILTLS_ONE_PASS, MAILTLS_IMPACT, READ_ONLY = (
    "grep",
    "pflogsumm",
    "mailtls",
    "mailtls-1",
    "mailtls-impact",
    "mailtls-read",
)
VARIANTS: tuple[Variant, ...] = (
    Variant(GREP, f"grep -c '{GREP_PATTERN}'", _grep, judge_grep, frozenset({0})),
    Variant(PFLOGSUMM, "pflogsumm", _pflogsumm, judge_pflogsumm, frozenset({0})),
    Variant(MAILTLS, "mailtls logs --json", _mailtls(), judge_mailtls, _MAILTLS_EXITS),
    # One process, one pass: what one core does (the default reads a large log in parts, one
    # process per usable processor).
    Variant(
        MAILTLS_ONE_PASS,
        "mailtls logs --json --jobs 1",
        _mailtls("--jobs", "1"),
        judge_mailtls,
        _MAILTLS_EXITS,
    ),
    Variant(
        MAILTLS_IMPACT,
        "mailtls logs --json --impact tls12",
        _mailtls("--impact", "tls12"),
        judge_mailtls_impact,
        _MAILTLS_EXITS,
    ),
    Variant(
        READ_ONLY,
        "mailtls input layer alone (LineReader)",
        _read_only,
        judge_read_only,
        frozenset({0}),
    ),
)
# The variants that need the `mailtls logs` command (the input layer alone does not).
NEEDS_LOGS_COMMAND = (MAILTLS, MAILTLS_ONE_PASS, MAILTLS_IMPACT)


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    variant: str
    lines: int  # of the log read
    log_bytes: int
    repetition: int
    wall_seconds: float
    peak_rss_kib: int  # the tool's maximum resident set size (GNU time's %M); 0: unknown
    exit_code: int | None  # None: killed at the time limit
    right: bool
    detail: str
    # The tool's processor time, user + system (GNU time's %U + %S); None: unknown. On a machine
    # that other work shares, wall time also counts waiting for a core; this does not.
    cpu_seconds: float | None = None


@dataclass(frozen=True)
class Summary:
    variant: str
    label: str
    lines: int
    log_bytes: int
    runs: int
    median_seconds: float
    min_seconds: float
    max_seconds: float
    lines_per_second: float  # on the median
    peak_rss_mib: float  # the largest of the runs
    right_runs: int
    detail: str  # of the last run
    speed_vs_pflogsumm: float | None  # pflogsumm's median / this median, same log, same run
    median_cpu_seconds: float | None  # None: a run without its processor time
    cpu_vs_pflogsumm: float | None  # the same ratio, of processor time


def _median_cpu(runs: Sequence[Run]) -> float | None:
    """The median processor time, if every run has one."""
    seconds = [run.cpu_seconds for run in runs if run.cpu_seconds is not None]
    return statistics.median(seconds) if seconds and len(seconds) == len(runs) else None


def summarise(runs: Sequence[Run], labels: Mapping[str, str]) -> tuple[Summary, ...]:
    """One summary per (log size, variant), in the order they were first run."""
    groups: dict[tuple[int, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.lines, run.variant), []).append(run)
    medians = {key: statistics.median(r.wall_seconds for r in g) for key, g in groups.items()}
    cpu_medians = {key: _median_cpu(group) for key, group in groups.items()}
    summaries = []
    for (lines, variant), group in groups.items():
        median = medians[(lines, variant)]
        peer = medians.get((lines, PFLOGSUMM))
        cpu, cpu_peer = cpu_medians[(lines, variant)], cpu_medians.get((lines, PFLOGSUMM))
        summaries.append(
            Summary(
                variant=variant,
                label=labels[variant],
                lines=lines,
                log_bytes=group[0].log_bytes,
                runs=len(group),
                median_seconds=median,
                min_seconds=min(r.wall_seconds for r in group),
                max_seconds=max(r.wall_seconds for r in group),
                lines_per_second=lines / median if median else 0.0,
                peak_rss_mib=max(r.peak_rss_kib for r in group) / 1024,
                right_runs=sum(r.right for r in group),
                detail=group[-1].detail,
                speed_vs_pflogsumm=peer / median if peer and median else None,
                median_cpu_seconds=cpu,
                cpu_vs_pflogsumm=cpu_peer / cpu if cpu_peer and cpu else None,
            )
        )
    return tuple(sorted(summaries, key=lambda s: (s.lines, list(labels).index(s.variant))))


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _rate(lines_per_second: float) -> str:
    if lines_per_second >= 1e6:
        return f"{lines_per_second / 1e6:.2f} M"
    return f"{lines_per_second / 1e3:.0f} k"


def _lines(count: int) -> str:
    """1 000 005 -> "1.0 M lines": the generator writes a few lines more than asked."""
    return f"{count / 1e6:.1f} M lines" if count >= 1e6 else f"{count / 1e3:.0f} k lines"


def markdown_table(summaries: Sequence[Summary]) -> str:
    header = (
        "| log | tool and command | runs | median s | min–max s | lines/s | peak RSS MiB "
        "| right answer | speed ÷ pflogsumm | median CPU s | CPU speed ÷ pflogsumm |\n"
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"
    )
    rows = []
    for s in summaries:
        ratio = "–" if s.speed_vs_pflogsumm is None else f"{s.speed_vs_pflogsumm:.2f}×"
        cpu = "–" if s.median_cpu_seconds is None else _seconds(s.median_cpu_seconds)
        cpu_ratio = "–" if s.cpu_vs_pflogsumm is None else f"{s.cpu_vs_pflogsumm:.2f}×"
        answer = f"{s.right_runs}/{s.runs}"
        if s.right_runs < s.runs:
            answer += f" ({s.detail})"
        rows.append(
            f"| {_lines(s.lines)}, {s.log_bytes / 2**20:.0f} MiB | `{s.label}` | {s.runs} "
            f"| {_seconds(s.median_seconds)} | {_seconds(s.min_seconds)}–"
            f"{_seconds(s.max_seconds)} | {_rate(s.lines_per_second)} | {s.peak_rss_mib:.1f} "
            f"| {answer} | {ratio} | {cpu} | {cpu_ratio} |"
        )
    return "\n".join([header, *rows])


@dataclass(frozen=True)
class TargetCheck:
    name: str
    met: bool | None  # None: not measured in this run
    detail: str


def check_targets(
    summaries: Sequence[Summary], main_lines: int, peers: Mapping[int, int]
) -> tuple[TargetCheck, ...]:
    """The issue's targets; ``peers``: distinct peers in the log of each size."""
    ours = {(s.lines, s.variant): s for s in summaries}
    main = ours.get((main_lines, MAILTLS))
    if main is None or main.speed_vs_pflogsumm is None:
        speed = TargetCheck(
            f">= {TARGET_SPEEDUP_OVER_PFLOGSUMM:g}× pflogsumm's speed",
            None,
            "not measured: mailtls logs or pflogsumm did not run",
        )
    else:
        speed = TargetCheck(
            f">= {TARGET_SPEEDUP_OVER_PFLOGSUMM:g}× pflogsumm's speed",
            main.speed_vs_pflogsumm >= TARGET_SPEEDUP_OVER_PFLOGSUMM and main.right_runs > 0,
            f"{main.speed_vs_pflogsumm:.2f}× on {_lines(main_lines)} "
            f"({_rate(main.lines_per_second)} lines/s)"
            + (
                f"; by processor time {main.cpu_vs_pflogsumm:.2f}×"
                if main.cpu_vs_pflogsumm is not None
                else ""
            ),
        )
    sizes = sorted({s.lines for s in summaries if s.variant == MAILTLS})
    larger = [size for size in sizes if size > main_lines]
    if len(sizes) < 2:
        memory = TargetCheck("memory flat in the file size", None, "fewer than two log sizes")
    else:
        # The peer table grows with the number of distinct peers, which a longer log may also
        # have more of; the generator's peers are all seen by the main log, so from there on
        # only the file grows.
        base = main_lines if larger else sizes[0]
        small, large = ours[(base, MAILTLS)], ours[(sizes[-1], MAILTLS)]
        growth = large.peak_rss_mib / small.peak_rss_mib
        every = ", ".join(
            f"{ours[(size, MAILTLS)].peak_rss_mib:.1f} MiB at {_lines(size)}"
            + (f" ({peers[size]} peers)" if size in peers else "")
            for size in sizes
        )
        memory = TargetCheck(
            "memory flat in the file size",
            growth <= FLAT_MEMORY_FACTOR,
            f"{growth:.2f}× from {_lines(base)} to {_lines(sizes[-1])}; peak RSS {every}",
        )
    return speed, memory


def targets_text(checks: Sequence[TargetCheck]) -> str:
    words = {True: "met", False: "NOT met", None: "not measured"}
    return "\n".join(f"- {words[c.met]}: {c.name} — {c.detail}" for c in checks)

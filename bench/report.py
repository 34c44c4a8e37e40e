"""Raw runs to figures: medians, connection counts, right answers, ratios, the targets. Pure."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# The targets for one address on loopback without greeting delay.
TARGET_SECONDS = 1.0
TARGET_CONNECTIONS = 7
TARGET_SPEEDUP_OVER_TESTSSL = 20.0


@dataclass(frozen=True)
class Run:
    """One timed run of one tool against one address."""

    posture: str
    address: str
    variant: str
    repetition: int
    wall_seconds: float
    exit_code: int | None  # None: killed at the time limit
    connections: int  # from the Postfix log: sessions of this listener during the run
    connections_settled: bool
    reported_connections: int | None  # what the tool itself says (mailtls only)
    answers: dict[str, bool | None]  # TLS version -> accepted?, as the tool says
    right: bool  # every version's answer matches the listener's configuration
    problem: str | None  # the tool's failure, or which answers were wrong


@dataclass(frozen=True)
class Summary:
    posture: str
    address: str
    variant: str
    label: str
    runs: int
    median_seconds: float
    min_seconds: float
    max_seconds: float
    min_connections: int
    max_connections: int
    right_runs: int
    problems: tuple[str, ...]
    # Runs where the tool's own connection count differs from the server log's; None: the tool
    # does not count (only mailtls reports its connections).
    own_count_mismatches: int | None
    slower_than_baseline: float | None  # this variant's median / mailtls check's median


def summarise(runs: Sequence[Run], labels: dict[str, str], baseline: str) -> tuple[Summary, ...]:
    """One summary per (posture, variant), in the order they were first run."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.posture, run.variant), []).append(run)
    medians = {
        key: statistics.median(r.wall_seconds for r in group) for key, group in groups.items()
    }
    summaries = []
    for (posture, variant), group in groups.items():
        base = medians.get((posture, baseline))
        median = medians[(posture, variant)]
        summaries.append(
            Summary(
                posture=posture,
                address=group[0].address,
                variant=variant,
                label=labels[variant],
                runs=len(group),
                median_seconds=median,
                min_seconds=min(r.wall_seconds for r in group),
                max_seconds=max(r.wall_seconds for r in group),
                min_connections=min(r.connections for r in group),
                max_connections=max(r.connections for r in group),
                right_runs=sum(r.right for r in group),
                problems=tuple(dict.fromkeys(r.problem for r in group if r.problem)),
                own_count_mismatches=_own_count_mismatches(group),
                slower_than_baseline=median / base if base else None,
            )
        )
    return tuple(summaries)


def _own_count_mismatches(group: Sequence[Run]) -> int | None:
    counted = [r for r in group if r.reported_connections is not None]
    if not counted:
        return None
    return sum(r.reported_connections != r.connections for r in counted)


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _connections(summary: Summary) -> str:
    if summary.min_connections == summary.max_connections:
        text = str(summary.min_connections)
    else:
        text = f"{summary.min_connections}–{summary.max_connections}"
    if summary.own_count_mismatches == 0:
        text += " (= own count)"
    elif summary.own_count_mismatches:
        text += f" (own count differs in {summary.own_count_mismatches} runs)"
    return text


def _ratio(summary: Summary, baseline: str) -> str:
    if summary.variant == baseline or summary.slower_than_baseline is None:
        return "1" if summary.variant == baseline else "–"
    ratio = summary.slower_than_baseline
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.3f}×"


def markdown_table(summaries: Sequence[Summary], baseline: str) -> str:
    header = (
        "| address | tool and command | median s | min s | max s | connections "
        "| right answer | time ÷ mailtls check |\n"
        "|---|---|---:|---:|---:|---:|---|---:|"
    )
    rows = []
    for s in summaries:
        answer = f"{s.right_runs}/{s.runs}"
        if s.problems:
            answer += f" ({s.problems[0]})"
        rows.append(
            f"| {s.address} ({s.posture}) | `{s.label}` | {_seconds(s.median_seconds)} "
            f"| {_seconds(s.min_seconds)} | {_seconds(s.max_seconds)} | {_connections(s)} "
            f"| {answer} | {_ratio(s, baseline)} |"
        )
    return "\n".join([header, *rows])


@dataclass(frozen=True)
class TargetCheck:
    name: str
    met: bool
    detail: str


def check_targets(
    summaries: Sequence[Summary], runs: Sequence[Run], baseline: str, testssl: str
) -> tuple[TargetCheck, ...]:
    ours = [s for s in summaries if s.variant == baseline]
    slowest = max(ours, key=lambda s: s.median_seconds)
    slowest_run = max((r for r in runs if r.variant == baseline), key=lambda r: r.wall_seconds)
    most = max(ours, key=lambda s: s.max_connections)
    peers = [s for s in summaries if s.variant == testssl and s.slower_than_baseline is not None]
    answered = [s for s in peers if s.right_runs == s.runs]
    failed = [s for s in peers if s.right_runs < s.runs]
    speedup = min(answered, key=lambda s: s.slower_than_baseline or 0.0) if answered else None
    speed_detail = (
        f"lowest ratio {speedup.slower_than_baseline:.1f}× ({speedup.posture}), over the "
        f"{len(answered)} address(es) testssl.sh could test"
        if speedup and speedup.slower_than_baseline
        else "testssl.sh answered for no address"
    )
    if failed:
        speed_detail += "; testssl.sh failed on " + ", ".join(
            f"{s.posture} ({s.slower_than_baseline:.1f}× on time to failure)" for s in failed
        )
    return (
        TargetCheck(
            f"full verdict < {TARGET_SECONDS:g} s per address",
            slowest.median_seconds < TARGET_SECONDS and slowest_run.wall_seconds < TARGET_SECONDS,
            f"slowest median {slowest.median_seconds:.3f} s ({slowest.posture}), slowest run "
            f"{slowest_run.wall_seconds:.3f} s ({slowest_run.posture})",
        ),
        TargetCheck(
            f"<= {TARGET_CONNECTIONS} connections per address",
            most.max_connections <= TARGET_CONNECTIONS,
            f"at most {most.max_connections} ({most.posture})",
        ),
        TargetCheck(
            f">= {TARGET_SPEEDUP_OVER_TESTSSL:g}× faster than testssl.sh -p",
            speedup is not None
            and (speedup.slower_than_baseline or 0.0) >= TARGET_SPEEDUP_OVER_TESTSSL,
            speed_detail,
        ),
    )


def targets_text(checks: Sequence[TargetCheck]) -> str:
    return "\n".join(f"- {'met' if c.met else 'NOT met'}: {c.name} — {c.detail}" for c in checks)

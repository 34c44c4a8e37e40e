"""Runs of ``mailtls scan`` and testssl.sh to figures, tables and the targets' outcome. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The targets for a bulk scan with shared MX hosts on this 2-core machine.
TARGET_DOMAINS_PER_MINUTE = 3000.0
TARGET_SIZE = 10_000  # the list the speed target is read on
# Memory "does not grow with the list length": the largest list's peak may exceed the
# smallest's by at most this share (the interpreter, imports and caches of fixed size).
FLAT_MEMORY_TOLERANCE = 0.10


@dataclass(frozen=True)
class ScanRun:
    """One timed run of one command over one list."""

    key: str  # scenario: shared, shared-postgresql, distinct, distinct-concurrency, subset, ...
    tool: str  # "mailtls" or "testssl.sh"
    store: str | None  # "sqlite" or "postgresql" (mailtls only)
    domains: int  # lines of the list (addresses for testssl.sh)
    wall_seconds: float  # whole command, start-up and list import included
    peak_rss_kib: int | None  # GNU time %M of the tool's process
    cpu_seconds: float | None  # user + system of the tool (and its children)
    exit_code: int | None  # None: killed at the time limit
    completed: int | None  # results stored (mailtls's JSON summary)
    endpoints_probed: int | None
    endpoints_reused: int | None
    connections: int | None  # the tool's own count (mailtls's JSON summary)
    server_connections: int  # smtpd sessions the fleet's Postfix logged during the run
    server_connections_settled: bool
    deadline_hits: int | None
    right: int | None  # addresses answered right (subset runs only)
    right_of: int | None
    problems: tuple[str, ...]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    argv: tuple[str, ...]

    @property
    def domains_per_minute(self) -> float:
        return self.domains / self.wall_seconds * 60 if self.wall_seconds > 0 else 0.0

    @property
    def connections_per_domain(self) -> float:
        counted = self.connections if self.connections is not None else self.server_connections
        return counted / self.domains if self.domains else 0.0


@dataclass(frozen=True)
class Target:
    name: str
    met: bool | None  # None: not measured
    detail: str


def _mib(kib: int | None) -> str:
    return f"{kib / 1024:.1f}" if kib else "-"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}".replace(",", " ")


def scan_table(runs: Sequence[ScanRun], labels: dict[str, str]) -> str:
    header = (
        "| scenario | store | domains | wall s | domains/min | connections (own / server) "
        "| per domain | addresses probed | peak RSS MiB | CPU s | stored |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [
        f"| {labels.get(run.key, run.key)} | {run.store or '-'} | {_number(run.domains)} "
        f"| {run.wall_seconds:.1f} | **{_number(run.domains_per_minute)}** "
        f"| {_number(run.connections)} / {_number(run.server_connections)}"
        f"{'' if run.server_connections_settled else ' (unsettled)'} "
        f"| {run.connections_per_domain:.3f} | {_number(run.endpoints_probed)} "
        f"| {_mib(run.peak_rss_kib)} | {_number(run.cpu_seconds, 1)} "
        f"| {_number(run.completed)}/{_number(run.domains)} |"
        for run in runs
        if run.tool == "mailtls" and not run.key.startswith("subset")
    ]
    return "\n".join([header, *rows])


def subset_table(runs: Sequence[ScanRun], labels: dict[str, str]) -> str:
    subset = [run for run in runs if run.key.startswith("subset")]
    header = (
        "| tool | command | domains / addresses | wall s | per minute | connections (server) "
        "| right answers | speed ÷ testssl.sh |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|"
    )
    testssl = next((run for run in subset if run.tool == "testssl.sh"), None)
    rows = []
    for run in subset:
        ratio = (
            f"{run.domains_per_minute / testssl.domains_per_minute:.1f}×"
            if testssl and testssl.domains_per_minute > 0
            else "-"
        )
        rows.append(
            f"| {run.tool} | `{labels.get(run.key, run.key)}` | {run.domains} "
            f"| {run.wall_seconds:.1f} | {_number(run.domains_per_minute, 1)} "
            f"| {run.server_connections} | {run.right}/{run.right_of} | {ratio} |"
        )
    return "\n".join([header, *rows])


def check_targets(runs: Sequence[ScanRun]) -> list[Target]:
    shared = sorted(
        (run for run in runs if run.key == "shared" and run.store == "sqlite"),
        key=lambda run: run.domains,
    )
    targets = []
    headline = next((run for run in shared if run.domains == TARGET_SIZE), None)
    if headline is None:
        targets.append(Target("speed", None, f"no shared run of {TARGET_SIZE} domains"))
    else:
        rate = headline.domains_per_minute
        targets.append(
            Target(
                f">= {TARGET_DOMAINS_PER_MINUTE:,.0f} domains/min, shared MX, {TARGET_SIZE:,}",
                rate >= TARGET_DOMAINS_PER_MINUTE and headline.completed == headline.domains,
                f"{rate:,.0f} domains/min ({headline.wall_seconds:.1f} s, "
                f"{headline.completed} of {headline.domains} stored)",
            )
        )
    measured = [(run, run.peak_rss_kib) for run in shared if run.peak_rss_kib]
    if len(measured) < 2:
        targets.append(Target("memory", None, "fewer than two list sizes measured"))
    else:
        (small, small_kib), (large, large_kib) = measured[0], measured[-1]
        growth = large_kib / small_kib - 1
        sizes = ", ".join(f"{_number(run.domains)}: {_mib(kib)} MiB" for run, kib in measured)
        targets.append(
            Target(
                "memory flat in the list length",
                growth <= FLAT_MEMORY_TOLERANCE,
                f"peak RSS {sizes} ({growth:+.0%} from {_number(small.domains)} "
                f"to {_number(large.domains)} domains)",
            )
        )
    return targets


def targets_text(targets: Sequence[Target]) -> str:
    def outcome(met: bool | None) -> str:
        return "not measured" if met is None else ("met" if met else "NOT met")

    return "\n".join(f"- {t.name}: **{outcome(t.met)}**: {t.detail}" for t in targets)

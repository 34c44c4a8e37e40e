"""What changed between two runs: domains that got better or worse, new and resolved findings.

Pure: ``diff_runs`` takes two runs' domain reports (any iterables, each walked once) and returns
a :class:`RunDiff`. Domains are matched by their target as a user writes it (``example.com``,
``[mx.example.net]``, ``[192.0.2.1]:2525``); a domain listed twice in one run counts once (the
first report).

*Better* and *worse* follow ``summary.posture_key``: Exchange Online inbound readiness first (not
tested < plaintext fallback < TLS 1.2), then the best TLS every tested address offers (not tested
< no TLS < 1.0 < 1.1 < 1.2 < 1.3), then the worst severity (critical < warning < info < none).
So a domain whose server stopped answering counts as worse: nothing is known to work any more.

A finding is identified by its code, MX host and address (IP and port), never by its message:
messages carry numbers that change from run to run ("expires in 12 days"). A domain whose posture
is the same but whose findings differ is listed as ``Movement.SAME`` with those findings.

Memory: the old run's summaries and finding keys are held while the new run is walked (a few
hundred bytes per finding); the reports themselves are not kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mailtls.models import DomainReport, Finding, FindingCode, RunInfo, Severity
from mailtls.reports.summary import (
    DomainSummary,
    RunSummary,
    RunTally,
    posture_key,
    summarise_domain,
)


class Movement(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"  # same posture; findings came or went


@dataclass(frozen=True)
class LocatedFinding:
    """A finding and where it applies: the domain itself, an MX host, or one address."""

    finding: Finding
    mx_host: str | None  # None for a finding about the domain as a whole
    address: str | None  # "192.0.2.1:25", "[2001:db8::1]:25"; None above address level

    @property
    def key(self) -> tuple[FindingCode, str, str]:
        return (self.finding.code, self.mx_host or "", self.address or "")


@dataclass(frozen=True)
class DomainChange:
    domain: str
    movement: Movement
    old: DomainSummary
    new: DomainSummary
    new_findings: tuple[LocatedFinding, ...]  # worst first
    resolved_findings: tuple[LocatedFinding, ...]  # as the old run had them, worst first


@dataclass(frozen=True)
class RunDiff:
    old: RunSummary
    new: RunSummary
    changed: tuple[DomainChange, ...]  # in both runs, posture or findings differ; by name
    only_old: tuple[DomainSummary, ...]  # by name
    only_new: tuple[DomainSummary, ...]  # by name
    unchanged: int  # in both runs, same posture and the same findings

    @property
    def better(self) -> tuple[DomainChange, ...]:
        return tuple(c for c in self.changed if c.movement is Movement.BETTER)

    @property
    def worse(self) -> tuple[DomainChange, ...]:
        return tuple(c for c in self.changed if c.movement is Movement.WORSE)

    @property
    def needs_attention(self) -> bool:
        """A domain moved down, or gained a finding to act on (not only information)."""
        return bool(self.worse) or any(
            located.finding.severity is not Severity.INFO
            for change in self.changed
            for located in change.new_findings
        )


def located_findings(report: DomainReport) -> dict[tuple[FindingCode, str, str], LocatedFinding]:
    """Every finding of the domain by its key; the first of two with one key is kept."""
    located = [LocatedFinding(finding, None, None) for finding in report.findings]
    for host in report.mx_hosts:
        located.extend(LocatedFinding(finding, host.host, None) for finding in host.findings)
        for address in host.addresses:
            where = str(address.endpoint)
            located.extend(LocatedFinding(f, host.host, where) for f in address.findings)
    keyed: dict[tuple[FindingCode, str, str], LocatedFinding] = {}
    for item in located:
        keyed.setdefault(item.key, item)
    return keyed


def diff_runs(
    old: RunInfo,
    old_domains: Iterable[DomainReport],
    new: RunInfo,
    new_domains: Iterable[DomainReport],
) -> RunDiff:
    old_tally = RunTally()
    remembered: dict[str, tuple[DomainSummary, dict[tuple[FindingCode, str, str], LocatedFinding]]]
    remembered = {}
    for report in old_domains:
        summary = summarise_domain(report)
        if summary.domain not in remembered:
            old_tally.add(summary)
            remembered[summary.domain] = (summary, located_findings(report))

    new_tally = RunTally()
    seen_new: set[str] = set()
    changed: list[DomainChange] = []
    only_new: list[DomainSummary] = []
    unchanged = 0
    for report in new_domains:
        summary = summarise_domain(report)
        if summary.domain in seen_new:
            continue
        seen_new.add(summary.domain)
        new_tally.add(summary)
        before = remembered.pop(summary.domain, None)
        if before is None:
            only_new.append(summary)
            continue
        change = _compare(before[0], before[1], summary, located_findings(report))
        if change is None:
            unchanged += 1
        else:
            changed.append(change)

    return RunDiff(
        old=old_tally.result(old),
        new=new_tally.result(new),
        changed=tuple(sorted(changed, key=lambda change: change.domain)),
        only_old=tuple(sorted((s for s, _ in remembered.values()), key=lambda s: s.domain)),
        only_new=tuple(sorted(only_new, key=lambda summary: summary.domain)),
        unchanged=unchanged,
    )


def _compare(
    old: DomainSummary,
    old_findings: dict[tuple[FindingCode, str, str], LocatedFinding],
    new: DomainSummary,
    new_findings: dict[tuple[FindingCode, str, str], LocatedFinding],
) -> DomainChange | None:
    before, after = posture_key(old), posture_key(new)
    movement = (
        Movement.BETTER if after > before else Movement.WORSE if after < before else Movement.SAME
    )
    appeared = [item for key, item in new_findings.items() if key not in old_findings]
    resolved = [item for key, item in old_findings.items() if key not in new_findings]
    if movement is Movement.SAME and not appeared and not resolved:
        return None
    return DomainChange(
        domain=new.domain,
        movement=movement,
        old=old,
        new=new,
        new_findings=_ordered(appeared),
        resolved_findings=_ordered(resolved),
    )


def _ordered(findings: list[LocatedFinding]) -> tuple[LocatedFinding, ...]:
    return tuple(
        sorted(findings, key=lambda item: (-item.finding.severity.rank, *item.key)),
    )

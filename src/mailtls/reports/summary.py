"""What a run's reports say at a glance: one summary per domain, and the run's totals (pure).

Decisions every report and the run diff rely on:

- **Best TLS of a domain** is the highest TLS version that *every tested address* of the domain
  offers: the minimum, over the tested addresses, of each address's highest accepted version.
  A sender reaches whichever MX address answers (preference order, fallback, round robin), so a
  domain is only as good as its weakest address. An address without STARTTLS, or whose every
  handshake fails, offers ``NO_TLS``. Addresses that could not be tested (timeouts, 421, refused)
  do not count; a domain with no tested address is ``NOT_TESTED``.
- **Exchange Online readiness** is the domain verdict of ``policy.domain``: inbound (Exchange
  Online delivering to the domain) and outbound (inferred from the domain's own TLS stack).
- **Finding counts** count every place a finding applies (domain, MX host, each address); the
  run's finding tallies count *domains* per code, the number that matters to someone fixing them.
- **Posture order** (``posture_key``), used by the run diff and by "needing attention" lists:
  Exchange Online inbound readiness first (not tested < plaintext fallback < TLS 1.2: nothing
  known to work sorts below plaintext), then best TLS (not tested < no TLS < 1.0 < 1.1 < 1.2 <
  1.3), then worst severity (critical < warning < info < no finding).

``summarise_run`` takes any iterable and walks it once, keeping counters only: the store may hand
it an iterator over a hundred thousand domains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mailtls.models import (
    AddressReport,
    AddressStatus,
    DomainReport,
    ExoInbound,
    ExoOutbound,
    FindingCode,
    RunInfo,
    Severity,
    Target,
    TargetKind,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import CODES
from mailtls.policy.domain import TESTED_STATUSES, all_findings

SMTP_PORT = 25
TOP_FINDINGS = 10


class BestTls(StrEnum):
    """The best TLS every tested address of a domain offers; declared best first."""

    TLS1_3 = "TLSv1.3"
    TLS1_2 = "TLSv1.2"
    TLS1_1 = "TLSv1.1"
    TLS1_0 = "TLSv1"
    NO_TLS = "no_tls"  # plaintext only: no STARTTLS, or no handshake succeeds
    NOT_TESTED = "not_tested"

    @property
    def rank(self) -> int:
        return _BEST_TLS_RANK[self]


_BEST_TLS_RANK = {
    BestTls.NOT_TESTED: 0,
    BestTls.NO_TLS: 1,
    BestTls.TLS1_0: 10,
    BestTls.TLS1_1: 11,
    BestTls.TLS1_2: 12,
    BestTls.TLS1_3: 13,
}
_BEST_TLS_OF_VERSION = {
    TlsVersion.TLS1_0: BestTls.TLS1_0,
    TlsVersion.TLS1_1: BestTls.TLS1_1,
    TlsVersion.TLS1_2: BestTls.TLS1_2,
    TlsVersion.TLS1_3: BestTls.TLS1_3,
}


class DomainStatus(StrEnum):
    """How far the run got with a domain; only ``TESTED`` domains have TLS facts."""

    TESTED = "tested"  # at least one address could be tested
    UNREACHABLE = "unreachable"  # addresses found, none testable (timeout, 421, refused, ...)
    NO_ADDRESS = "no_address"  # the DNS answered, but no MX host has an address
    NULL_MX = "null_mx"  # the domain accepts no mail (RFC 7505)
    NXDOMAIN = "nxdomain"  # the domain does not exist
    DNS_FAILED = "dns_failed"  # SERVFAIL, time-out or another resolver failure


_DNS_FAILURE_CODES = frozenset(
    {FindingCode.DNS_SERVFAIL, FindingCode.DNS_TIMEOUT, FindingCode.DNS_ERROR}
)

# Readiness as the posture order sees it: nothing known to work sorts below plaintext.
_INBOUND_RANK = {ExoInbound.NOT_TESTED: 0, ExoInbound.PLAINTEXT_FALLBACK: 1, ExoInbound.TLS12: 2}


@dataclass(frozen=True)
class ProductSeen:
    """A mail server product recognised at one or more addresses of a domain."""

    name: str
    version: str | None

    def __str__(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class CodeCount:
    code: FindingCode
    severity: Severity
    count: int  # places the finding applies: the domain, an MX host, each address


@dataclass(frozen=True)
class DomainSummary:
    domain: str  # the target as a user writes it: example.com, [mx.example.net], [192.0.2.1]:2525
    status: DomainStatus
    best_tls: BestTls
    exo_inbound: ExoInbound
    exo_outbound: ExoOutbound
    worst_severity: Severity | None  # None: no finding at all
    severity_counts: dict[Severity, int]  # every severity, worst first
    codes: tuple[CodeCount, ...]  # worst first, then by code
    mx_hosts: tuple[str, ...]
    addresses: int
    tested_addresses: int
    products: tuple[ProductSeen, ...]  # in the order the addresses were met


@dataclass(frozen=True)
class FindingTally:
    code: FindingCode
    severity: Severity
    title: str
    domains: int  # domains with at least one such finding
    occurrences: int  # every place it applies, over all domains


@dataclass(frozen=True)
class ProductTally:
    name: str
    domains: int


@dataclass(frozen=True)
class RunSummary:
    run: RunInfo
    domains: int
    by_status: dict[DomainStatus, int]  # every member, in declaration order
    by_best_tls: dict[BestTls, int]
    by_exo_inbound: dict[ExoInbound, int]
    by_exo_outbound: dict[ExoOutbound, int]
    by_worst_severity: dict[Severity, int]  # domains whose worst finding has that severity
    without_findings: int
    findings: tuple[FindingTally, ...]  # every code seen: most domains first, then worst first
    products: tuple[ProductTally, ...]  # most domains first

    def top_findings(self, limit: int = TOP_FINDINGS) -> tuple[FindingTally, ...]:
        return self.findings[:limit]


def target_label(target: Target) -> str:
    """The target as a user writes it: ``example.com``, ``[mx.example.net]``, ``[ip]:2525``."""
    name = target.name if target.kind is TargetKind.DOMAIN else f"[{target.name}]"
    return name if target.port == SMTP_PORT else f"{name}:{target.port}"


def address_best_tls(address: AddressReport) -> BestTls | None:
    """The highest version the address accepts; None when it could not be tested."""
    if address.status not in TESTED_STATUSES:
        return None
    if address.starttls is False or address.status is AddressStatus.TLS_FAILED:
        return BestTls.NO_TLS
    accepted = [v for v, s in address.tls_versions.items() if s is VersionSupport.SUPPORTED]
    if address.negotiated is not None:
        accepted.append(address.negotiated.version)
    if not accepted:
        return None  # the probes that would tell did not run
    return _BEST_TLS_OF_VERSION[max(accepted, key=lambda version: version.rank)]


def summarise_domain(report: DomainReport) -> DomainSummary:
    addresses = [address for host in report.mx_hosts for address in host.addresses]
    findings = all_findings(report)
    counts: Counter[FindingCode] = Counter(finding.code for finding in findings)
    severity_of: dict[FindingCode, Severity] = {}
    for finding in findings:
        known = severity_of.get(finding.code)
        if known is None or finding.severity.rank > known.rank:
            severity_of[finding.code] = finding.severity
    codes = tuple(
        sorted(
            (CodeCount(code, severity_of[code], count) for code, count in counts.items()),
            key=lambda item: (-item.severity.rank, item.code.value),
        )
    )
    severity_counts = dict.fromkeys(_SEVERITIES_WORST_FIRST, 0)
    for finding in findings:
        severity_counts[finding.severity] += 1
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return DomainSummary(
        domain=target_label(report.target),
        status=_status(report, addresses),
        best_tls=_domain_best_tls(addresses),
        exo_inbound=report.verdict.inbound,
        exo_outbound=report.verdict.outbound,
        worst_severity=worst,
        severity_counts=severity_counts,
        codes=codes,
        mx_hosts=tuple(host.host for host in report.mx_hosts),
        addresses=len(addresses),
        tested_addresses=sum(1 for a in addresses if a.status in TESTED_STATUSES),
        products=_products(addresses),
    )


_SEVERITIES_WORST_FIRST = tuple(sorted(Severity, key=lambda s: -s.rank))


def _domain_best_tls(addresses: list[AddressReport]) -> BestTls:
    ranked = [best for a in addresses if (best := address_best_tls(a)) is not None]
    return min(ranked, key=lambda best: best.rank, default=BestTls.NOT_TESTED)


def _status(report: DomainReport, addresses: list[AddressReport]) -> DomainStatus:
    if any(a.status in TESTED_STATUSES for a in addresses):
        return DomainStatus.TESTED
    if addresses:
        return DomainStatus.UNREACHABLE
    codes = {finding.code for finding in report.findings}
    codes.update(finding.code for host in report.mx_hosts for finding in host.findings)
    if FindingCode.NULL_MX in codes:
        return DomainStatus.NULL_MX
    if FindingCode.DOMAIN_NXDOMAIN in codes:
        return DomainStatus.NXDOMAIN
    if codes & _DNS_FAILURE_CODES:
        return DomainStatus.DNS_FAILED
    return DomainStatus.NO_ADDRESS


def _products(addresses: list[AddressReport]) -> tuple[ProductSeen, ...]:
    seen: dict[ProductSeen, None] = {}
    for address in addresses:
        guess = address.product
        if guess.product is not None:
            seen.setdefault(ProductSeen(guess.name, guess.version), None)
    return tuple(seen)


def posture_key(summary: DomainSummary) -> tuple[int, int, int]:
    """Sorts worst posture first: Exchange Online inbound, then best TLS, then worst severity."""
    worst = summary.worst_severity
    return (
        _INBOUND_RANK[summary.exo_inbound],
        summary.best_tls.rank,
        0 if worst is None else -1 - worst.rank,
    )


class RunTally:
    """Counters over domain summaries, fed one at a time (for renderers that walk domains once)."""

    def __init__(self) -> None:
        self.domains = 0
        self._status: Counter[DomainStatus] = Counter()
        self._best_tls: Counter[BestTls] = Counter()
        self._inbound: Counter[ExoInbound] = Counter()
        self._outbound: Counter[ExoOutbound] = Counter()
        self._worst: Counter[Severity] = Counter()
        self._without_findings = 0
        self._code_domains: Counter[FindingCode] = Counter()
        self._code_occurrences: Counter[FindingCode] = Counter()
        self._code_severity: dict[FindingCode, Severity] = {}
        self._products: Counter[str] = Counter()

    def add(self, summary: DomainSummary) -> None:
        self.domains += 1
        self._status[summary.status] += 1
        self._best_tls[summary.best_tls] += 1
        self._inbound[summary.exo_inbound] += 1
        self._outbound[summary.exo_outbound] += 1
        if summary.worst_severity is None:
            self._without_findings += 1
        else:
            self._worst[summary.worst_severity] += 1
        for item in summary.codes:
            self._code_domains[item.code] += 1
            self._code_occurrences[item.code] += item.count
            known = self._code_severity.get(item.code)
            if known is None or item.severity.rank > known.rank:
                self._code_severity[item.code] = item.severity
        for name in dict.fromkeys(product.name for product in summary.products):
            self._products[name] += 1

    def result(self, run: RunInfo) -> RunSummary:
        findings = sorted(
            (
                FindingTally(
                    code=code,
                    severity=self._code_severity[code],
                    title=CODES[code].title,
                    domains=domains,
                    occurrences=self._code_occurrences[code],
                )
                for code, domains in self._code_domains.items()
            ),
            key=lambda tally: (-tally.domains, -tally.severity.rank, tally.code.value),
        )
        products = sorted(self._products.items(), key=lambda item: (-item[1], item[0]))
        return RunSummary(
            run=run,
            domains=self.domains,
            by_status={status: self._status[status] for status in DomainStatus},
            by_best_tls={best: self._best_tls[best] for best in BestTls},
            by_exo_inbound={inbound: self._inbound[inbound] for inbound in ExoInbound},
            by_exo_outbound={outbound: self._outbound[outbound] for outbound in ExoOutbound},
            by_worst_severity={s: self._worst[s] for s in _SEVERITIES_WORST_FIRST},
            without_findings=self._without_findings,
            findings=tuple(findings),
            products=tuple(ProductTally(name, count) for name, count in products),
        )


def summarise_run(info: RunInfo, domains: Iterable[DomainReport]) -> RunSummary:
    """The run's totals, in one pass over ``domains`` (any iterable, held one at a time)."""
    tally = RunTally()
    for report in domains:
        tally.add(summarise_domain(report))
    return tally.result(info)

"""Judge a whole target: DNS findings, per-MX-host findings, the domain's verdict, exit codes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime

from mailtls.knowledge.remedies import AddressFacts, remedy_for
from mailtls.models import (
    AddressReport,
    AddressStatus,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    Endpoint,
    ExoInbound,
    ExoOutbound,
    ExoVerdict,
    Finding,
    FindingCode,
    MxHostReport,
    Severity,
)
from mailtls.policy.codes import finding
from mailtls.resolution import MxKind, ResolvedHost, ResolvedTarget

TESTED_STATUSES = frozenset({AddressStatus.OK, AddressStatus.TLS_FAILED})

_DNS_FAILURE_CODE = {
    DnsStatus.NXDOMAIN: FindingCode.DOMAIN_NXDOMAIN,
    DnsStatus.SERVFAIL: FindingCode.DNS_SERVFAIL,
    DnsStatus.TIMEOUT: FindingCode.DNS_TIMEOUT,
    DnsStatus.ERROR: FindingCode.DNS_ERROR,
}


def _dns_failure(outcome: DnsOutcome) -> Finding:
    code = _DNS_FAILURE_CODE.get(outcome.status, FindingCode.DNS_ERROR)
    return finding(code, f"{outcome.rdtype} {outcome.name}: {outcome.status} ({outcome.detail})")


def _with_remedies(findings: Iterable[Finding], mx_host: str | None) -> tuple[Finding, ...]:
    """DNS findings get the generic fix: no server was reached, so no product is known."""
    facts = AddressFacts(mx_host=mx_host)
    return tuple(
        dataclasses.replace(found, remedy=remedy_for(found.code, None, facts)) for found in findings
    )


def _host_findings(host: ResolvedHost, *, family_filtered: bool) -> list[Finding]:
    if host.addresses or not host.dns:
        return []
    failures = [o for o in host.dns if o.status not in (DnsStatus.OK, DnsStatus.NO_DATA)]
    if failures and all(
        o.status in (DnsStatus.TIMEOUT, DnsStatus.SERVFAIL, DnsStatus.ERROR) for o in failures
    ):
        return [_dns_failure(o) for o in failures]
    answered_elsewhere = family_filtered and all(o.status is DnsStatus.NO_DATA for o in host.dns)
    if answered_elsewhere:
        return [
            finding(
                FindingCode.NO_ADDRESS_IN_FAMILY,
                f"{host.host} has no {'/'.join(o.rdtype for o in host.dns)} record",
            )
        ]
    if host.implicit:
        return [
            finding(
                FindingCode.NO_MAIL_HOST,
                f"{host.host} has neither MX nor address records: it cannot receive mail",
            )
        ]
    statuses = ", ".join(f"{o.rdtype} {o.status}" for o in host.dns)
    return [finding(FindingCode.MX_UNRESOLVABLE, f"{host.host} has no address ({statuses})")]


def _target_findings(resolved: ResolvedTarget) -> list[Finding]:
    decision = resolved.mx
    if decision is None:
        return []
    if decision.kind is MxKind.FAILED:
        return [_dns_failure(outcome) for outcome in resolved.dns]
    if decision.kind is MxKind.NULL:
        return [
            finding(
                FindingCode.NULL_MX,
                f"{resolved.target.name} publishes a null MX (RFC 7505): it accepts no mail",
            )
        ]
    found = []
    if decision.kind is MxKind.IMPLICIT:
        found.append(
            finding(
                FindingCode.IMPLICIT_MX,
                f"{resolved.target.name} has no MX record; senders use its own A/AAAA "
                "(RFC 5321 5.1)",
            )
        )
    if decision.ignored_null_mx:
        found.append(
            finding(
                FindingCode.NULL_MX_MIXED,
                'a null MX (".") is listed beside real MX hosts; RFC 7505 forbids that',
            )
        )
    return found


def domain_verdict(addresses: Iterable[AddressReport]) -> ExoVerdict:
    reports = list(addresses)
    tested = [a for a in reports if a.verdict.inbound is not ExoInbound.NOT_TESTED]
    if not tested:
        return ExoVerdict(
            ExoInbound.NOT_TESTED, ExoOutbound.UNKNOWN, "nothing could be tested for this target"
        )
    untested = len(reports) - len(tested)
    note = f"; {untested} address(es) could not be tested" if untested else ""
    falling_back = [a for a in tested if a.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK]
    outbound_values = {a.verdict.outbound for a in tested}
    outbound = (
        ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL
        if ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL in outbound_values
        else ExoOutbound.LIKELY_TLS12
        if outbound_values == {ExoOutbound.LIKELY_TLS12}
        else ExoOutbound.UNKNOWN
    )
    if falling_back:
        which = ", ".join(str(a.endpoint) for a in falling_back)
        return ExoVerdict(
            ExoInbound.PLAINTEXT_FALLBACK,
            outbound,
            f"mail from Exchange Online falls back to plaintext at {len(falling_back)} of "
            f"{len(tested)} tested address(es) ({which}), and fails there where a connector "
            f"requires TLS{note}",
        )
    return ExoVerdict(
        ExoInbound.TLS12,
        outbound,
        f"Exchange Online can deliver over TLS 1.2 to all {len(tested)} tested address(es){note}",
    )


def assess_domain(
    resolved: ResolvedTarget,
    address_reports: Mapping[tuple[Endpoint, str], AddressReport],
    *,
    family_filtered: bool,
    started_at: datetime,
    elapsed_seconds: float,
) -> DomainReport:
    port = resolved.target.port
    hosts: list[MxHostReport] = []
    for host in resolved.hosts:
        # An address serving several MX names was probed once and is judged under each name.
        reports = [address_reports[(Endpoint(ip, port), host.host)] for ip in host.addresses]
        hosts.append(
            MxHostReport(
                host=host.host,
                preference=host.preference,
                implicit=host.implicit,
                dns=host.dns,
                addresses=tuple(reports),
                findings=_with_remedies(
                    _host_findings(host, family_filtered=family_filtered), host.host
                ),
            )
        )
    all_addresses = [a for h in hosts for a in h.addresses]
    return DomainReport(
        target=resolved.target,
        dns=resolved.dns,
        mx_hosts=tuple(hosts),
        findings=_with_remedies(_target_findings(resolved), None),
        verdict=domain_verdict(all_addresses),
        tested_addresses=sum(1 for a in all_addresses if a.status in TESTED_STATUSES),
        started_at=started_at,
        elapsed_seconds=elapsed_seconds,
    )


def all_findings(domain: DomainReport) -> list[Finding]:
    found = list(domain.findings)
    for host in domain.mx_hosts:
        found.extend(host.findings)
        for address in host.addresses:
            found.extend(address.findings)
    return found


# Exit codes, documented in the README: monitoring systems key on them.
EXIT_OK = 0
EXIT_WARNING = 1
EXIT_CRITICAL = 2
EXIT_UNTESTABLE = 3
EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: a broken installation


def exit_code(domains: Iterable[DomainReport]) -> int:
    reports = list(domains)
    accepts_no_mail = all(any(f.code is FindingCode.NULL_MX for f in d.findings) for d in reports)
    if reports and not accepts_no_mail and not any(d.tested_addresses for d in reports):
        return EXIT_UNTESTABLE
    worst = max(
        (f.severity.rank for d in reports for f in all_findings(d)), default=Severity.INFO.rank
    )
    return {Severity.INFO.rank: EXIT_OK, Severity.WARNING.rank: EXIT_WARNING}.get(
        worst, EXIT_CRITICAL
    )

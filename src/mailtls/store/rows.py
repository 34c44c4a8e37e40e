"""A domain's report as the query rows of the store's tables (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mailtls.logs.report import PeerSummary, SessionKind
from mailtls.models import (
    ALL_TLS_VERSIONS,
    AddressObservation,
    AddressReport,
    DomainReport,
    Finding,
    Severity,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.domain import TESTED_STATUSES, all_findings

Row = dict[str, Any]


def newest_common_tls(addresses: Iterable[AddressReport]) -> TlsVersion | None:
    """The newest TLS version every tested address accepts: what a sender can count on.

    Addresses that could not be tested are left out; None when none was tested or the tested
    ones share no version (or offer no TLS at all).
    """
    tested = [a for a in addresses if a.status in TESTED_STATUSES]
    if not tested:
        return None
    for version in reversed(ALL_TLS_VERSIONS):
        if all(a.tls_versions.get(version) is VersionSupport.SUPPORTED for a in tested):
            return version
    return None


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    severities = {finding.severity for finding in findings}
    return max(severities, key=lambda severity: severity.rank) if severities else None


def domain_addresses(report: DomainReport) -> list[AddressReport]:
    return [address for host in report.mx_hosts for address in host.addresses]


def result_row(report: DomainReport) -> Row:
    """The ``results`` columns other than ids and the packed report."""
    best = newest_common_tls(domain_addresses(report))
    worst = worst_severity(all_findings(report))
    return {
        "domain": report.target.name,
        "exo_inbound": report.verdict.inbound.value,
        "exo_outbound": report.verdict.outbound.value,
        "best_tls": best.value if best else None,
        "worst_severity": worst.value if worst else None,
        "tested_addresses": report.tested_addresses,
        "started_at": report.started_at,
        "elapsed_seconds": report.elapsed_seconds,
    }


def address_row(address: AddressReport) -> Row:
    """The ``addresses`` columns other than ids."""
    support = {
        version: address.tls_versions.get(version, VersionSupport.NOT_TESTED).value
        for version in ALL_TLS_VERSIONS
    }
    certificate = address.certificate
    return {
        "ip": address.endpoint.ip,
        "port": address.endpoint.port,
        "status": address.status.value,
        "starttls": address.starttls,
        "tls1_0": support[TlsVersion.TLS1_0],
        "tls1_1": support[TlsVersion.TLS1_1],
        "tls1_2": support[TlsVersion.TLS1_2],
        "tls1_3": support[TlsVersion.TLS1_3],
        "exo_ciphers": address.exo_ciphers.value,
        "negotiated_version": address.negotiated.version.value if address.negotiated else None,
        "negotiated_cipher": address.negotiated.cipher if address.negotiated else None,
        "product": address.product.product,
        "product_version": address.product.version,
        "certificate_days_left": certificate.days_left if certificate else None,
        "certificate_trusted": certificate.trusted if certificate else None,
        "certificate_name_matches": certificate.name_matches if certificate else None,
        "exo_inbound": address.verdict.inbound.value,
        "exo_outbound": address.verdict.outbound.value,
    }


@dataclass(frozen=True)
class FindingRow:
    """A finding with where it was made; ``mx_host``/``ip`` None for the domain itself."""

    finding: Finding
    mx_host: str | None
    ip: str | None
    port: int | None

    def row(self) -> Row:
        return {
            "mx_host": self.mx_host,
            "ip": self.ip,
            "port": self.port,
            "code": self.finding.code.value,
            "severity": self.finding.severity.value,
            "message": self.finding.message,
        }


def finding_rows(report: DomainReport) -> list[FindingRow]:
    rows = [FindingRow(finding, None, None, None) for finding in report.findings]
    for host in report.mx_hosts:
        rows.extend(FindingRow(finding, host.host, None, None) for finding in host.findings)
        for address in host.addresses:
            endpoint = address.endpoint
            rows.extend(
                FindingRow(finding, host.host, endpoint.ip, endpoint.port)
                for finding in address.findings
            )
    return rows


def probe_rows(observation: AddressObservation) -> list[Row]:
    """The ``probe_results`` columns other than ids."""
    return [
        {
            "kind": probe.kind.value,
            "outcome": probe.outcome.value,
            "tls_version": probe.handshake.version.value if probe.handshake else None,
            "cipher": probe.handshake.cipher if probe.handshake else None,
            "stage": probe.stage.value if probe.stage else None,
            "reason": probe.reason,
            "elapsed_seconds": probe.elapsed_seconds,
        }
        for probe in observation.probes
    ]


def peer_row(peer: PeerSummary) -> Row:
    """The ``log_peers`` columns other than ids."""
    count = peer.sessions.get
    return {
        "direction": peer.direction.value,
        "role": peer.role.value,
        "peer_ip": peer.peer_ip,
        "peer_host": peer.peer_host,
        "tls1_3": count(SessionKind.TLS1_3, 0),
        "tls1_2": count(SessionKind.TLS1_2, 0),
        "tls1_1": count(SessionKind.TLS1_1, 0),
        "tls1_0": count(SessionKind.TLS1_0, 0),
        "tls_unknown": count(SessionKind.TLS_UNKNOWN, 0),
        "plaintext": count(SessionKind.PLAINTEXT, 0),
        "total": peer.total,
        "first_seen": peer.first_seen,
        "last_seen": peer.last_seen,
        "example_cipher": peer.example_cipher,
        "weakest": peer.weakest.value,
        "domains": json.dumps(list(peer.domains)),
    }

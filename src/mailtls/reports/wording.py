"""The words every report uses: names of statuses and verdicts, findings grouped by where they
apply, certificates and times in a line (pure, no markup).

Texts from servers and DNS answers pass through unchanged here (apart from grouping); each
renderer makes them safe for its own format, after ``render.text.clean`` has removed control
characters and cut them to a bounded length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mailtls.models import (
    AddressReport,
    CertificateReport,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    ExoInbound,
    ExoOutbound,
    Finding,
    ProductGuess,
    RunInfo,
    Severity,
)
from mailtls.render.text import MARKS
from mailtls.reports.summary import BestTls, DomainStatus, RunSummary

BEST_TLS_WORDS = {
    BestTls.TLS1_3: "TLS 1.3",
    BestTls.TLS1_2: "TLS 1.2",
    BestTls.TLS1_1: "TLS 1.1",
    BestTls.TLS1_0: "TLS 1.0",
    BestTls.NO_TLS: "no TLS",
    BestTls.NOT_TESTED: "not tested",
}

INBOUND_WORDS = {
    ExoInbound.TLS12: "TLS 1.2",
    ExoInbound.PLAINTEXT_FALLBACK: "plaintext fallback",
    ExoInbound.NOT_TESTED: "not tested",
}
INBOUND_LONG_WORDS = {
    ExoInbound.TLS12: "delivers over TLS 1.2",
    ExoInbound.PLAINTEXT_FALLBACK: "falls back to plaintext (fails where TLS is required)",
    ExoInbound.NOT_TESTED: "not tested",
}
OUTBOUND_WORDS = {
    ExoOutbound.LIKELY_TLS12: "likely TLS 1.2",
    ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL: "likely plaintext or fails",
    ExoOutbound.UNKNOWN: "unknown",
}

STATUS_WORDS = {
    DomainStatus.TESTED: "tested",
    DomainStatus.UNREACHABLE: "no address could be tested",
    DomainStatus.NO_ADDRESS: "no MX host has an address",
    DomainStatus.NULL_MX: "accepts no mail (null MX)",
    DomainStatus.NXDOMAIN: "the domain does not exist",
    DomainStatus.DNS_FAILED: "the DNS lookup failed",
}

# The check report's marks and short version names, so every report reads alike.
SUPPORT_MARKS = MARKS

_DNS_STATUS_WORDS = {
    DnsStatus.OK: "answered",
    DnsStatus.NXDOMAIN: "NXDOMAIN: the name does not exist",
    DnsStatus.NO_DATA: "no records of this type",
    DnsStatus.SERVFAIL: "SERVFAIL: the resolver could not get an answer",
    DnsStatus.TIMEOUT: "no answer in time",
    DnsStatus.ERROR: "the lookup failed",
}

SEVERITIES_WORST_FIRST = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class GroupedFinding:
    """One finding and every place it applies (``()`` for the domain as a whole)."""

    finding: Finding
    scopes: tuple[str, ...]  # "mx.example.com 192.0.2.10", "mx.example.com", ...


def grouped_findings(domain: DomainReport) -> list[GroupedFinding]:
    """The domain's findings, the same finding at several places once; worst first, stable."""
    grouped: dict[Finding, list[str]] = {}

    def add(finding: Finding, scope: str | None) -> None:
        scopes = grouped.setdefault(finding, [])
        if scope is not None and scope not in scopes:
            scopes.append(scope)

    for finding in domain.findings:
        add(finding, None)
    for host in domain.mx_hosts:
        for finding in host.findings:
            add(finding, host.host)
        for address in host.addresses:
            name = address.mx_host or host.host
            ip = address.endpoint.ip
            for finding in address.findings:
                add(finding, ip if name == ip else f"{name} {ip}")
    return sorted(
        (GroupedFinding(finding, tuple(scopes)) for finding, scopes in grouped.items()),
        key=lambda item: -item.finding.severity.rank,
    )


def utc_time(moment: datetime) -> str:
    """``2025-03-14 02:00 UTC``; a naive datetime is refused (its moment is unknown)."""
    if moment.utcoffset() is None:
        raise ValueError(f"cannot place a naive datetime in UTC: {moment.isoformat()}")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_title(run: RunInfo) -> str:
    return f"run {run.run_id} ({run.label})"


def completeness(run: RunInfo) -> str | None:
    """A warning when the run did not finish or has results for fewer domains than listed."""
    if run.finished_at is None:
        return (
            f"This run has not finished (it may still be running or was interrupted): "
            f"{run.completed} of {run.targets} domains have a result."
        )
    if run.completed < run.targets:
        return f"Only {run.completed} of {run.targets} domains have a result."
    return None


def percent(part: int, whole: int) -> str:
    if whole == 0:
        return "0%"
    share = 100 * part / whole
    if 0 < share < 1:
        return "<1%"
    return f"{share:.0f}%"


def count_words(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def expiry_words(days_left: int) -> str:
    if days_left < 0:
        return f"expired {count_words(-days_left, 'day', 'days')} ago"
    if days_left == 0:
        return "expires today"
    return f"expires in {count_words(days_left, 'day', 'days')}"


def certificate_name(certificate: CertificateReport) -> str:
    """The first DNS name (or IP) of the leaf, else its common name, else its whole subject."""
    names = certificate.leaf.dns_names or certificate.leaf.ip_addresses
    if names:
        return names[0]
    return _common_name(certificate.leaf.subject) or certificate.leaf.subject


def trust_words(certificate: CertificateReport) -> str:
    if certificate.trusted:
        trust = "trusted"
    else:
        trust = "self-signed" if certificate.leaf.self_signed else "untrusted"
    if certificate.name_matches is True:
        return f"{trust}, name ok"
    if certificate.name_matches is False:
        return f"{trust}, name mismatch"
    return trust


def _common_name(subject: str) -> str | None:
    """The first CN of an RFC 4514 distinguished name, unescaped."""
    for attribute in re.split(r"(?<!\\)[,+]", subject):
        key, separator, value = attribute.partition("=")
        if separator and key.strip().upper() == "CN":
            return re.sub(r"\\(.)", r"\1", value.strip())
    return None


def software_words(guess: ProductGuess) -> str | None:
    """``Postfix 3.7.11`` or the product name; None when nothing was recognised."""
    if guess.product is None:
        return None
    return f"{guess.name} {guess.version}" if guess.version else guess.name


def dns_words(outcome: DnsOutcome) -> str:
    words = _DNS_STATUS_WORDS[outcome.status]
    if outcome.status is DnsStatus.OK:
        return ", ".join(outcome.records) or "answered, no records"
    if outcome.detail and outcome.detail.lower() not in words.lower():
        return f"{words} ({outcome.detail})"
    return words


def address_label(address: AddressReport) -> str:
    """The address as it is shown in tables: the IP, with the port when it is not 25."""
    endpoint = address.endpoint
    return endpoint.ip if endpoint.port == 25 else str(endpoint)


@dataclass(frozen=True)
class StepParts:
    """A remedy step: its first line is prose (``code`` in backticks), the lines after it, if
    any, a literal block (a ``.reg`` snippet, a config excerpt)."""

    prose: str
    block: tuple[str, ...]


def step_parts(step: str) -> StepParts:
    first, *rest = step.split("\n")
    return StepParts(first, tuple(rest))


def code_spans(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_code) at backtick-quoted spans, as remedy texts mark code."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        if match.start() > position:
            pieces.append((text[position : match.start()], False))
        pieces.append((match.group(1), True))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


_CODE_SPAN = re.compile(r"`([^`]+)`")


def is_web_link(url: str) -> bool:
    """Whether ``url`` may become a link: only http(s), never javascript:, data:, file:."""
    return re.match(r"https?://[^\s<>\"']+\Z", url, flags=re.IGNORECASE) is not None


def totals_compared(old: RunSummary, new: RunSummary) -> list[tuple[str, int, int]]:
    """The run totals a reader compares first, old and new side by side."""
    rows = [("domains", old.domains, new.domains)]
    rows += [
        (f"Exchange Online → domain: {INBOUND_LONG_WORDS[state]}", count, new.by_exo_inbound[state])
        for state, count in old.by_exo_inbound.items()
    ]
    rows += [
        (f"best TLS {BEST_TLS_WORDS[best]}", count, new.by_best_tls[best])
        for best, count in old.by_best_tls.items()
    ]
    rows += [
        (f"worst finding {severity.value}", count, new.by_worst_severity[severity])
        for severity, count in old.by_worst_severity.items()
    ]
    rows.append(("no finding", old.without_findings, new.without_findings))
    return rows

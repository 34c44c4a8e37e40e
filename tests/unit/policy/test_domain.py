from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import (
    AddressObservation,
    AddressReport,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    Endpoint,
    ExoInbound,
    FindingCode,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    Target,
    TargetKind,
    TlsHandshake,
    TlsVersion,
)
from mailtls.policy.address import assess_address
from mailtls.policy.domain import (
    EXIT_CRITICAL,
    EXIT_OK,
    EXIT_UNTESTABLE,
    EXIT_WARNING,
    assess_domain,
    exit_code,
)
from mailtls.resolution import MxKind, ResolvedHost, ResolvedTarget, interpret_mx

EXO = load_exchange_online_policy()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DOMAIN = Target(TargetKind.DOMAIN, "example.net", 25, "example.net")


def mx_outcome(*records: str, status: DnsStatus = DnsStatus.OK) -> DnsOutcome:
    return DnsOutcome("example.net", "MX", status, records)


@pytest.mark.parametrize(
    ("outcome", "kind", "hosts", "ignored_null"),
    [
        (mx_outcome("20 b.example.net.", "10 A.example.net."), MxKind.LISTED, ["a.example.net", "b.example.net"], False),
        (mx_outcome("0 ."), MxKind.NULL, [], False),
        (mx_outcome("0 .", "10 mx.example.net."), MxKind.LISTED, ["mx.example.net"], True),
        (mx_outcome(status=DnsStatus.NO_DATA), MxKind.IMPLICIT, [], False),
        (mx_outcome(status=DnsStatus.NXDOMAIN), MxKind.FAILED, [], False),
        (mx_outcome(status=DnsStatus.SERVFAIL), MxKind.FAILED, [], False),
        (mx_outcome(status=DnsStatus.TIMEOUT), MxKind.FAILED, [], False),
    ],
)  # fmt: skip
def test_interprets_mx_answers(
    outcome: DnsOutcome, kind: MxKind, hosts: list[str], ignored_null: bool
) -> None:
    decision = interpret_mx(outcome)
    assert decision.kind is kind
    assert [r.host for r in decision.records] == hosts
    assert decision.ignored_null_mx is ignored_null


def address(ip: str, host: str, outcome: ProbeOutcome) -> AddressReport:
    probes = (
        (ProbeResult(ProbeKind.DEFAULT, outcome, TlsHandshake(TlsVersion.TLS1_3, "X", 256, None)),
         ProbeResult(ProbeKind.TLS1_2, outcome,
                     TlsHandshake(TlsVersion.TLS1_2, "ECDHE-RSA-AES128-GCM-SHA256", 128, None)),
         ProbeResult(ProbeKind.TLS1_1, ProbeOutcome.HANDSHAKE_FAILED),
         ProbeResult(ProbeKind.TLS1_0, ProbeOutcome.HANDSHAKE_FAILED))
        if outcome is ProbeOutcome.NEGOTIATED
        else (ProbeResult(ProbeKind.DEFAULT, outcome),)
    )  # fmt: skip
    observation = AddressObservation(Endpoint(ip, 25), probes, T0, 0.1)
    return assess_address(
        observation, mx_host=host, certificate=None, certificate_problem=None, exchange_online=EXO
    )


def domain(
    decision_outcome: DnsOutcome, hosts: list[ResolvedHost], outcomes: dict[str, ProbeOutcome]
) -> DomainReport:
    resolved = ResolvedTarget(
        DOMAIN, interpret_mx(decision_outcome), (decision_outcome,), tuple(hosts)
    )
    reports = {
        (Endpoint(ip, 25), h.host): address(ip, h.host, outcomes[ip])
        for h in hosts
        for ip in h.addresses
    }
    return assess_domain(
        resolved, reports, family_filtered=False, started_at=T0, elapsed_seconds=1.0
    )


def host(name: str, *addresses: str, pref: int = 10, implicit: bool = False) -> ResolvedHost:
    dns = (DnsOutcome(name, "A", DnsStatus.OK if addresses else DnsStatus.NXDOMAIN, addresses),)
    return ResolvedHost(name, None if implicit else pref, implicit, dns, addresses)


def codes(report: DomainReport) -> set[FindingCode]:
    found = set(f.code for f in report.findings)
    for h in report.mx_hosts:
        found |= {f.code for f in h.findings}
    return found


def test_ready_domain() -> None:
    report = domain(mx_outcome("10 mx.example.net."), [host("mx.example.net", "192.0.2.1")],
                    {"192.0.2.1": ProbeOutcome.NEGOTIATED})  # fmt: skip
    assert report.verdict.inbound is ExoInbound.TLS12
    assert report.tested_addresses == 1
    assert exit_code([report]) == EXIT_OK


def test_one_plaintext_mx_makes_the_domain_fall_back_and_critical() -> None:
    report = domain(
        mx_outcome("10 a.example.net.", "20 b.example.net."),
        [host("a.example.net", "192.0.2.1"), host("b.example.net", "192.0.2.2", pref=20)],
        {"192.0.2.1": ProbeOutcome.NEGOTIATED, "192.0.2.2": ProbeOutcome.NO_STARTTLS},
    )
    assert report.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK
    assert "1 of 2" in report.verdict.summary
    assert exit_code([report]) == EXIT_CRITICAL


def test_dangling_mx_is_a_host_finding_and_a_warning() -> None:
    report = domain(
        mx_outcome("10 mx.example.net.", "20 gone.example.net."),
        [host("mx.example.net", "192.0.2.1"), host("gone.example.net", pref=20)],
        {"192.0.2.1": ProbeOutcome.NEGOTIATED},
    )
    assert codes(report) == {FindingCode.MX_UNRESOLVABLE}
    assert exit_code([report]) == EXIT_WARNING


@pytest.mark.parametrize(
    ("status", "code"),
    [(DnsStatus.NXDOMAIN, FindingCode.DOMAIN_NXDOMAIN), (DnsStatus.SERVFAIL, FindingCode.DNS_SERVFAIL),
     (DnsStatus.TIMEOUT, FindingCode.DNS_TIMEOUT)],
)  # fmt: skip
def test_dns_failures_leave_nothing_to_test(status: DnsStatus, code: FindingCode) -> None:
    report = domain(mx_outcome(status=status), [], {})
    assert codes(report) == {code}
    assert report.verdict.inbound is ExoInbound.NOT_TESTED
    assert exit_code([report]) == EXIT_UNTESTABLE


def test_null_mx_is_not_a_failure() -> None:
    report = domain(mx_outcome("0 ."), [], {})
    assert codes(report) == {FindingCode.NULL_MX}
    assert exit_code([report]) == EXIT_OK


def test_implicit_mx_without_address_cannot_receive_mail() -> None:
    report = domain(mx_outcome(status=DnsStatus.NO_DATA), [host("example.net", implicit=True)], {})
    assert codes(report) == {FindingCode.IMPLICIT_MX, FindingCode.NO_MAIL_HOST}
    assert exit_code([report]) == EXIT_UNTESTABLE


def test_untestable_addresses_only_give_exit_three() -> None:
    report = domain(mx_outcome("10 mx.example.net."), [host("mx.example.net", "192.0.2.1")],
                    {"192.0.2.1": ProbeOutcome.CONNECT_FAILED})  # fmt: skip
    assert exit_code([report]) == EXIT_UNTESTABLE


def test_one_tested_domain_among_failures_gives_the_worst_severity() -> None:
    good = domain(mx_outcome("10 mx.example.net."), [host("mx.example.net", "192.0.2.1")],
                  {"192.0.2.1": ProbeOutcome.NEGOTIATED})  # fmt: skip
    missing = domain(mx_outcome(status=DnsStatus.NXDOMAIN), [], {})
    assert exit_code([good, missing]) == EXIT_CRITICAL


def test_dns_findings_carry_the_generic_fix_and_a_null_mx_none() -> None:
    dangling = domain(
        mx_outcome("10 mx.example.net.", "20 gone.example.net."),
        [host("mx.example.net", "192.0.2.1"), host("gone.example.net", pref=20)],
        {"192.0.2.1": ProbeOutcome.NEGOTIATED},
    )
    (unresolvable,) = dangling.mx_hosts[1].findings
    assert unresolvable.remedy is not None
    assert unresolvable.remedy.product is None
    assert "gone.example.net" in unresolvable.remedy.steps[0]
    mixed = domain(mx_outcome("0 .", "10 mx.example.net."), [host("mx.example.net", "192.0.2.1")],
                   {"192.0.2.1": ProbeOutcome.NEGOTIATED})  # fmt: skip
    (null_mixed,) = mixed.findings
    assert null_mixed.code is FindingCode.NULL_MX_MIXED
    assert null_mixed.remedy is not None
    assert "rfc7505" in null_mixed.remedy.sources[0]
    (null_mx,) = domain(mx_outcome("0 ."), [], {}).findings
    assert null_mx.remedy is None

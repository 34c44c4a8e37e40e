"""DNSSEC findings for a domain's MX and address answers."""

from __future__ import annotations

import pytest

from mailtls.models import DnsOutcome, DnssecStatus, DnsStatus, FindingCode, Severity
from mailtls.policy.dnssec import dnssec_findings

S = DnssecStatus


def answer(name: str, rdtype: str, dnssec: DnssecStatus | None) -> DnsOutcome:
    status = DnsStatus.SERVFAIL if dnssec is S.BOGUS else DnsStatus.OK
    return DnsOutcome(name, rdtype, status, dnssec=dnssec)


@pytest.mark.parametrize(
    "statuses",
    [[], [S.SECURE], [S.SECURE, S.INSECURE], [S.INDETERMINATE, None, S.SECURE]],
)
def test_secure_insecure_and_unjudged_answers_say_nothing(
    statuses: list[DnssecStatus | None],
) -> None:
    assert (
        dnssec_findings(answer(f"h{i}.example.com", "A", s) for i, s in enumerate(statuses)) == []
    )


def test_bogus_answers_make_one_finding_naming_them_all() -> None:
    outcomes = [
        answer("example.com", "MX", S.BOGUS),
        answer("mx1.example.com", "A", S.SECURE),
        answer("mx1.example.com", "AAAA", S.BOGUS),
        answer("mx1.example.com", "AAAA", S.BOGUS),  # asked twice, named once
    ]
    findings = dnssec_findings(outcomes)
    assert [f.code for f in findings] == [FindingCode.DNSSEC_BOGUS]
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].message.startswith(
        "DNSSEC validation fails for MX example.com, AAAA mx1.example.com: "
    )
    assert "4.7.324" in findings[0].message


def test_a_resolver_that_does_not_validate_is_said_once() -> None:
    outcomes = [
        answer("example.com", "MX", S.UNVALIDATED),
        answer("mx.example.com", "A", S.UNVALIDATED),
    ]
    findings = dnssec_findings(outcomes)
    assert [f.code for f in findings] == [FindingCode.RESOLVER_NOT_VALIDATING]
    assert findings[0].severity is Severity.INFO
    assert "MX example.com, A mx.example.com" in findings[0].message
    assert "--nameserver" in findings[0].message


def test_both_at_once_and_long_lists_are_cut() -> None:
    outcomes = [answer(f"mx{i}.example.com", "A", S.BOGUS) for i in range(12)]
    outcomes.append(answer("example.com", "MX", S.UNVALIDATED))
    findings = dnssec_findings(outcomes)
    assert [f.code for f in findings] == [
        FindingCode.DNSSEC_BOGUS,
        FindingCode.RESOLVER_NOT_VALIDATING,
    ]
    assert "A mx9.example.com and 2 more:" in findings[0].message

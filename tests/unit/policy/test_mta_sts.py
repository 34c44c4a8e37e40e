"""The MTA-STS verdict: TXT record, fetch, policy and every MX host's coverage and certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import (
    AddressObservation,
    AddressReport,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    Endpoint,
    Finding,
    FindingCode,
    MtaStsFetch,
    MtaStsMode,
    MtaStsMxCheck,
    MtaStsReport,
    MtaStsState,
    MxHostReport,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    Severity,
    TlsHandshake,
    TlsVersion,
)
from mailtls.policy.address import assess_address
from mailtls.policy.mta_sts import judge_mta_sts, policy_url
from mailtls.tls import issuing
from mailtls.tls.certificates import TrustStore, analyse_chain

F = FindingCode
EXO = load_exchange_online_policy()
NOW = datetime.now(UTC)
DOMAIN = "example.com"
MX1, MX2 = "mx1.example.com", "mx2.example.com"
URL = "https://mta-sts.example.com/.well-known/mta-sts.txt"
RECORD = "v=STSv1; id=20240101T000000;"


@dataclass(frozen=True)
class Pki:
    root: issuing.Issued
    trust: TrustStore


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = issuing.make_ca("mta-sts test root")
    return Pki(root, TrustStore.from_certificates([root.certificate], source=Path("root.pem")))


def txt(*records: str, status: DnsStatus = DnsStatus.OK, **kwargs: object) -> DnsOutcome:
    return DnsOutcome(f"_mta-sts.{DOMAIN}", "TXT", status, records, **kwargs)  # type: ignore[arg-type]


def policy(mode: str = "enforce", *mx: str, max_age: int = 604800) -> str:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return "\r\n".join(lines) + "\r\n"


def address(
    ip: str,
    host: str,
    pki: Pki,
    leaf: issuing.Issued | None,
    outcome: ProbeOutcome = ProbeOutcome.NEGOTIATED,
) -> AddressReport:
    """One probed address; ``leaf`` is the certificate it presented (its chain as issued)."""
    handshake = TlsHandshake(TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384", 256, None)
    probe = ProbeResult(
        ProbeKind.DEFAULT, outcome, handshake if outcome is ProbeOutcome.NEGOTIATED else None
    )
    certificate = None
    if leaf is not None:
        chain = [cert.public_bytes(serialization.Encoding.DER) for cert in leaf.chain]
        certificate = analyse_chain(chain, host_name=host, trust=pki.trust, now=NOW)
    observation = AddressObservation(Endpoint(ip, 25), (probe,), NOW, 0.1)
    return assess_address(
        observation,
        mx_host=host,
        certificate=certificate,
        certificate_problem=None,
        exchange_online=EXO,
    )


def mx_host(name: str, *addresses: AddressReport) -> MxHostReport:
    return MxHostReport(name, 10, False, (), addresses)


def good_host(name: str, pki: Pki, ip: str = "192.0.2.1") -> MxHostReport:
    return mx_host(name, address(ip, name, pki, issuing.issue((name,), issuer=pki.root)))


def judge(
    answer: DnsOutcome,
    hosts: list[MxHostReport],
    body: str | None = None,
    fetch: MtaStsFetch = MtaStsFetch.OK,
    fetch_detail: str | None = None,
) -> tuple[MtaStsReport, list[Finding]]:
    return judge_mta_sts(
        DOMAIN, answer, fetch=fetch, fetch_detail=fetch_detail, body=body, mx_hosts=hosts
    )


def codes(findings: list[Finding]) -> list[FindingCode]:
    return [found.code for found in findings]


def test_the_policy_url() -> None:
    assert policy_url("Example.COM.") == URL


# --- the record and the fetch ------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        txt(status=DnsStatus.NXDOMAIN),
        txt(status=DnsStatus.NO_DATA),
        txt("v=spf1 -all", "google-site-verification=abc"),
    ],
)
def test_no_record_is_not_configured_without_a_finding(answer: DnsOutcome, pki: Pki) -> None:
    report, findings = judge(answer, [good_host(MX1, pki)], fetch=MtaStsFetch.NOT_FETCHED)
    assert report.state is MtaStsState.NOT_CONFIGURED
    assert (report.record_id, report.record_problem, report.policy, report.mx) == (
        None,
        None,
        None,
        (),
    )
    assert report.policy_url == URL
    assert findings == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (txt(RECORD, "v=STSv1; id=2;"), "2 TXT records begin with 'v=STSv1'"),
        (txt("v=STSv1; id=2024-01-01;"), "the id must be 1 to 32 letters or digits"),
        (txt("v=STSv1 id=1"), "does not begin with 'v=STSv1' followed by ';'"),
        (
            txt(status=DnsStatus.SERVFAIL, detail="SERVFAIL", dnssec=DnssecStatus.BOGUS),
            "the TXT lookup failed (DNSSEC validation fails) (servfail: SERVFAIL)",
        ),
        (txt(status=DnsStatus.TIMEOUT), "the TXT lookup failed (timeout)"),
    ],
)
def test_an_unusable_record_is_invalid(answer: DnsOutcome, problem: str, pki: Pki) -> None:
    report, findings = judge(answer, [good_host(MX1, pki)], fetch=MtaStsFetch.NOT_FETCHED)
    assert report.state is MtaStsState.INVALID
    assert report.record_problem is not None
    assert problem in report.record_problem
    assert codes(findings) == [F.MTA_STS_RECORD_INVALID]
    assert findings[0].severity is Severity.WARNING
    assert "act as if there were" in findings[0].message


@pytest.mark.parametrize(
    ("fetch", "detail", "shown"),
    [
        (MtaStsFetch.NOT_FOUND, "HTTP 404", "(not found: HTTP 404)"),
        (
            MtaStsFetch.HTTP_ERROR,
            "HTTP 301 to https://www.example.com/ (not followed)",
            "(http error: HTTP 301",
        ),
        (
            MtaStsFetch.TLS_ERROR,
            "certificate is for www.example.com",
            "(tls error: certificate is for",
        ),
        (MtaStsFetch.CONNECT_FAILED, None, "(connect failed)"),
        (MtaStsFetch.TIMEOUT, "no answer in 20 s", "(timeout: no answer in 20 s)"),
        (MtaStsFetch.TOO_LARGE, "more than 65536 bytes", "(too large: more than 65536 bytes)"),
        (MtaStsFetch.WRONG_TYPE, "text/html", "(wrong type: text/html)"),
        (MtaStsFetch.NOT_FETCHED, None, "(not fetched)"),
    ],
)
def test_a_policy_that_cannot_be_fetched_is_unreachable(
    fetch: MtaStsFetch, detail: str | None, shown: str, pki: Pki
) -> None:
    # An error page that came with the failure is not parsed as a policy.
    report, findings = judge(
        txt(RECORD),
        [good_host(MX1, pki)],
        body="<html>oops</html>",
        fetch=fetch,
        fetch_detail=detail,
    )
    assert report.state is MtaStsState.UNREACHABLE
    assert report.record_id == "20240101T000000"
    assert (report.policy, report.policy_problems) == (None, ())
    assert codes(findings) == [F.MTA_STS_POLICY_UNREACHABLE]
    assert shown in findings[0].message
    assert URL in findings[0].message


def test_an_invalid_policy_lists_its_problems(pki: Pki) -> None:
    body = "version: STSv1\nmode: enforcing\nmx: mx1.example.com\n"
    report, findings = judge(txt(RECORD), [good_host(MX1, pki)], body)
    assert report.state is MtaStsState.INVALID
    assert report.policy is None
    assert report.policy_problems == (
        "line 2: mode must be enforce, testing or none, not 'enforcing'",
        "the mode field is missing",
        "the max_age field is missing",
    )
    assert codes(findings) == [F.MTA_STS_POLICY_INVALID]
    assert "not 'enforcing'" in findings[0].message


# --- enforce mode ------------------------------------------------------------------------------


def test_enforced_with_every_mx_covered_and_valid(pki: Pki) -> None:
    hosts = [good_host(MX1, pki), good_host(MX2, pki, "192.0.2.2")]
    report, findings = judge(
        txt("v=spf1 -all", RECORD), hosts, policy("enforce", MX1, "*.example.com")
    )
    assert report.state is MtaStsState.ENFORCED
    assert report.policy is not None
    assert report.policy.mode is MtaStsMode.ENFORCE
    assert report.mx == (MtaStsMxCheck(MX1, True, True), MtaStsMxCheck(MX2, True, True))
    assert codes(findings) == [F.MTA_STS_ENFORCED]
    assert findings[0].severity is Severity.INFO
    assert f"{MX1}, {MX2} covered by {MX1}, *.example.com" in findings[0].message


def test_an_mx_host_no_pattern_covers_gets_no_mail(pki: Pki) -> None:
    hosts = [good_host(MX1, pki), good_host("backup.example.net", pki, "192.0.2.2")]
    report, findings = judge(txt(RECORD), hosts, policy("enforce", "*.example.com"))
    assert report.state is MtaStsState.FAILING
    assert report.mx[1] == MtaStsMxCheck("backup.example.net", False, True)
    assert codes(findings) == [F.MTA_STS_MX_NOT_COVERED]
    assert findings[0].severity is Severity.CRITICAL
    assert "backup.example.net" in findings[0].message
    assert "(*.example.com)" in findings[0].message
    assert "4.4.8" in findings[0].message


@pytest.mark.parametrize(
    ("presented", "problem"),
    [
        (
            "self-signed",
            "the certificate is not trusted (self-signed certificate not in the trust store",
        ),
        ("other name", "the certificate is for www.example.com, not mx1.example.com"),
        ("expired", "CN=mx1.example.com,O=mailtls test expired on"),
        ("no starttls", "no STARTTLS"),
        ("no handshake", "no TLS handshake"),
    ],
)
def test_an_invalid_certificate_under_enforce_gets_no_mail(
    presented: str, problem: str, pki: Pki
) -> None:
    good = address("192.0.2.1", MX1, pki, issuing.issue((MX1,), issuer=pki.root))
    bad = {
        "self-signed": lambda: address("192.0.2.2", MX1, pki, issuing.issue((MX1,))),
        "other name": lambda: address(
            "192.0.2.2", MX1, pki, issuing.issue(("www.example.com",), issuer=pki.root)
        ),
        "expired": lambda: address(
            "192.0.2.2",
            MX1,
            pki,
            issuing.issue(
                (MX1,),
                issuer=pki.root,
                not_before=NOW - timedelta(days=100),
                not_after=NOW - timedelta(days=1),
            ),
        ),
        "no starttls": lambda: address("192.0.2.2", MX1, pki, None, ProbeOutcome.NO_STARTTLS),
        "no handshake": lambda: address("192.0.2.2", MX1, pki, None, ProbeOutcome.HANDSHAKE_FAILED),
    }[presented]()
    report, findings = judge(txt(RECORD), [mx_host(MX1, good, bad)], policy("enforce", MX1))
    assert report.state is MtaStsState.FAILING
    assert report.mx == (MtaStsMxCheck(MX1, True, False),)
    assert codes(findings) == [F.MTA_STS_CERT_INVALID]
    assert f"192.0.2.2:25: {problem}" in findings[0].message
    assert "192.0.2.1" not in findings[0].message
    assert "4.7.5" in findings[0].message


def test_a_host_without_a_tested_address_has_no_certificate_verdict(pki: Pki) -> None:
    unreachable = address("192.0.2.9", MX2, pki, None, ProbeOutcome.CONNECT_FAILED)
    hosts = [good_host(MX1, pki), mx_host(MX2, unreachable), mx_host("")]  # "" : a null MX
    report, findings = judge(txt(RECORD), hosts, policy("enforce", "*.example.com"))
    assert report.state is MtaStsState.ENFORCED
    assert report.mx == (MtaStsMxCheck(MX1, True, True), MtaStsMxCheck(MX2, True, None))
    assert f"the certificate of {MX2} was not tested" in findings[0].message


def test_both_failures_are_reported_per_host(pki: Pki) -> None:
    hosts = [
        mx_host(MX1, address("192.0.2.1", MX1, pki, issuing.issue((MX1,)))),
        good_host("other.example.net", pki, "192.0.2.2"),
    ]
    report, findings = judge(txt(RECORD), hosts, policy("enforce", MX1))
    assert report.state is MtaStsState.FAILING
    assert codes(findings) == [F.MTA_STS_MX_NOT_COVERED, F.MTA_STS_CERT_INVALID]


# --- testing and none --------------------------------------------------------------------------


def test_testing_mode_reports_what_enforce_would_stop(pki: Pki) -> None:
    hosts = [
        mx_host(MX1, address("192.0.2.1", MX1, pki, issuing.issue((MX1,)))),
        good_host("other.example.net", pki, "192.0.2.2"),
    ]
    report, findings = judge(txt(RECORD), hosts, policy("testing", MX1))
    assert report.state is MtaStsState.TESTING
    assert report.mx == (
        MtaStsMxCheck(MX1, True, False),
        MtaStsMxCheck("other.example.net", False, True),
    )
    assert codes(findings) == [F.MTA_STS_TESTING]  # failures are no findings in testing mode
    text = findings[0].message
    assert "in enforce mode senders would not deliver where" in text
    assert f"other.example.net is not covered by {MX1}" in text
    assert f"{MX1}: 192.0.2.1:25: the certificate is not trusted" in text


def test_testing_mode_without_failures_says_enforce_is_safe(pki: Pki) -> None:
    _, findings = judge(txt(RECORD), [good_host(MX1, pki)], policy("testing", MX1))
    assert "switching to enforce would stop nothing seen here" in findings[0].message


def test_mode_none_withdraws_the_policy(pki: Pki) -> None:
    report, findings = judge(txt(RECORD), [good_host(MX1, pki)], policy("none", max_age=60))
    assert report.state is MtaStsState.NONE
    assert findings == []  # not even for the short max_age: the policy is being withdrawn


@pytest.mark.parametrize(
    ("max_age", "small"), [(0, True), (86399, True), (86400, False), (31557600, False)]
)
def test_a_max_age_under_a_day_is_a_warning(max_age: int, small: bool, pki: Pki) -> None:
    _, findings = judge(txt(RECORD), [good_host(MX1, pki)], policy("enforce", MX1, max_age=max_age))
    assert (F.MTA_STS_MAX_AGE_SMALL in codes(findings)) is small
    if small:
        found = next(f for f in findings if f.code is F.MTA_STS_MAX_AGE_SMALL)
        assert f"max_age {max_age} s is under a day" in found.message


@given(
    records=st.lists(st.text(max_size=80), max_size=3),
    body=st.one_of(st.none(), st.text(max_size=300)),
    fetch=st.sampled_from(MtaStsFetch),
)
@settings(max_examples=150)
def test_any_record_and_body_yield_a_verdict(
    records: list[str], body: str | None, fetch: MtaStsFetch
) -> None:
    report, findings = judge(txt(*records), [], body, fetch=fetch)
    assert report.state in MtaStsState
    assert (report.policy is None) or not report.policy_problems
    assert len(findings) <= 2

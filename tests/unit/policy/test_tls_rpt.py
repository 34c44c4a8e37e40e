"""The TLS-RPT record (RFC 8460 3): found, valid, and where reports go."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.models import DnsOutcome, DnsStatus, FindingCode, Severity
from mailtls.policy.tls_rpt import judge_tls_rpt

NAME = "_smtp._tls.example.com"


def txt(*records: str, status: DnsStatus = DnsStatus.OK, detail: str | None = None) -> DnsOutcome:
    return DnsOutcome(NAME, "TXT", status, records, detail=detail)


@pytest.mark.parametrize(
    ("record", "rua"),
    [
        # RFC 8460 3's examples
        ("v=TLSRPTv1;rua=mailto:reports@example.com", ("mailto:reports@example.com",)),
        ("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt", ("https://reporting.example.com/v1/tlsrpt",)),
        (
            "v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.net:8443/x?y=1;",
            ("mailto:a@example.com", "https://r.example.net:8443/x?y=1"),
        ),
        ("v=TLSRPTv1 ;\trua=mailto:a@example.com ; x-ext=1", ("mailto:a@example.com",)),
        ("v=TLSRPTv1; rua=MAILTO:tls%21rpt@example.com", ("MAILTO:tls%21rpt@example.com",)),
        # a second rua counts once, the first
        ("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", ("mailto:a@example.com",)),
    ],
)  # fmt: skip
def test_valid_records(record: str, rua: tuple[str, ...]) -> None:
    report, findings = judge_tls_rpt(txt("v=spf1 -all", record))
    assert (report.record, report.valid, report.rua, report.problem) == (record, True, rua, None)
    assert findings == []


@pytest.mark.parametrize(
    "answer",
    [
        txt(status=DnsStatus.NXDOMAIN),
        txt(status=DnsStatus.NO_DATA),
        txt("v=spf1 -all", "v=DMARC1; p=none"),
    ],
)
def test_no_record_is_an_informational_finding(answer: DnsOutcome) -> None:
    report, findings = judge_tls_rpt(answer)
    assert (report.record, report.valid, report.rua) == (None, False, ())
    assert [f.code for f in findings] == [FindingCode.TLSRPT_MISSING]
    assert findings[0].severity is Severity.INFO
    assert NAME in findings[0].message


@pytest.mark.parametrize(
    ("records", "problem", "rua"),
    [
        (["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"], "2 TXT records begin with 'v=TLSRPTv1'", ()),
        (["v=TLSRPTv1 rua=mailto:a@example.com"], "does not begin with 'v=TLSRPTv1' followed by ';'", ()),
        (["v=tlsrptv1; rua=mailto:a@example.com"], "the version is case-sensitive", ()),
        (["v=TLSRPTv1;"], "no rua field", ()),
        (["v=TLSRPTv1; RUA=mailto:a@example.com"], "no rua field, which names where reports go (field names are case-sensitive: 'rua')", ()),
        (["v=TLSRPTv1; rua=mailto:a@example.com;; x=1"], "field 2 is empty", ()),
        (["v=TLSRPTv1; rua = mailto:a@example.com"], "not name=value", ()),
        (["v=TLSRPTv1; rua=mailto:a@example.com; x=a b"], "visible ASCII without ';', '=' or spaces", ()),
        (["v=TLSRPTv1; rua="], "empty destination", ()),
        (["v=TLSRPTv1; rua=mailto:a@example.com,"], "empty destination", ()),
        (["v=TLSRPTv1; rua=ftp://r.example.com/x"], "'ftp://r.example.com/x': scheme 'ftp' is not one senders report to (mailto: and https: only); senders have no destination", ()),
        (["v=TLSRPTv1; rua=reports@example.com"], "'reports@example.com': no scheme (mailto: or https:)", ()),
        (["v=TLSRPTv1; rua=mailto:reports"], "not a mail address", ()),
        (["v=TLSRPTv1; rua=mailto:a!b@example.com"], "'!' must be percent-encoded", ()),
        (["v=TLSRPTv1; rua=https:///path"], "no host in the https URL", ()),
        (["v=TLSRPTv1; rua=https://r.example.com:99999/"], "not an https URL", ()),
        (["v=TLSRPTv1; rua=mailto:a@example.com, http://r.example.com/x"], "senders report to the other destinations only", ("mailto:a@example.com",)),
        (["v=TLSRPTv1; rua=mailto:ré@example.com"], "not a URI", ()),
    ],
)  # fmt: skip
def test_invalid_records_say_why(records: list[str], problem: str, rua: tuple[str, ...]) -> None:
    report, findings = judge_tls_rpt(txt(*records))
    assert report.valid is False
    assert report.rua == rua
    assert report.problem is not None
    assert problem in report.problem
    assert [f.code for f in findings] == [FindingCode.TLSRPT_INVALID]
    assert findings[0].severity is Severity.WARNING
    assert problem in findings[0].message


def test_a_failed_lookup_is_no_verdict() -> None:
    report, findings = judge_tls_rpt(
        txt(status=DnsStatus.SERVFAIL, detail="SERVFAIL from 127.0.0.1")
    )
    assert (report.valid, report.problem) == (
        False,
        "the TXT lookup failed (servfail: SERVFAIL from 127.0.0.1)",
    )
    assert findings == []


@given(st.lists(st.text(max_size=120), max_size=3))
def test_random_txt_records_never_raise(records: list[str]) -> None:
    report, findings = judge_tls_rpt(txt(*records))
    assert report.valid == (report.problem is None)
    assert len(findings) <= 1


@given(st.text(max_size=200))
def test_random_fields_after_the_version_never_raise(fields: str) -> None:
    report, _ = judge_tls_rpt(txt("v=TLSRPTv1;" + fields))
    assert all(uri.lower().startswith(("mailto:", "https:")) for uri in report.rua)

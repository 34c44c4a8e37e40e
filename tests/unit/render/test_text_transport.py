"""DANE, MTA-STS and TLS-RPT lines in the terminal report."""

from __future__ import annotations

import dataclasses

from mailtls.models import (
    DaneReport,
    DaneState,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    DomainReport,
    MtaStsFetch,
    MtaStsMode,
    MtaStsMxCheck,
    MtaStsPolicy,
    MtaStsReport,
    MtaStsState,
    TlsaRecord,
    TlsRptReport,
)
from mailtls.render.text import render_text
from tests.unit.render import samples

LEAF_HASH = "8cb0f5e5a2e0d3b6b1a6cf3d07a0d3f53f8c61cde3f2a54c1f3d2f20a0a5b7c1"


def with_policies(domain: DomainReport, *, dane: DaneState, sts: MtaStsState) -> DomainReport:
    host = domain.mx_hosts[0]
    tlsa = DnsOutcome(
        f"_25._tcp.{host.host}",
        "TLSA",
        DnsStatus.OK,
        (f"3 1 1 {LEAF_HASH}",),
        dnssec=DnssecStatus.SECURE,
    )
    report = DaneReport(tlsa, DnssecStatus.SECURE, (TlsaRecord(3, 1, 1, LEAF_HASH),), (), dane)
    txt = DnsOutcome(f"_mta-sts.{domain.target.name}", "TXT", DnsStatus.OK, ("v=STSv1; id=42;",))
    mta_sts = MtaStsReport(
        txt=txt,
        record_id="42",
        record_problem=None,
        policy_url=f"https://mta-sts.{domain.target.name}/.well-known/mta-sts.txt",
        fetch=MtaStsFetch.OK,
        fetch_detail=None,
        policy=MtaStsPolicy("STSv1", MtaStsMode.ENFORCE, (host.host,), 604800),
        policy_problems=(),
        mx=(MtaStsMxCheck(host.host, True, True),),
        state=sts,
    )
    rpt_txt = DnsOutcome(f"_smtp._tls.{domain.target.name}", "TXT", DnsStatus.NO_DATA)
    rpt = TlsRptReport(rpt_txt, None, False, (), None)
    hosts = (dataclasses.replace(host, dane=report), *domain.mx_hosts[1:])
    return dataclasses.replace(domain, mx_hosts=hosts, dane=dane, mta_sts=mta_sts, tls_rpt=rpt)


def test_valid_dane_enforced_mta_sts_and_no_tls_rpt_are_shown() -> None:
    domain = with_policies(samples.modern_domain(), dane=DaneState.VALID, sts=MtaStsState.ENFORCED)
    text = render_text(samples.report(domain), color=False, width=120)
    host = domain.mx_hosts[0].host
    assert f"DANE:    {host}: valid  (3 1 1 8cb0f5e5a2e0...)" in text
    assert "MTA-STS: enforce, every MX host covered  (id 42)" in text
    assert "TLS-RPT: no record" in text


def test_a_dane_mismatch_and_a_failing_policy_say_what_senders_do() -> None:
    domain = with_policies(
        samples.modern_domain(), dane=DaneState.MISMATCH, sts=MtaStsState.FAILING
    )
    text = render_text(samples.report(domain), color=False, width=160)
    assert "no TLSA record matches: DANE senders do not deliver" in text
    assert "enforce, but an MX host fails it: senders do not deliver there" in text


def test_domains_checked_without_policies_show_no_policy_lines() -> None:
    text = render_text(samples.report(samples.modern_domain()), color=False, width=120)
    assert "DANE:" not in text
    assert "MTA-STS:" not in text

"""How DANE, MTA-STS, TLS-RPT and DNSSEC verdicts are put into a domain's report."""

from __future__ import annotations

import dataclasses

from mailtls.models import (
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    FindingCode,
    MtaStsState,
)
from mailtls.policy.domain import all_findings
from mailtls.policy.transport import answers_dnssec, apply_transport_policies
from mailtls.transport_lookups import TransportLookups
from tests.unit.render import samples


def outcome(status: DnsStatus, dnssec: DnssecStatus | None) -> DnsOutcome:
    return DnsOutcome("mx.example.com", "A", status, dnssec=dnssec)


def test_an_address_set_is_secure_only_when_every_answer_is() -> None:
    secure = outcome(DnsStatus.OK, DnssecStatus.SECURE)
    assert answers_dnssec([secure, outcome(DnsStatus.NO_DATA, DnssecStatus.SECURE)]) is (
        DnssecStatus.SECURE
    )
    bogus_aaaa = outcome(DnsStatus.SERVFAIL, DnssecStatus.BOGUS)
    assert answers_dnssec([secure, bogus_aaaa]) is DnssecStatus.BOGUS
    assert answers_dnssec([outcome(DnsStatus.OK, DnssecStatus.INSECURE), secure]) is (
        DnssecStatus.INSECURE
    )
    assert answers_dnssec([outcome(DnsStatus.OK, None)]) is None
    assert answers_dnssec([]) is None


def test_lookups_put_dane_mta_sts_and_tls_rpt_in_the_report() -> None:
    domain = samples.modern_domain()
    host = domain.mx_hosts[0].host
    lookups = TransportLookups(
        tlsa={host: DnsOutcome(f"_25._tcp.{host}", "TLSA", DnsStatus.NO_DATA)},
        mta_sts_txt=DnsOutcome(f"_mta-sts.{domain.target.name}", "TXT", DnsStatus.NXDOMAIN),
        tls_rpt_txt=DnsOutcome(f"_smtp._tls.{domain.target.name}", "TXT", DnsStatus.NXDOMAIN),
    )
    judged = apply_transport_policies(domain, lookups, {})
    assert judged.mx_hosts[0].dane is not None
    assert judged.mx_hosts[1].dane is None  # not looked up: not judged
    assert judged.mta_sts is not None
    assert judged.mta_sts.state is MtaStsState.NOT_CONFIGURED
    assert judged.tls_rpt is not None
    missing = [f for f in all_findings(judged) if f.code is FindingCode.TLSRPT_MISSING]
    assert len(missing) == 1
    assert missing[0].remedy is not None


def test_a_domain_with_nowhere_to_deliver_gets_no_mta_sts_or_tls_rpt_verdict() -> None:
    domain = samples.nxdomain_domain()
    lookups = TransportLookups(
        mta_sts_txt=DnsOutcome("_mta-sts.x", "TXT", DnsStatus.TIMEOUT),
        tls_rpt_txt=DnsOutcome("_smtp._tls.x", "TXT", DnsStatus.TIMEOUT),
    )
    judged = apply_transport_policies(domain, lookups, {})
    assert (judged.mta_sts, judged.tls_rpt) == (None, None)
    assert judged.findings == domain.findings


def test_no_lookups_leave_the_report_as_it_was_but_for_empty_verdicts() -> None:
    domain = samples.modern_domain()
    judged = apply_transport_policies(domain, TransportLookups(), {})
    assert dataclasses.replace(judged, dane=None) == domain

"""DANE, MTA-STS, TLS-RPT and DNSSEC judged into a domain's report (pure).

Takes the report the probes made, the answers ``transport_lookups`` gathered and the chain each
address presented, and returns the report with ``MxHostReport.dane``, ``DomainReport.dane``,
``mta_sts`` and ``tls_rpt`` filled in and their findings (each with its generic fix) added
where they belong: DANE per MX host, the rest on the domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from mailtls.knowledge.remedies import AddressFacts, remedy_for
from mailtls.models import (
    DnsOutcome,
    DnssecStatus,
    DomainReport,
    Endpoint,
    Finding,
    MtaStsFetch,
    MxHostReport,
    TargetKind,
)
from mailtls.policy.dane import judge_dane_domain, judge_dane_host
from mailtls.policy.dnssec import dnssec_findings
from mailtls.policy.domain import TESTED_STATUSES
from mailtls.policy.mta_sts import judge_mta_sts
from mailtls.policy.tls_rpt import judge_tls_rpt
from mailtls.transport_lookups import TransportLookups


def answers_dnssec(outcomes: Iterable[DnsOutcome]) -> DnssecStatus | None:
    """SECURE only when every answer is (a failed one counts: a bogus AAAA beside a secure A
    is no secure address set); else the first status that is not.

    None when no answer was judged (no answers, or answers from before DNSSEC awareness).
    """
    judged = [o.dnssec for o in outcomes if o.dnssec is not None]
    if not judged:
        return None
    return next((status for status in judged if status is not DnssecStatus.SECURE), judged[0])


def _mx_answer(domain: DomainReport) -> DnsOutcome | None:
    return next((o for o in domain.dns if o.rdtype.upper() == "MX"), None)


def _with_remedies(findings: Iterable[Finding], mx_host: str | None) -> tuple[Finding, ...]:
    facts = AddressFacts(mx_host=mx_host)
    return tuple(
        dataclasses.replace(found, remedy=remedy_for(found.code, None, facts)) for found in findings
    )


def apply_transport_policies(
    domain: DomainReport,
    lookups: TransportLookups,
    chains: Mapping[Endpoint, tuple[bytes, ...]],
) -> DomainReport:
    """``domain`` with DANE, MTA-STS, TLS-RPT and DNSSEC judged in."""
    mx_answer = _mx_answer(domain)
    mx_dnssec = mx_answer.dnssec if mx_answer is not None else None
    next_hop = domain.target.name if domain.target.kind is TargetKind.DOMAIN else None
    hosts: list[MxHostReport] = []
    for host in domain.mx_hosts:
        tlsa = lookups.tlsa.get(host.host)
        if tlsa is None:
            hosts.append(host)
            continue
        tested = {
            address.endpoint: chains.get(address.endpoint, ())
            for address in host.addresses
            if address.status in TESTED_STATUSES
        }
        report, found = judge_dane_host(
            host.host,
            tlsa,
            # No MX answer led to an implicit MX or a host given directly: no MX condition.
            mx_dnssec=None if host.implicit or next_hop is None else mx_dnssec,
            host_dnssec=answers_dnssec(host.dns),
            chains=tested,
            next_hop=next_hop,
        )
        hosts.append(
            dataclasses.replace(
                host, dane=report, findings=host.findings + _with_remedies(found, host.host)
            )
        )
    dane_state, dane_found = judge_dane_domain(hosts)

    domain_found: list[Finding] = list(dane_found)
    # A domain without a mail host to deliver to (it does not exist, its DNS failed, a null MX)
    # has no transport to secure: its MTA-STS and TLS-RPT answers would only repeat that.
    deliverable = any(host.addresses for host in hosts)
    mta_sts = None
    if lookups.mta_sts_txt is not None and deliverable:
        fetch = lookups.mta_sts_fetch
        mta_sts, found = judge_mta_sts(
            domain.target.name,
            lookups.mta_sts_txt,
            fetch=fetch.outcome if fetch is not None else MtaStsFetch.NOT_FETCHED,
            fetch_detail=fetch.detail if fetch is not None else None,
            body=fetch.body if fetch is not None else None,
            mx_hosts=hosts,
        )
        domain_found.extend(found)
    tls_rpt = None
    if lookups.tls_rpt_txt is not None and deliverable:
        tls_rpt, found = judge_tls_rpt(lookups.tls_rpt_txt)
        domain_found.extend(found)
    # The TLSA answers are DANE's to judge (a bogus one is its finding), the others are here.
    answers = [*domain.dns, *(o for h in domain.mx_hosts for o in h.dns)]
    domain_found.extend(dnssec_findings(answers))
    return dataclasses.replace(
        domain,
        mx_hosts=tuple(hosts),
        findings=domain.findings + _with_remedies(domain_found, None),
        dane=dane_state,
        mta_sts=mta_sts,
        tls_rpt=tls_rpt,
    )

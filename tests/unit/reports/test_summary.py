from __future__ import annotations

import dataclasses

import pytest

from mailtls.models import (
    AddressStatus,
    ExoInbound,
    ExoOutbound,
    FindingCode,
    ProductGuess,
    Severity,
    TargetKind,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import finding
from mailtls.reports.summary import (
    BestTls,
    DomainStatus,
    ProductSeen,
    address_best_tls,
    posture_key,
    summarise_domain,
    summarise_run,
    target_label,
)
from tests.unit.reports import samples

DOMAINS = {target_label(d.target): d for d in samples.run_domains()}


@pytest.mark.parametrize(
    ("name", "best"),
    [
        ("northwind.example", BestTls.TLS1_3),  # TLS 1.3 at both addresses
        ("example.com", BestTls.TLS1_2),  # mx1 TLS 1.3, mx2 TLS 1.2: the weakest counts
        ("[2001:db8::25]:2525", BestTls.TLS1_2),
        ("contoso.example", BestTls.TLS1_1),
        ("example.net", BestTls.TLS1_0),
        ("fabrikam.example", BestTls.TLS1_0),  # TLS 1.3 primary, TLS 1.0-only backup MX
        ("example.org", BestTls.NO_TLS),  # no STARTTLS
        ("slow.example", BestTls.NOT_TESTED),  # timed out
        ("busy.example", BestTls.NOT_TESTED),  # rate limited
        ("nonexistent.example", BestTls.NOT_TESTED),
        ("nullmx.example", BestTls.NOT_TESTED),
        ("broken.example", BestTls.NOT_TESTED),
    ],
)
def test_best_tls_is_what_every_tested_address_offers(name: str, best: BestTls) -> None:
    assert summarise_domain(DOMAINS[name]).best_tls is best


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("example.com", DomainStatus.TESTED),
        ("example.org", DomainStatus.TESTED),  # no STARTTLS is a tested fact
        ("busy.example", DomainStatus.UNREACHABLE),
        ("slow.example", DomainStatus.UNREACHABLE),
        ("nonexistent.example", DomainStatus.NXDOMAIN),
        ("nullmx.example", DomainStatus.NULL_MX),
        ("broken.example", DomainStatus.DNS_FAILED),
    ],
)
def test_status_says_how_far_the_run_got(name: str, status: DomainStatus) -> None:
    assert summarise_domain(DOMAINS[name]).status is status


def test_a_domain_whose_mx_hosts_have_no_address_has_no_address() -> None:
    busy = DOMAINS["busy.example"]
    stale_only = dataclasses.replace(busy, mx_hosts=busy.mx_hosts[1:])
    assert summarise_domain(stale_only).status is DomainStatus.NO_ADDRESS


def test_untested_addresses_do_not_pull_the_best_tls_down() -> None:
    modern = DOMAINS["northwind.example"]
    busy_address = DOMAINS["busy.example"].mx_hosts[0].addresses[0]
    host = modern.mx_hosts[0]
    with_busy = dataclasses.replace(
        modern,
        mx_hosts=(dataclasses.replace(host, addresses=(*host.addresses, busy_address)),),
    )
    summary = summarise_domain(with_busy)
    assert summary.best_tls is BestTls.TLS1_3
    assert (summary.addresses, summary.tested_addresses) == (3, 2)


def test_an_address_whose_every_handshake_fails_offers_no_tls() -> None:
    address = DOMAINS["example.net"].mx_hosts[0].addresses[0]
    failed = dataclasses.replace(
        address,
        status=AddressStatus.TLS_FAILED,
        negotiated=None,
        tls_versions=dict.fromkeys(TlsVersion, VersionSupport.UNSUPPORTED),
    )
    assert address_best_tls(failed) is BestTls.NO_TLS
    assert address_best_tls(address) is BestTls.TLS1_0


def test_readiness_comes_from_the_domain_verdict() -> None:
    contoso = summarise_domain(DOMAINS["contoso.example"])
    assert contoso.exo_inbound is ExoInbound.PLAINTEXT_FALLBACK
    assert contoso.exo_outbound is ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL
    modern = summarise_domain(DOMAINS["example.com"])
    assert (modern.exo_inbound, modern.exo_outbound) == (ExoInbound.TLS12, ExoOutbound.LIKELY_TLS12)


def test_finding_counts_count_every_place_a_finding_applies() -> None:
    domain = DOMAINS["northwind.example"]
    host = domain.mx_hosts[0]
    no_tls13 = finding(FindingCode.TLS13_UNSUPPORTED, "TLS 1.3 is not offered")
    addresses = tuple(dataclasses.replace(a, findings=(no_tls13,)) for a in host.addresses)
    nxdomain_like = finding(FindingCode.MX_UNRESOLVABLE, "x")
    changed = dataclasses.replace(
        domain,
        mx_hosts=(dataclasses.replace(host, addresses=addresses, findings=(nxdomain_like,)),),
    )
    summary = summarise_domain(changed)
    assert summary.severity_counts == {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert [(c.code, c.count) for c in summary.codes] == [
        (FindingCode.MX_UNRESOLVABLE, 1),
        (FindingCode.TLS13_UNSUPPORTED, 2),
    ]
    assert summary.worst_severity is Severity.WARNING


def test_a_domain_without_findings_has_no_worst_severity() -> None:
    summary = summarise_domain(DOMAINS["northwind.example"])
    assert summary.worst_severity is None
    assert summary.codes == ()
    assert set(summary.severity_counts.values()) == {0}


def test_products_are_named_once_each_with_their_version() -> None:
    domain = DOMAINS["example.com"]
    first = domain.mx_hosts[0]
    versioned = ProductGuess(
        product="postfix",
        name="Postfix",
        version="3.7.11",
        confidence=first.addresses[0].product.confidence,
        evidence=(),
    )
    hosts = (
        dataclasses.replace(
            first,
            addresses=tuple(dataclasses.replace(a, product=versioned) for a in first.addresses),
        ),
        *domain.mx_hosts[1:],
    )
    summary = summarise_domain(dataclasses.replace(domain, mx_hosts=hosts))
    assert summary.products == (ProductSeen("Postfix", "3.7.11"), ProductSeen("Postfix", None))
    assert [str(p) for p in summary.products] == ["Postfix 3.7.11", "Postfix"]
    assert summarise_domain(DOMAINS["slow.example"]).products == ()  # nothing recognised


def test_target_labels_are_written_as_a_user_writes_them() -> None:
    assert set(DOMAINS) >= {"example.com", "[2001:db8::25]:2525"}
    host_target = dataclasses.replace(
        DOMAINS["example.com"].target, kind=TargetKind.HOST, name="mx.example.net"
    )
    assert target_label(host_target) == "[mx.example.net]"


def test_the_run_summary_counts_domains_in_every_dimension() -> None:
    run = summarise_run(samples.run_info(), samples.run_domains())
    assert run.domains == 12
    assert run.by_best_tls == {
        BestTls.TLS1_3: 1,
        BestTls.TLS1_2: 2,
        BestTls.TLS1_1: 1,
        BestTls.TLS1_0: 2,
        BestTls.NO_TLS: 1,
        BestTls.NOT_TESTED: 5,
    }
    assert run.by_exo_inbound == {
        ExoInbound.TLS12: 3,
        ExoInbound.PLAINTEXT_FALLBACK: 4,
        ExoInbound.NOT_TESTED: 5,
    }
    assert run.by_status[DomainStatus.TESTED] == 7
    assert run.without_findings == 1  # northwind.example
    assert sum(run.by_worst_severity.values()) + run.without_findings == run.domains
    for counts in (run.by_status, run.by_best_tls, run.by_exo_inbound, run.by_exo_outbound):
        assert sum(counts.values()) == run.domains


def test_top_findings_are_ordered_by_domains_then_severity() -> None:
    run = summarise_run(samples.run_info(), samples.run_domains())
    top = run.top_findings(4)
    assert [(t.code, t.domains) for t in top] == [
        (FindingCode.TLS12_UNSUPPORTED, 3),  # example.net, contoso, fabrikam: critical
        (FindingCode.TLS10_ENABLED, 3),  # the same three: warning
        (FindingCode.TLS13_UNSUPPORTED, 3),  # example.com, contoso, the address target: info
        (FindingCode.CERT_EXPIRED, 2),  # first by code of three warnings on two domains
    ]
    keys = [(-t.domains, -t.severity.rank, t.code.value) for t in run.findings]
    assert keys == sorted(keys)
    tls12 = next(t for t in run.findings if t.code is FindingCode.TLS12_UNSUPPORTED)
    assert (tls12.domains, tls12.occurrences, tls12.severity) == (3, 3, Severity.CRITICAL)
    assert tls12.title.startswith("TLS 1.2 not supported")


def test_products_are_counted_per_domain() -> None:
    run = summarise_run(samples.run_info(), samples.run_domains())
    counts = {p.name: p.domains for p in run.products}
    assert counts["Microsoft Exchange Server 2010 or older"] == 1
    # example.com has three Postfix addresses and counts once.
    postfix_domains = [
        d for d in samples.run_domains() if "Postfix" in str(summarise_domain(d).products)
    ]
    assert counts["Postfix"] == len(postfix_domains)


def test_the_run_summary_reads_an_iterator_once() -> None:
    domains = samples.run_domains()
    run = summarise_run(samples.run_info(), iter(domains))
    assert run.domains == len(domains)


def test_posture_key_orders_readiness_then_tls_then_severity() -> None:
    names = [
        "northwind.example",  # TLS 1.2 for EXO, best 1.3, no finding
        "example.com",  # TLS 1.2 for EXO, best 1.2, warning
        "contoso.example",  # fallback, best 1.1
        "example.net",  # fallback, best 1.0
        "example.org",  # fallback, no TLS
        "slow.example",  # not tested, warning
        "broken.example",  # not tested, critical
    ]
    summaries = [summarise_domain(DOMAINS[name]) for name in names]
    ordered = sorted(summaries, key=posture_key, reverse=True)
    assert [s.domain for s in ordered] == names

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from mailtls.models import DomainReport, FindingCode
from mailtls.policy.codes import finding
from mailtls.reports.diff import Movement, RunDiff, diff_runs
from mailtls.reports.summary import BestTls
from tests.unit.reports import samples

OLD = samples.run_info(5, started_at=samples.RUN_STARTED.replace(day=7))
NEW = samples.run_info(7)


def diff(old: list[DomainReport], new: list[DomainReport]) -> RunDiff:
    # Generators: each run must be read once, as the store hands them over.
    return diff_runs(OLD, (d for d in old), NEW, (d for d in new))


def once(domains: list[DomainReport]) -> Iterator[DomainReport]:
    yield from domains


def test_two_equal_runs_differ_in_nothing() -> None:
    domains = list(samples.run_domains())
    result = diff(domains, domains)
    assert result.changed == ()
    assert (result.only_old, result.only_new) == ((), ())
    assert result.unchanged == len(domains)
    assert result.old.domains == result.new.domains == len(domains)
    assert (result.old.run, result.new.run) == (OLD, NEW)


def test_a_fixed_legacy_server_is_better_and_its_findings_resolved() -> None:
    legacy = samples.legacy_postfix()
    fixed = samples.renamed(samples.tls13_everywhere(), "example.net")
    result = diff([legacy], [fixed])
    (change,) = result.changed
    assert change.movement is Movement.BETTER
    assert result.better == (change,)
    assert result.worse == ()
    assert (change.old.best_tls, change.new.best_tls) == (BestTls.TLS1_0, BestTls.TLS1_3)
    assert change.new_findings == ()
    resolved = {
        (item.finding.code, item.mx_host, item.address) for item in change.resolved_findings
    }
    assert (FindingCode.TLS12_UNSUPPORTED, "mail.example.net", "198.51.100.25:25") in resolved
    assert len(resolved) == 5  # every finding the legacy server had
    # Worst first: the critical one leads.
    assert change.resolved_findings[0].finding.code is FindingCode.TLS12_UNSUPPORTED


def test_a_server_replaced_by_a_legacy_one_is_worse_with_new_findings() -> None:
    modern = samples.modern()
    legacy = samples.renamed(samples.legacy_exchange(), "example.com")
    (change,) = diff([modern], [legacy]).worse
    new = {(item.finding.code, item.address) for item in change.new_findings}
    assert (FindingCode.TLS12_UNSUPPORTED, "192.0.2.40:25") in new
    # TLS 1.3 was missing on mx2 before; on the new host it is a different place, so both show.
    assert (FindingCode.TLS13_UNSUPPORTED, "192.0.2.40:25") in new
    resolved = {(item.finding.code, item.address) for item in change.resolved_findings}
    assert resolved == {
        (FindingCode.TLS13_UNSUPPORTED, "192.0.2.20:25"),
        (FindingCode.CERT_EXPIRES_SOON, "192.0.2.20:25"),
    }


def test_a_server_that_stopped_answering_counts_as_worse() -> None:
    modern = samples.modern()
    silent = samples.renamed(samples.timeout(), "example.com")
    (change,) = diff([modern], [silent]).changed
    assert change.movement is Movement.WORSE
    assert change.new.best_tls is BestTls.NOT_TESTED


def test_a_new_finding_that_leaves_the_posture_alone_is_listed_as_same() -> None:
    modern = samples.modern()
    mx2 = modern.mx_hosts[1]
    address = mx2.addresses[0]
    self_signed = finding(FindingCode.CERT_SELF_SIGNED, "the certificate is self-signed")
    changed_address = dataclasses.replace(address, findings=(*address.findings, self_signed))
    later = dataclasses.replace(
        modern,
        mx_hosts=(modern.mx_hosts[0], dataclasses.replace(mx2, addresses=(changed_address,))),
    )
    (change,) = diff([modern], [later]).changed
    assert change.movement is Movement.SAME
    assert [item.finding for item in change.new_findings] == [self_signed]
    assert change.resolved_findings == ()


def test_a_changed_message_alone_is_no_change() -> None:
    modern = samples.modern()
    mx2 = modern.mx_hosts[1]
    address = mx2.addresses[0]
    renewed_later = tuple(
        dataclasses.replace(f, message="The certificate expires in 5 days: renew it.")
        if f.code is FindingCode.CERT_EXPIRES_SOON
        else f
        for f in address.findings
    )
    later = dataclasses.replace(
        modern,
        mx_hosts=(
            modern.mx_hosts[0],
            dataclasses.replace(
                mx2, addresses=(dataclasses.replace(address, findings=renewed_later),)
            ),
        ),
    )
    assert later != modern
    result = diff([modern], [later])
    assert result.changed == ()
    assert result.unchanged == 1


def test_domains_in_one_run_only_are_listed_by_name() -> None:
    old = [samples.modern(), samples.nxdomain(), samples.legacy_postfix()]
    new = [samples.legacy_postfix(), samples.no_starttls(), samples.modern(), samples.mixed()]
    result = diff(old, new)
    assert [s.domain for s in result.only_old] == ["nonexistent.example"]
    assert [s.domain for s in result.only_new] == ["example.org", "fabrikam.example"]
    assert result.unchanged == 2
    assert (result.old.domains, result.new.domains) == (3, 4)


def test_changes_are_sorted_by_domain() -> None:
    old = [samples.renamed(samples.tls13_everywhere(), name) for name in ("b.example", "a.example")]
    new = [samples.renamed(samples.legacy_exchange(), name) for name in ("a.example", "b.example")]
    result = diff(old, new)
    assert [c.domain for c in result.changed] == ["a.example", "b.example"]
    assert all(c.movement is Movement.WORSE for c in result.changed)


def test_a_domain_listed_twice_counts_once() -> None:
    modern = samples.modern()
    result = diff(
        [modern, samples.renamed(samples.legacy_exchange(), "example.com")], [modern, modern]
    )
    assert result.unchanged == 1
    assert result.changed == ()
    assert (result.old.domains, result.new.domains) == (1, 1)


def test_each_run_is_read_once() -> None:
    domains = list(samples.run_domains())
    result = diff_runs(OLD, once(domains), NEW, once(domains))
    assert result.unchanged == len(domains)

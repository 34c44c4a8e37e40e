"""`mailtls check` against the secure world: a signed zone tree behind a validating resolver,
HTTPS hosts serving MTA-STS policies, MX hosts that are the fleet's Postfix listeners.

Each world domain says what a check must conclude (``tests/integration/dnssec/layout.py``,
whose expectations the world's own tests verify on the wire); here the whole of mailtls —
DNSSEC status from the resolver, TLSA against the chains the probes saw, the policy fetched
over HTTPS — must come to the same conclusions.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import jsonschema
import pytest

from mailtls.models import (
    CheckReport,
    DaneState,
    DnssecStatus,
    DomainReport,
    FindingCode,
    MtaStsState,
)
from mailtls.net.nameservers import parse_nameserver
from mailtls.policy.domain import all_findings
from mailtls.scanner import CheckOptions, check_targets
from mailtls.schema import check_report_schema
from mailtls.targets import parse_target
from tests.integration.dnssec.layout import SecureWorld, WorldDomain, WorldDomains

pytestmark = pytest.mark.integration

DOMAINS = WorldDomains().all()


@pytest.fixture(scope="module")
def checked(secure_world: SecureWorld) -> dict[str, DomainReport]:
    options = CheckOptions(
        nameservers=(parse_nameserver(secure_world.nameserver),),
        ca_file=secure_world.ca_file,
        ehlo_name="probe.mailtls.test",
        timeout=5.0,
        greeting_timeout=10.0,
        deadline=60.0,
        ipv6=False,
    )
    report = asyncio.run(check_targets([parse_target(d.name) for d in DOMAINS], options))
    return {domain.target.name: domain for domain in report.domains}


def codes(domain: DomainReport) -> set[FindingCode]:
    return {finding.code for finding in all_findings(domain)}


@pytest.mark.parametrize("world", DOMAINS, ids=lambda d: d.name)
def test_each_mx_host_gets_the_dane_verdict_the_world_was_built_for(
    world: WorldDomain, checked: dict[str, DomainReport], secure_world: SecureWorld
) -> None:
    report = checked[world.name]
    if world.zone.dnssec is DnssecStatus.BOGUS:
        assert report.mx_hosts == ()  # the MX answer itself is bogus: SERVFAIL
        assert FindingCode.DNSSEC_BOGUS in codes(report) or FindingCode.DNS_SERVFAIL in codes(
            report
        )
        return
    for host in report.mx_hosts:
        expected = secure_world.mx_host(host.host)
        assert host.dane is not None, host.host
        assert host.dane.state is expected.dane, f"{host.host}: {expected.why}"
    if world.dane is not None:
        assert report.dane is world.dane


@pytest.mark.parametrize(
    "world", [d for d in DOMAINS if d.mta_sts is not None], ids=lambda d: d.name
)
def test_each_mta_sts_case_is_fetched_and_judged_as_built(
    world: WorldDomain, checked: dict[str, DomainReport]
) -> None:
    report = checked[world.name].mta_sts
    case = world.mta_sts
    assert report is not None
    assert case is not None
    assert report.state is case.state, report
    assert report.fetch is case.fetch, report.fetch_detail


@pytest.mark.parametrize("world", DOMAINS, ids=lambda d: d.name)
def test_domains_without_mta_sts_or_tls_rpt_say_so(
    world: WorldDomain, checked: dict[str, DomainReport]
) -> None:
    report = checked[world.name]
    if not any(host.addresses for host in report.mx_hosts):
        # Nowhere to deliver (a bogus zone, a bogus MX host): nothing to secure, nothing said.
        assert (report.mta_sts, report.tls_rpt) == (None, None)
        return
    if world.mta_sts is None:
        assert report.mta_sts is not None
        assert report.mta_sts.state is MtaStsState.NOT_CONFIGURED
    assert report.tls_rpt is not None
    if world.tls_rpt is None:
        assert FindingCode.TLSRPT_MISSING in codes(report)
    else:
        assert report.tls_rpt.valid is world.tls_rpt.valid
        assert report.tls_rpt.rua == world.tls_rpt.rua


def test_findings_follow_the_verdicts(checked: dict[str, DomainReport]) -> None:
    world = WorldDomains()
    assert FindingCode.DANE_MISMATCH in codes(checked[world.dane_mismatch.name])
    assert FindingCode.DANE_VALID in codes(checked[world.dane_valid.name])
    assert FindingCode.DANE_PARTIAL in codes(checked[world.dane_some_hosts.name])
    assert FindingCode.DANE_PARTIAL not in codes(checked[world.dane_partial.name])
    assert FindingCode.MTA_STS_MX_NOT_COVERED in codes(checked[world.sts_uncovered.name])
    assert FindingCode.MTA_STS_POLICY_UNREACHABLE in codes(checked[world.sts_not_found.name])
    assert FindingCode.MTA_STS_MAX_AGE_SMALL in codes(checked[world.sts_short_max_age.name])
    mismatch = next(
        f for f in all_findings(checked[world.dane_mismatch.name])
        if f.code is FindingCode.DANE_MISMATCH
    )  # fmt: skip
    assert mismatch.remedy is not None  # with the fix: publish the presented key's 3 1 1


def test_the_command_line_check_of_world_domains_validates_and_exits_critical(
    secure_world: SecureWorld,
) -> None:
    world = WorldDomains()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailtls.cli",
            "check",
            "--json",
            "-4",
            "--nameserver",
            secure_world.nameserver,
            "--ca-file",
            str(secure_world.ca_file),
            "--timeout",
            "5",
            world.dane_valid.name,
            world.dane_mismatch.name,
            world.sts_enforce.name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document = json.loads(done.stdout)
    jsonschema.validate(document, check_report_schema())
    assert done.returncode == 2, done.stderr  # the DANE mismatch is critical
    report = CheckReport  # the document follows the models' schema, version 2
    assert document["schema_version"] == "2", report
    by_name = {d["target"]["name"]: d for d in document["domains"]}
    assert by_name[world.sts_enforce.name]["mta_sts"]["state"] == "enforced"
    assert by_name[world.dane_valid.name]["dane"] == DaneState.VALID.value
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailtls.cli",
            "check",
            "-4",
            "--nameserver",
            secure_world.nameserver,
            "--ca-file",
            str(secure_world.ca_file),
            "--no-mta-sts",
            world.dane_mismatch.name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "no TLSA record matches: DANE senders do not deliver" in text.stdout
    assert "MTA-STS:" not in text.stdout

"""`mailtls check` against real Postfix listeners and a real nsd on loopback.

One check of every posture domain and DNS case runs once per module (concurrently, as a user's
multi-target check would); each test then asserts one fact of the report against what the
fleet's configuration says, which ``test_fleet.py`` verified independently on the wire.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import jsonschema
import pytest

from mailtls.models import (
    AddressReport,
    AddressStatus,
    CheckReport,
    DomainReport,
    ExoInbound,
    FindingCode,
    TlsVersion,
    VersionSupport,
)
from mailtls.net.nameservers import parse_nameserver
from mailtls.policy.domain import EXIT_CRITICAL, EXIT_OK, EXIT_UNTESTABLE
from mailtls.render.jsonout import render_json
from mailtls.scanner import CheckOptions, check_targets
from mailtls.schema import check_report_schema
from mailtls.targets import parse_target
from tests.integration.fleet import DOMAINS, LISTENERS, CertificateKind, Fleet, Listener, Posture

pytestmark = pytest.mark.integration

CERTIFICATE_CODES = {
    CertificateKind.TRUSTED: set(),
    CertificateKind.EXPIRED: {FindingCode.CERT_EXPIRED},
    CertificateKind.WRONG_NAME: {FindingCode.CERT_NAME_MISMATCH},
    CertificateKind.SELF_SIGNED: {FindingCode.CERT_SELF_SIGNED},
    # Modern validators refuse SHA-1 signatures, so such a chain is also untrusted.
    CertificateKind.SHA1_SIGNED: {FindingCode.CERT_SHA1_SIGNATURE, FindingCode.CERT_UNTRUSTED},
    CertificateKind.NONE: set(),
}
CERT_CODES = {code for code in FindingCode if code.name.startswith("CERT_")}


def options(fleet: Fleet, **overrides: object) -> CheckOptions:
    settings: dict[str, object] = {
        "nameservers": (parse_nameserver(fleet.nameserver),),
        "ca_file": fleet.ca_file,
        "ehlo_name": "probe.mailtls.test",
        "timeout": 10.0,
        "greeting_timeout": 10.0,
        "deadline": 60.0,
    }
    settings.update(overrides)
    return CheckOptions(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def report(fleet: Fleet) -> CheckReport:
    names = [listener.domain for listener in LISTENERS] + [
        DOMAINS.multi, DOMAINS.dual, DOMAINS.implicit, DOMAINS.null_mx, DOMAINS.dangling,
        DOMAINS.no_mail, DOMAINS.missing, DOMAINS.servfail,
    ]  # fmt: skip
    return asyncio.run(check_targets([parse_target(n) for n in names], options(fleet)))


def domain(report: CheckReport, name: str) -> DomainReport:
    return next(d for d in report.domains if d.target.name == name)


def only_address(report: CheckReport, name: str) -> AddressReport:
    (host,) = domain(report, name).mx_hosts
    (address,) = host.addresses
    return address


def codes(address: AddressReport) -> set[FindingCode]:
    return {f.code for f in address.findings}


@pytest.mark.parametrize("listener", LISTENERS, ids=[item.posture.value for item in LISTENERS])
def test_versions_match_the_listener_configuration(report: CheckReport, listener: Listener) -> None:
    address = only_address(report, listener.domain)
    assert address.endpoint == listener.endpoint
    assert address.status is AddressStatus.OK
    assert address.starttls is listener.starttls
    if not listener.starttls:
        assert set(address.tls_versions.values()) == {VersionSupport.NOT_TESTED}
        assert address.connections == 1
        return
    expected = {
        version: VersionSupport.SUPPORTED
        if version in listener.tls_versions
        else VersionSupport.UNSUPPORTED
        for version in TlsVersion
    }
    assert address.tls_versions == expected
    assert 1 <= address.connections <= 7


@pytest.mark.parametrize("listener", LISTENERS, ids=[item.posture.value for item in LISTENERS])
def test_certificate_findings_match_the_certificate_served(
    report: CheckReport, listener: Listener
) -> None:
    address = only_address(report, listener.domain)
    assert codes(address) & CERT_CODES == CERTIFICATE_CODES[listener.certificate]
    if listener.starttls:
        assert address.certificate is not None
        assert address.certificate.leaf.dns_names[0] == listener.certificate_names[0]


@pytest.mark.parametrize(
    ("posture", "inbound", "tls_codes"),
    [
        (Posture.MODERN, ExoInbound.TLS12, set()),
        (Posture.TLS12_ONLY, ExoInbound.TLS12, {FindingCode.TLS13_UNSUPPORTED}),
        (Posture.LEGACY, ExoInbound.PLAINTEXT_FALLBACK,
         {FindingCode.TLS12_UNSUPPORTED, FindingCode.TLS13_UNSUPPORTED,
          FindingCode.TLS10_ENABLED, FindingCode.TLS11_ENABLED}),
        (Posture.NO_STARTTLS, ExoInbound.PLAINTEXT_FALLBACK, {FindingCode.STARTTLS_MISSING}),
        (Posture.NO_EXO_CIPHERS, ExoInbound.PLAINTEXT_FALLBACK,
         {FindingCode.EXO_CIPHERS_UNSUPPORTED, FindingCode.TLS13_UNSUPPORTED}),
        (Posture.ALL_VERSIONS, ExoInbound.TLS12, {FindingCode.TLS10_ENABLED, FindingCode.TLS11_ENABLED}),
        (Posture.IPV6, ExoInbound.TLS12, set()),
    ],
)  # fmt: skip
def test_exchange_online_verdict_and_tls_findings(
    report: CheckReport, posture: Posture, inbound: ExoInbound, tls_codes: set[FindingCode]
) -> None:
    listener = next(item for item in LISTENERS if item.posture is posture)
    address = only_address(report, listener.domain)
    assert address.verdict.inbound is inbound
    assert codes(address) - CERT_CODES == tls_codes


def test_legacy_probes_really_negotiate_tls10_and_tls11(report: CheckReport) -> None:
    address = only_address(report, listener_domain(Posture.LEGACY))
    negotiated = {p.handshake.version for p in address.probes if p.handshake is not None}
    assert negotiated == {TlsVersion.TLS1_0, TlsVersion.TLS1_1}


def listener_domain(posture: Posture) -> str:
    return next(item.domain for item in LISTENERS if item.posture is posture)


def test_multi_mx_domain_lists_hosts_by_preference_and_mixes_verdicts(report: CheckReport) -> None:
    multi = domain(report, DOMAINS.multi)
    assert [(h.preference, h.host) for h in multi.mx_hosts] == list(DOMAINS.multi_mx)
    assert [a.endpoint.ip for h in multi.mx_hosts for a in h.addresses] == [
        "127.0.2.1", "127.0.2.3", "::1",
    ]  # fmt: skip
    assert multi.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK
    assert "1 of 3" in multi.verdict.summary


def test_every_address_record_of_an_mx_is_checked(report: CheckReport) -> None:
    (host,) = domain(report, DOMAINS.dual).mx_hosts
    assert tuple(a.endpoint.ip for a in host.addresses) == DOMAINS.dual_addresses
    assert all(a.verdict.inbound is ExoInbound.TLS12 for a in host.addresses)


def test_an_address_shared_by_several_targets_is_probed_once(report: CheckReport) -> None:
    shared = [
        a
        for d in report.domains
        for h in d.mx_hosts
        for a in h.addresses
        if a.endpoint.ip == "127.0.2.1"
    ]
    assert len(shared) >= 4  # modern, multi, dual, implicit
    assert len({id(a.probes) for a in shared}) == 1 or len({a.probes for a in shared}) == 1


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (DOMAINS.implicit, FindingCode.IMPLICIT_MX),
        (DOMAINS.null_mx, FindingCode.NULL_MX),
        (DOMAINS.dangling, FindingCode.MX_UNRESOLVABLE),
        (DOMAINS.no_mail, FindingCode.NO_MAIL_HOST),
        (DOMAINS.missing, FindingCode.DOMAIN_NXDOMAIN),
        (DOMAINS.servfail, FindingCode.DNS_SERVFAIL),
    ],
)
def test_dns_cases_become_findings(report: CheckReport, name: str, code: FindingCode) -> None:
    target = domain(report, name)
    found = {f.code for f in target.findings} | {
        f.code for h in target.mx_hosts for f in h.findings
    }
    assert code in found


def test_implicit_mx_is_checked_at_the_domain_address(report: CheckReport) -> None:
    (host,) = domain(report, DOMAINS.implicit).mx_hosts
    assert host.implicit
    assert [a.endpoint.ip for a in host.addresses] == [DOMAINS.implicit_address]
    assert host.addresses[0].verdict.inbound is ExoInbound.TLS12


def test_json_of_the_whole_report_matches_the_schema(report: CheckReport) -> None:
    jsonschema.validate(json.loads(render_json(report)), check_report_schema())


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailtls.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_options(fleet: Fleet) -> list[str]:
    return ["--nameserver", fleet.nameserver, "--ca-file", str(fleet.ca_file), "--timeout", "10"]


@pytest.mark.parametrize(
    ("targets", "exit_code"),
    [
        ([listener_domain(Posture.MODERN)], EXIT_OK),
        ([listener_domain(Posture.MODERN), listener_domain(Posture.LEGACY)], EXIT_CRITICAL),
        ([DOMAINS.missing], EXIT_UNTESTABLE),
        (["[127.0.2.1]:25", "[mx-tls12.mailtls.test]"], 0),  # TLS13_UNSUPPORTED is info only
    ],
)
def test_cli_exit_codes_and_json(fleet: Fleet, targets: list[str], exit_code: int) -> None:
    result = run_cli("check", "--json", *cli_options(fleet), *targets)
    assert result.returncode == exit_code, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, check_report_schema())
    assert document["exit_code"] == exit_code
    addresses = [a for d in document["domains"] for h in d["mx_hosts"] for a in h["addresses"]]
    for address in addresses:
        assert set(address["tls_versions"]) == {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
        assert {"ip", "status", "starttls", "connections", "findings"} <= set(address)


def test_cli_text_report_names_the_problem(fleet: Fleet) -> None:
    result = run_cli(
        "check", "--color", "never", *cli_options(fleet), listener_domain(Posture.LEGACY)
    )
    assert result.returncode == EXIT_CRITICAL
    assert "TLS12_UNSUPPORTED" in result.stdout
    assert "\x1b[" not in result.stdout


def test_ipv4_only_and_ipv6_only(fleet: Fleet) -> None:
    only4 = asyncio.run(check_targets([parse_target(DOMAINS.dual)], options(fleet, ipv6=False)))
    only6 = asyncio.run(check_targets([parse_target(DOMAINS.dual)], options(fleet, ipv4=False)))
    assert [a.endpoint.ip for h in only4.domains[0].mx_hosts for a in h.addresses] == ["127.0.2.1"]
    assert [a.endpoint.ip for h in only6.domains[0].mx_hosts for a in h.addresses] == ["::1"]


def test_fast_mode_gives_the_same_answers(fleet: Fleet, report: CheckReport) -> None:
    name = listener_domain(Posture.ALL_VERSIONS)
    fast = asyncio.run(check_targets([parse_target(name)], options(fleet, fast=True)))
    assert (
        fast.domains[0].mx_hosts[0].addresses[0].tls_versions
        == only_address(report, name).tls_versions
    )


def test_an_address_where_nothing_listens_is_connect_failed_and_untestable(fleet: Fleet) -> None:
    result = run_cli("check", "--json", *cli_options(fleet), "[127.0.9.9]:25")
    assert result.returncode == EXIT_UNTESTABLE
    (address,) = json.loads(result.stdout)["domains"][0]["mx_hosts"][0]["addresses"]
    assert address["status"] == "connect_failed"
    assert address["starttls"] is None
    assert address["connections"] == 1


def test_a_resolver_that_never_answers_is_a_dns_timeout(fleet: Fleet) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.9.53", 0))  # receives queries, answers none
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = run_cli("check", "--json", "--nameserver", f"127.0.9.53:{port}", "--timeout", "2",
                         listener_domain(Posture.MODERN))  # fmt: skip
        elapsed = time.monotonic() - started
    assert result.returncode == EXIT_UNTESTABLE
    (target,) = json.loads(result.stdout)["domains"]
    assert [f["code"] for f in target["findings"]] == ["DNS_TIMEOUT"]
    assert elapsed < 10


def test_a_resolver_that_refuses_connections_is_a_dns_error(fleet: Fleet) -> None:
    result = run_cli("check", "--json", "--nameserver", "127.0.9.54:53", "--timeout", "2",
                     listener_domain(Posture.MODERN))  # fmt: skip
    assert result.returncode == EXIT_UNTESTABLE
    (target,) = json.loads(result.stdout)["domains"]
    assert [f["code"] for f in target["findings"]] in (["DNS_ERROR"], ["DNS_TIMEOUT"])


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "example.com:25"],
        ["check", "--nameserver", "resolver.example", "example.com"],
        ["check", "--timeout", "0", "example.com"],
        ["check", "--ca-file", "/nonexistent/ca.pem", "[127.0.2.1]"],
        ["check"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_64_before_any_traffic(arguments: list[str]) -> None:
    result = run_cli(*arguments)
    assert result.returncode == 64
    assert "error" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("listener", LISTENERS, ids=[item.posture.value for item in LISTENERS])
def test_the_software_is_recognised_as_postfix(report: CheckReport, listener: Listener) -> None:
    product = only_address(report, listener.domain).product
    assert product.product == "postfix"
    assert product.evidence

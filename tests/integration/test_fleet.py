"""The fleet is what it claims: every posture checked on the wire, every DNS case asked of nsd.

Nothing here uses mailtls's probes: a plain ``ssl`` STARTTLS client (``fleet/wire.py``),
dnspython's low-level query functions and ``dig``.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import TlsVersion
from tests.integration.fleet import (
    LISTENERS,
    CertificateKind,
    Fleet,
    FleetError,
    Listener,
    Posture,
    lifecycle,
    listener_for,
)
from tests.integration.fleet.wire import (
    CLIENT_NAME,
    Handshake,
    client_context,
    command,
    connect,
    ehlo,
    starttls,
)

TLS10, TLS11, TLS12, TLS13 = TlsVersion

# The specification of the fleet, written out once more so that a slip in the layout shows up.
SPECIFIED = {
    Posture.MODERN: ("127.0.2.1", "mx-modern.mailtls.test", {TLS12, TLS13}),
    Posture.TLS12_ONLY: ("127.0.2.2", "mx-tls12.mailtls.test", {TLS12}),
    Posture.LEGACY: ("127.0.2.3", "mx-legacy.mailtls.test", {TLS10, TLS11}),
    Posture.NO_STARTTLS: ("127.0.2.4", "mx-plain.mailtls.test", set()),
    Posture.EXPIRED: ("127.0.2.5", "mx-expired.mailtls.test", {TLS12, TLS13}),
    Posture.WRONG_NAME: ("127.0.2.6", "mx-wrongname.mailtls.test", {TLS12, TLS13}),
    Posture.SELF_SIGNED: ("127.0.2.7", "mx-selfsigned.mailtls.test", {TLS12, TLS13}),
    Posture.SHA1: ("127.0.2.8", "mx-sha1.mailtls.test", {TLS12, TLS13}),
    Posture.NO_EXO_CIPHERS: ("127.0.2.9", "mx-noexo.mailtls.test", {TLS12}),
    Posture.ALL_VERSIONS: ("127.0.2.10", "mx-all.mailtls.test", {TLS10, TLS11, TLS12, TLS13}),
    Posture.IPV6: ("::1", "mx-v6.mailtls.test", {TLS12, TLS13}),
}

TLS_LISTENERS = [listener for listener in LISTENERS if listener.starttls]

# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code carries them.
CERT_HAS_EXPIRED = 10
DEPTH_ZERO_SELF_SIGNED_CERT = 18
HOSTNAME_MISMATCH = 62
CA_MD_TOO_WEAK = 68


def _highest(listener: Listener) -> TlsVersion:
    return max(listener.tls_versions, key=lambda version: version.rank)


def _ids(listeners: list[Listener]) -> list[str]:
    return [listener.posture.value for listener in listeners]


# --- the layout matches the specification ------------------------------------------------------


def test_every_specified_posture_has_exactly_one_listener() -> None:
    assert sorted(listener.posture for listener in LISTENERS) == sorted(SPECIFIED)
    assert len({(listener.ip, listener.port) for listener in LISTENERS}) == len(LISTENERS)


@pytest.mark.parametrize("listener", LISTENERS, ids=_ids(list(LISTENERS)))
def test_layout_matches_the_specification(listener: Listener) -> None:
    ip, host, versions = SPECIFIED[listener.posture]
    assert (listener.ip, listener.port, listener.host) == (ip, 25, host)
    assert listener.tls_versions == versions
    assert listener.domain == f"{listener.posture.value}.mailtls.test"


def test_missing_server_programs_are_reported_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(lifecycle.REQUIRED_PROGRAMS, "nsd", str(tmp_path / "no-nsd-here"))
    with pytest.raises(FleetError, match=r"nsd not installed.*Run scripts/setup"):
        lifecycle.acquire(tmp_path / "state")
    assert not (tmp_path / "state").exists()


# --- SMTP and STARTTLS ------------------------------------------------------------------------


@pytest.mark.parametrize("listener", LISTENERS, ids=_ids(list(LISTENERS)))
def test_listener_greets_with_its_host_name(fleet: Fleet, listener: Listener) -> None:
    greeting, reply = ehlo(listener)
    assert greeting.code == 220
    assert greeting.lines[0].split()[0] == listener.host
    assert reply.code == 250
    keywords = {line.split()[0].upper() for line in reply.lines[1:]}
    assert ("STARTTLS" in keywords) is listener.starttls


def test_no_starttls_listener_refuses_the_command(fleet: Fleet) -> None:
    stream, _greeting = connect(fleet.no_starttls)
    with stream:
        assert command(stream, f"EHLO {CLIENT_NAME}").code == 250
        refused = command(stream, "STARTTLS")
        command(stream, "QUIT")
    assert refused.code == 502


@pytest.mark.parametrize(
    ("listener", "version"),
    [(listener, version) for listener in TLS_LISTENERS for version in TlsVersion],
    ids=[
        f"{listener.posture.value}-{version.value}"
        for listener in TLS_LISTENERS
        for version in TlsVersion
    ],
)
def test_listener_negotiates_exactly_its_versions(
    fleet: Fleet, listener: Listener, version: TlsVersion
) -> None:
    context = client_context(version)
    if version in listener.tls_versions:
        assert starttls(listener, context).version == version.value
    else:
        with pytest.raises(ssl.SSLError):
            starttls(listener, context)


def test_legacy_handshake_needs_security_level_zero_on_the_client(fleet: Fleet) -> None:
    """At OpenSSL 3's default level 1 the client refuses TLS 1.0's MD5+SHA-1 signatures."""
    context = client_context(TLS10)
    context.set_ciphers("DEFAULT:@SECLEVEL=1")
    with pytest.raises(ssl.SSLError):
        starttls(fleet.legacy, context)


# --- cipher suites ----------------------------------------------------------------------------


def test_no_exo_listener_refuses_exchange_online_tls12_suites(fleet: Fleet) -> None:
    exchange_online = load_exchange_online_policy().openssl_cipher_string
    with pytest.raises(ssl.SSLError):
        starttls(fleet.no_exo_ciphers, client_context(TLS12, ciphers=exchange_online))


@pytest.mark.parametrize("cipher", listener_for(Posture.NO_EXO_CIPHERS).tls12_ciphers or ())
def test_no_exo_listener_negotiates_its_own_suites(fleet: Fleet, cipher: str) -> None:
    listener = fleet.no_exo_ciphers
    assert cipher in (listener.tls12_ciphers or ())
    assert not load_exchange_online_policy().accepts_cipher(cipher)
    assert starttls(listener, client_context(TLS12, ciphers=cipher)).cipher == cipher


EXO_CAPABLE = [
    listener
    for listener in TLS_LISTENERS
    if TLS12 in listener.tls_versions and listener.tls12_ciphers is None
]


@pytest.mark.parametrize("listener", EXO_CAPABLE, ids=_ids(EXO_CAPABLE))
def test_other_tls12_listeners_accept_exchange_online_suites(
    fleet: Fleet, listener: Listener
) -> None:
    policy = load_exchange_online_policy()
    handshake = starttls(listener, client_context(TLS12, ciphers=policy.openssl_cipher_string))
    assert policy.accepts_cipher(handshake.cipher)


# --- certificates -----------------------------------------------------------------------------


def _served(listener: Listener) -> x509.Certificate:
    handshake = starttls(listener, client_context(_highest(listener)))
    return x509.load_der_x509_certificate(handshake.certificate_der)


def _dns_names(certificate: x509.Certificate) -> tuple[str, ...]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return tuple(extension.value.get_values_for_type(x509.DNSName))


def _common_name(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


@pytest.mark.parametrize("listener", TLS_LISTENERS, ids=_ids(TLS_LISTENERS))
def test_served_certificate_is_the_posture_certificate(fleet: Fleet, listener: Listener) -> None:
    certificate = _served(listener)
    now = datetime.now(UTC)
    names = _dns_names(certificate)
    assert names == listener.certificate_names
    kind = listener.certificate
    assert (listener.host in names) is (kind is not CertificateKind.WRONG_NAME)
    assert (certificate.not_valid_after_utc < now) is (kind is CertificateKind.EXPIRED)
    assert (certificate.issuer == certificate.subject) is (kind is CertificateKind.SELF_SIGNED)
    is_sha1 = isinstance(certificate.signature_hash_algorithm, hashes.SHA1)
    assert is_sha1 is (kind is CertificateKind.SHA1_SIGNED)
    if kind is not CertificateKind.SELF_SIGNED:
        assert _common_name(certificate.issuer) == "mailtls test intermediate"


EXPECTED_VERIFY_ERROR = {
    CertificateKind.TRUSTED: None,
    CertificateKind.EXPIRED: CERT_HAS_EXPIRED,
    CertificateKind.WRONG_NAME: HOSTNAME_MISMATCH,
    CertificateKind.SELF_SIGNED: DEPTH_ZERO_SELF_SIGNED_CERT,
    CertificateKind.SHA1_SIGNED: CA_MD_TOO_WEAK,
}


@pytest.mark.parametrize("listener", TLS_LISTENERS, ids=_ids(TLS_LISTENERS))
def test_certificate_verifies_against_the_fleet_root_only_when_trusted(
    fleet: Fleet, listener: Listener
) -> None:
    """Trusted chains verify with the root alone, so the servers send their intermediate."""
    context = client_context(_highest(listener), ca_file=fleet.ca_file)
    expected = EXPECTED_VERIFY_ERROR[listener.certificate]
    if expected is None:
        assert isinstance(starttls(listener, context), Handshake)
    else:
        with pytest.raises(ssl.SSLCertVerificationError) as failure:
            starttls(listener, context)
        assert failure.value.verify_code == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("mx-dual.mailtls.test", id="dual"),
        pytest.param("implicit.mailtls.test", id="implicit"),
    ],
)
def test_modern_certificate_also_covers_the_dual_and_implicit_names(
    fleet: Fleet, name: str
) -> None:
    context = client_context(TLS13, ca_file=fleet.ca_file)
    assert isinstance(starttls(fleet.modern, context, server_hostname=name), Handshake)


# --- Postfix's own record ---------------------------------------------------------------------


def _wait_for_log(path: Path, start: int, pattern: re.Pattern[str]) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with path.open(errors="replace") as log:
            log.seek(start)
            text = log.read()
        match = pattern.search(text)
        if match:
            return match.group(0)
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern.pattern!r} in {path}")


def test_handshakes_are_logged_under_the_listener_syslog_name(fleet: Fleet) -> None:
    listener = fleet.tls12_only
    start = fleet.postfix_log.stat().st_size
    handshake = starttls(listener, client_context(TLS12))
    _wait_for_log(
        fleet.postfix_log,
        start,
        re.compile(
            rf"{listener.syslog_name}/smtpd\[\d+\]: .*TLS connection established from "
            rf".*: {re.escape(handshake.version)} with cipher {re.escape(handshake.cipher)}"
        ),
    )


def test_accepted_mail_is_discarded_not_delivered(fleet: Fleet) -> None:
    stream, _greeting = connect(fleet.no_starttls)
    with stream:
        replies = [
            command(stream, f"EHLO {CLIENT_NAME}"),
            command(stream, f"MAIL FROM:<sender@{CLIENT_NAME}>"),
            command(stream, "RCPT TO:<someone@elsewhere.example>"),
            command(stream, "DATA"),
            command(stream, "Subject: fleet self-test\r\n\r\nnothing to see\r\n."),
        ]
        command(stream, "QUIT")
    assert [reply.code for reply in replies] == [250, 250, 250, 354, 250]
    queue_id = replies[-1].lines[0].rsplit(" ", 1)[-1]
    _wait_for_log(
        fleet.postfix_log,
        0,
        re.compile(rf"{queue_id}: to=<someone@elsewhere\.example>.*relay=none.*status=sent"),
    )


# --- DNS --------------------------------------------------------------------------------------


def _ask(fleet: Fleet, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, fleet.nameserver, port=fleet.dns_port, timeout=2)


def _answer(fleet: Fleet, name: str, rdtype: str) -> set[str]:
    response = _ask(fleet, name, rdtype)
    assert response.rcode() == dns.rcode.NOERROR, f"{name} {rdtype}: {response.rcode()}"
    return {
        rdata.to_text()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.from_text(rdtype)
        for rdata in rrset
    }


def _rcode(fleet: Fleet, name: str, rdtype: str) -> dns.rcode.Rcode:
    return _ask(fleet, name, rdtype).rcode()


@pytest.mark.parametrize("listener", LISTENERS, ids=_ids(list(LISTENERS)))
def test_listener_host_has_exactly_its_address(fleet: Fleet, listener: Listener) -> None:
    own, other = ("AAAA", "A") if ":" in listener.ip else ("A", "AAAA")
    assert _answer(fleet, listener.host, own) == {listener.ip}
    assert _answer(fleet, listener.host, other) == set()


@pytest.mark.parametrize("listener", LISTENERS, ids=_ids(list(LISTENERS)))
def test_posture_domain_has_one_mx_at_its_listener(fleet: Fleet, listener: Listener) -> None:
    assert _answer(fleet, listener.domain, "MX") == {f"10 {listener.host}."}


def test_multi_domain_mixes_postures_and_families(fleet: Fleet) -> None:
    domains = fleet.domains
    assert _answer(fleet, domains.multi, "MX") == {
        "10 mx-modern.mailtls.test.",
        "20 mx-legacy.mailtls.test.",
        "30 mx-v6.mailtls.test.",
    }
    assert {f"{pref} {host}." for pref, host in domains.multi_mx} == _answer(
        fleet, domains.multi, "MX"
    )


def test_dual_domain_host_has_an_ipv4_and_an_ipv6_address(fleet: Fleet) -> None:
    domains = fleet.domains
    assert _answer(fleet, domains.dual, "MX") == {f"10 {domains.dual_host}."}
    assert _answer(fleet, domains.dual_host, "A") == {"127.0.2.1"}
    assert _answer(fleet, domains.dual_host, "AAAA") == {"::1"}
    assert set(domains.dual_addresses) == {"127.0.2.1", "::1"}


def test_implicit_domain_has_an_address_and_no_mx(fleet: Fleet) -> None:
    domains = fleet.domains
    assert _answer(fleet, domains.implicit, "MX") == set()
    assert _answer(fleet, domains.implicit, "A") == {domains.implicit_address} == {"127.0.2.1"}


def test_null_mx_domain(fleet: Fleet) -> None:
    assert _answer(fleet, fleet.domains.null_mx, "MX") == {"0 ."}


def test_dangling_mx_points_at_a_name_without_records(fleet: Fleet) -> None:
    domains = fleet.domains
    assert _answer(fleet, domains.dangling, "MX") == {f"10 {domains.dangling_host}."}
    for rdtype in ("A", "AAAA"):
        assert _rcode(fleet, domains.dangling_host, rdtype) == dns.rcode.NXDOMAIN


def test_no_mail_domain_exists_without_mail_records(fleet: Fleet) -> None:
    name = fleet.domains.no_mail
    for rdtype in ("MX", "A", "AAAA"):
        assert _answer(fleet, name, rdtype) == set()
    assert _answer(fleet, name, "TXT")


def test_missing_domain_is_nxdomain(fleet: Fleet) -> None:
    assert _rcode(fleet, fleet.domains.missing, "MX") == dns.rcode.NXDOMAIN


@pytest.mark.parametrize("rdtype", ["MX", "A", "AAAA", "TXT"])
def test_servfail_domain_answers_servfail(fleet: Fleet, rdtype: str) -> None:
    assert _rcode(fleet, fleet.domains.servfail, rdtype) == dns.rcode.SERVFAIL
    assert _rcode(fleet, f"mx.{fleet.domains.servfail}", rdtype) == dns.rcode.SERVFAIL


def test_nameserver_is_authoritative_for_the_zone(fleet: Fleet) -> None:
    response = _ask(fleet, fleet.zone, "SOA")
    assert response.flags & dns.flags.AA
    assert _answer(fleet, fleet.zone, "NS") == {f"{fleet.nameserver_host}."}
    assert _answer(fleet, fleet.nameserver_host, "A") == {fleet.nameserver}


def test_dig_sees_the_same_zone(fleet: Fleet) -> None:
    result = subprocess.run(
        ["dig", "+short", "+time=2", "+tries=1", f"@{fleet.nameserver}", "-p",
         str(fleet.dns_port), fleet.domains.multi, "MX"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert set(result.stdout.split("\n")) - {""} == {
        f"{pref} {host}." for pref, host in fleet.domains.multi_mx
    }

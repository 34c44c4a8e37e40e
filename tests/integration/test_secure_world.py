"""The secure world is what its layout says, checked on the wire.

Nothing here uses mailtls's checks: dnspython's low-level queries against the validating
resolver, the certificate chains the fleet's listeners present to ``openssl s_client``, and
``ssl``/``http.client`` against the policy hosts. The DANE outcome of every MX host is worked
out again from those observations with the rules of RFC 7672, so a slip in the layout's
expectations shows up here and not in the checks that rely on them.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from mailtls.models import DaneState, DnssecStatus, MtaStsFetch, MtaStsState
from tests.integration.dnssec import (
    DOMAINS,
    MX_HOSTS,
    ZONES,
    MxHost,
    SecureWorld,
    Serving,
    Source,
    WorldDomain,
    WorldError,
    Zone,
    running_world,
)
from tests.integration.dnssec import world as world_module
from tests.integration.dnssec.https import REDIRECT_TARGET, policy_body
from tests.integration.dnssec.layout import (
    HUGE_POLICY_BYTES,
    OTHER_HTTPS_NAME,
    POLICY_PATH,
    ROOT_ZONE,
)
from tests.integration.fleet import Fleet, Posture, listener_for
from tests.integration.fleet.wire import client_context, starttls

TIMEOUT = 5.0
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


# --- Asking the resolver -----------------------------------------------------------------------


def ask(
    world: SecureWorld, name: str, rdtype: str, *, checking_disabled: bool = False
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=True)
    if checking_disabled:
        query.flags |= dns.flags.CD
    response, _ = dns.query.udp_with_fallback(query, world.ip, port=world.port, timeout=TIMEOUT)
    return response


def answer(response: dns.message.Message, name: str, rdtype: str) -> dns.rrset.RRset | None:
    return response.get_rrset(
        response.answer,
        dns.name.from_text(name),
        dns.rdataclass.IN,
        dns.rdatatype.from_text(rdtype),
    )


def rdata_texts(world: SecureWorld, name: str, rdtype: str) -> set[str]:
    """The records whatever their DNSSEC status (CD: a bogus answer is handed over too)."""
    rrset = answer(ask(world, name, rdtype, checking_disabled=True), name, rdtype)
    return set() if rrset is None else {rdata.to_text() for rdata in rrset}


def txt_strings(world: SecureWorld, name: str) -> set[str]:
    rrset = answer(ask(world, name, "TXT", checking_disabled=True), name, "TXT")
    if rrset is None:
        return set()
    return {b"".join(rdata.strings).decode("ascii") for rdata in rrset}


def observed_dnssec(world: SecureWorld, name: str, rdtype: str) -> DnssecStatus:
    """What the wire says: AD is secure, an answer without it insecure, SERVFAIL that CD
    turns into an answer bogus."""
    plain = ask(world, name, rdtype)
    if plain.rcode() == dns.rcode.NOERROR:
        return DnssecStatus.SECURE if plain.flags & dns.flags.AD else DnssecStatus.INSECURE
    unchecked = ask(world, name, rdtype, checking_disabled=True)
    if plain.rcode() == dns.rcode.SERVFAIL and unchecked.rcode() == dns.rcode.NOERROR:
        return DnssecStatus.BOGUS
    return DnssecStatus.INDETERMINATE


def address_of(world: SecureWorld, name: str) -> str | None:
    addresses = rdata_texts(world, name, "A")
    assert len(addresses) <= 1, addresses
    return next(iter(addresses), None)


# --- Chains on the wire ------------------------------------------------------------------------


_chains: dict[Posture, tuple[x509.Certificate, ...]] = {}


def chain_on_wire(posture: Posture) -> tuple[x509.Certificate, ...]:
    """The chain the listener presents after STARTTLS, as ``openssl s_client`` shows it."""
    if posture not in _chains:
        listener = listener_for(posture)
        result = subprocess.run(
            [
                "openssl",
                "s_client",
                "-connect",
                f"{listener.ip}:{listener.port}",
                "-starttls",
                "smtp",
                "-showcerts",
                # Level 0 lets OpenSSL 3 speak TLS 1.0/1.1 with the legacy listener.
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ],
            input=b"",
            capture_output=True,
            timeout=TIMEOUT * 2,
            check=False,
        )
        blocks = _PEM.findall(result.stdout)
        assert blocks, f"no certificate from {posture}: {result.stderr.decode(errors='replace')}"
        _chains[posture] = tuple(x509.load_pem_x509_certificate(block) for block in blocks)
    return _chains[posture]


def _digest(certificate: x509.Certificate, selector: int, matching_type: int) -> str:
    if selector == 1:
        data = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        data = certificate.public_bytes(serialization.Encoding.DER)
    if matching_type == 1:
        return hashlib.sha256(data).hexdigest()
    if matching_type == 2:
        return hashlib.sha512(data).hexdigest()
    return data.hex()


@dataclass(frozen=True)
class Tlsa:
    usage: int
    selector: int
    matching_type: int
    data: str

    @classmethod
    def parse(cls, text: str) -> Tlsa:
        usage, selector, matching_type, *data = text.split()
        return cls(int(usage), int(selector), int(matching_type), "".join(data).lower())

    @property
    def usable(self) -> bool:
        """RFC 7672 3.1: SMTP uses DANE-TA(2) and DANE-EE(3), with defined parameters."""
        return self.usage in (2, 3) and self.selector in (0, 1) and self.matching_type in (0, 1, 2)

    def matched_by(self, certificate: x509.Certificate) -> bool:
        return _digest(certificate, self.selector, self.matching_type) == self.data


def dns_names(certificate: x509.Certificate) -> list[str]:
    extension = certificate.extensions.get_extension_for_oid(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME
    ).value
    assert isinstance(extension, x509.SubjectAlternativeName)
    return extension.get_values_for_type(x509.DNSName)


def dane_outcome(world: SecureWorld, host: MxHost) -> DaneState:
    """RFC 7672, from what the wire shows: the host's address and TLSA answers, the chain."""
    address = observed_dnssec(world, host.name, "A")
    if address is DnssecStatus.BOGUS:
        return DaneState.BOGUS
    if address is not DnssecStatus.SECURE:
        return DaneState.NOT_SECURE  # 2.2: TLSA records of an insecure host are not looked up
    if observed_dnssec(world, host.tlsa_name, "TLSA") is DnssecStatus.BOGUS:
        return DaneState.BOGUS
    records = [Tlsa.parse(text) for text in rdata_texts(world, host.tlsa_name, "TLSA")]
    if not records:
        return DaneState.NOT_CONFIGURED
    usable = [record for record in records if record.usable]
    if not usable:
        return DaneState.UNUSABLE
    if not listener_for(host.posture).starttls:
        return DaneState.NOT_TESTED
    chain = chain_on_wire(host.posture)
    for record in usable:
        if record.usage == 3 and record.matched_by(chain[0]):
            return DaneState.VALID  # 3.1.1: no name checks for DANE-EE
        # 3.2.2: DANE-TA needs a trust anchor in the chain and the MX host name in the leaf.
        anchored = record.usage == 2 and any(record.matched_by(ca) for ca in chain[1:])
        if anchored and host.name in dns_names(chain[0]):
            return DaneState.VALID
    return DaneState.MISMATCH


# --- DNS ---------------------------------------------------------------------------------------


def _ids(items: tuple[WorldDomain, ...] | tuple[MxHost, ...]) -> list[str]:
    return [item.name for item in items]


@pytest.mark.parametrize("zone", ZONES, ids=[zone.name for zone in ZONES])
def test_every_zone_has_the_dnssec_status_it_is_built_for(
    secure_world: SecureWorld, zone: Zone
) -> None:
    assert observed_dnssec(secure_world, f"{zone.name}.", "SOA") is zone.dnssec


@pytest.mark.parametrize("domain", DOMAINS.all(), ids=_ids(DOMAINS.all()))
def test_every_domain_has_its_mx_records_with_its_dnssec_status(
    secure_world: SecureWorld, domain: WorldDomain
) -> None:
    assert observed_dnssec(secure_world, domain.name, "MX") is domain.dnssec
    assert rdata_texts(secure_world, domain.name, "MX") == {
        f"{preference} {host}." for preference, host in domain.mx
    }
    assert set(domain.mx_hosts) <= {host.name for host in secure_world.mx_hosts}


@pytest.mark.parametrize("host", MX_HOSTS.all(), ids=_ids(MX_HOSTS.all()))
def test_every_mx_host_points_at_its_fleet_listener(
    secure_world: SecureWorld, fleet: Fleet, host: MxHost
) -> None:
    assert address_of(secure_world, host.name) == fleet.listener(host.posture).ip
    assert observed_dnssec(secure_world, host.name, "A") is host.address_dnssec


@pytest.mark.parametrize("host", MX_HOSTS.all(), ids=_ids(MX_HOSTS.all()))
def test_tlsa_records_match_the_chain_on_the_wire_as_the_layout_says(
    secure_world: SecureWorld, host: MxHost
) -> None:
    records = [Tlsa.parse(text) for text in rdata_texts(secure_world, host.tlsa_name, "TLSA")]
    assert sorted((r.usage, r.selector, r.matching_type) for r in records) == sorted(
        (spec.usage, spec.selector, spec.matching_type) for spec in host.tlsa
    )
    if records:
        assert observed_dnssec(secure_world, host.tlsa_name, "TLSA") is host.tlsa_dnssec
    chain = chain_on_wire(host.posture) if listener_for(host.posture).starttls else ()
    which = {Source.LEAF: (0,), Source.INTERMEDIATE: (1,), Source.NOTHING: ()}

    def defined(usage: int, selector: int, matching_type: int) -> bool:
        return selector in (0, 1) and matching_type in (0, 1, 2)  # else: no match to compute

    # Each record with the positions in the served chain it matches, against the layout.
    observed = sorted(
        (
            (r.usage, r.selector, r.matching_type),
            tuple(i for i, c in enumerate(chain) if r.matched_by(c)),
        )
        for r in records
        if defined(r.usage, r.selector, r.matching_type)
    )
    expected = sorted(
        ((s.usage, s.selector, s.matching_type), which[s.source])
        for s in host.tlsa
        if defined(s.usage, s.selector, s.matching_type)
    )
    assert observed == expected


def test_a_host_without_tlsa_records_has_an_authenticated_denial(secure_world: SecureWorld) -> None:
    response = ask(secure_world, MX_HOSTS.no_tlsa.tlsa_name, "TLSA")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AD


@pytest.mark.parametrize("host", MX_HOSTS.all(), ids=_ids(MX_HOSTS.all()))
def test_every_mx_host_has_the_dane_outcome_the_layout_promises(
    secure_world: SecureWorld, host: MxHost
) -> None:
    assert dane_outcome(secure_world, host) is host.dane


def test_every_domain_with_one_dane_outcome_has_that_of_its_hosts(
    secure_world: SecureWorld,
) -> None:
    for domain in DOMAINS.all():
        outcomes = {secure_world.mx_host(host).dane for host in domain.mx_hosts}
        expected = next(iter(outcomes)) if len(outcomes) == 1 else None
        assert domain.dane is expected, domain.name


def test_the_trust_anchor_is_the_ds_of_the_world_roots_key(secure_world: SecureWorld) -> None:
    query = dns.message.make_query(f"{ROOT_ZONE}.", "DNSKEY", want_dnssec=True)
    response = dns.query.tcp(query, secure_world.authoritative_ip, timeout=TIMEOUT)
    keys = answer(response, f"{ROOT_ZONE}.", "DNSKEY")
    assert keys is not None
    name, _, digest = secure_world.trust_anchor.partition(" DS ")
    assert name == f"{ROOT_ZONE}."
    assert digest in {
        dns.dnssec.make_ds(name, key, "SHA256").to_text() for key in keys if key.flags & 0x0001
    }


def test_the_resolver_refuses_names_outside_the_world(secure_world: SecureWorld) -> None:
    for name in ("example.com.", "."):
        assert ask(secure_world, name, "NS").rcode() == dns.rcode.REFUSED


def test_the_resolver_logs_why_an_answer_is_bogus(secure_world: SecureWorld) -> None:
    name = f"probe-{time.monotonic_ns()}.{DOMAINS.expired.name}"
    assert ask(secure_world, name, "A").rcode() == dns.rcode.SERVFAIL
    deadline = time.monotonic() + TIMEOUT
    while name not in secure_world.resolver_log.read_text():
        assert time.monotonic() < deadline, "no validation failure logged"
        time.sleep(0.05)
    line = next(line for line in secure_world.resolver_log.read_text().splitlines() if name in line)
    assert "validation failure" in line


def test_a_large_answer_comes_whole_over_tcp(secure_world: SecureWorld) -> None:
    name = f"_mta-sts.{DOMAINS.sts_record_huge.name}"
    response = dns.query.udp(
        dns.message.make_query(name, "TXT", use_edns=0, payload=1232),
        secure_world.ip,
        timeout=TIMEOUT,
    )
    assert response.flags & dns.flags.TC  # too big for UDP
    assert txt_strings(secure_world, name) == set(DOMAINS.sts_record_huge.mta_sts.txt)  # type: ignore[union-attr]


# --- MTA-STS and TLS-RPT records ---------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS.all(), ids=_ids(DOMAINS.all()))
def test_mta_sts_and_tls_rpt_records_are_as_published(
    secure_world: SecureWorld, domain: WorldDomain
) -> None:
    sts = domain.mta_sts
    assert txt_strings(secure_world, f"_mta-sts.{domain.name}") == set(sts.txt if sts else ())
    rpt = domain.tls_rpt
    assert txt_strings(secure_world, f"_smtp._tls.{domain.name}") == set(rpt.txt if rpt else ())
    expected_address = None
    if sts is not None and sts.serving is Serving.HANGS:
        expected_address = secure_world.hanging_ip
    elif sts is not None and sts.has_address:
        expected_address = secure_world.https_ip
    assert address_of(secure_world, domain.policy_host) == expected_address


# --- The policy hosts --------------------------------------------------------------------------

SERVED = tuple(
    domain
    for domain in DOMAINS.all()
    if domain.mta_sts is not None
    and domain.mta_sts.serving not in (Serving.HANGS, Serving.NO_ADDRESS)
)


def https_context(ca_file: Path | None) -> ssl.SSLContext:
    context = (
        ssl.create_default_context(cafile=str(ca_file)) if ca_file else ssl.create_default_context()
    )
    if ca_file is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextlib.contextmanager
def tls_to(
    world: SecureWorld, name: str, context: ssl.SSLContext, timeout: float = TIMEOUT
) -> Iterator[ssl.SSLSocket]:
    """A TLS connection to ``name`` at the address the world's resolver gives for it."""
    ip = address_of(world, name)
    assert ip is not None, f"{name} has no address"
    raw = socket.create_connection((ip, world.https_port), timeout=timeout)
    try:
        with context.wrap_socket(raw, server_hostname=name) as secured:
            yield secured
    finally:
        raw.close()


@contextlib.contextmanager
def get_policy(
    world: SecureWorld, domain: WorldDomain, context: ssl.SSLContext, timeout: float = TIMEOUT
) -> Iterator[http.client.HTTPResponse]:
    with tls_to(world, domain.policy_host, context, timeout) as secured:
        connection = http.client.HTTPConnection(
            domain.policy_host, world.https_port, timeout=timeout
        )
        connection.sock = secured  # already connected: http.client does not connect again
        try:
            connection.request("GET", POLICY_PATH)
            yield connection.getresponse()
        finally:
            connection.close()


def leaf_names(world: SecureWorld, name: str) -> list[str]:
    with tls_to(world, name, https_context(None)) as secured:
        der = secured.getpeercert(binary_form=True)
    assert der is not None
    return dns_names(x509.load_der_x509_certificate(der))


@pytest.mark.parametrize("domain", SERVED, ids=_ids(SERVED))
def test_every_policy_host_serves_what_the_layout_says(
    secure_world: SecureWorld, domain: WorldDomain
) -> None:
    case = domain.mta_sts
    assert case is not None
    trusted = https_context(secure_world.https_ca_file)
    if case.serving in (Serving.WRONG_NAME_CERTIFICATE, Serving.UNTRUSTED_CERTIFICATE):
        with (
            pytest.raises(ssl.SSLCertVerificationError) as refused,
            get_policy(secure_world, domain, trusted),
        ):
            pass
        reason = (
            "Hostname mismatch" if case.serving is Serving.WRONG_NAME_CERTIFICATE else "self-signed"
        )
        assert reason in str(refused.value)
        untrusted = https_context(None)
        with get_policy(secure_world, domain, untrusted) as response:
            assert response.status == 200
            assert response.read().decode() == case.policy
        return
    with get_policy(secure_world, domain, trusted) as response:
        content_type = response.getheader("Content-Type")
        if case.serving is Serving.NOT_FOUND:
            assert response.status == 404
        elif case.serving is Serving.REDIRECT:
            assert response.status == 301
            assert response.getheader("Location") == REDIRECT_TARGET
        elif case.serving is Serving.WRONG_TYPE:
            assert (response.status, content_type) == (200, "text/html")
            assert response.read().decode() == case.policy
        elif case.serving is Serving.HUGE:
            assert (response.status, content_type) == (200, "text/plain")
            body = response.read()
            assert len(body) >= HUGE_POLICY_BYTES
            assert body.decode() == policy_body(domain)
            assert body.decode().startswith(case.policy)
        elif case.serving is Serving.SLOW:
            assert (response.status, content_type) == (200, "text/plain")
            length = int(response.getheader("Content-Length", "0"))
            received = b""
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                received += response.read1(1024)
            assert 0 < len(received) < length / 2
            assert received.decode().startswith(case.policy)
        else:
            assert case.serving is Serving.POLICY
            assert (response.status, content_type) == (200, "text/plain")
            assert response.read().decode() == case.policy


@pytest.mark.parametrize("domain", SERVED, ids=_ids(SERVED))
def test_every_policy_host_certificate_names_it_or_another_name(
    secure_world: SecureWorld, domain: WorldDomain
) -> None:
    assert domain.mta_sts is not None
    other = domain.mta_sts.serving is Serving.WRONG_NAME_CERTIFICATE
    assert leaf_names(secure_world, domain.policy_host) == [
        OTHER_HTTPS_NAME if other else domain.policy_host
    ]


def test_a_hanging_policy_host_accepts_and_never_answers(secure_world: SecureWorld) -> None:
    started = time.monotonic()
    with (
        pytest.raises(TimeoutError),
        tls_to(secure_world, DOMAINS.sts_hangs.policy_host, https_context(None), timeout=1.0),
    ):
        pass
    assert time.monotonic() - started >= 1.0


def test_a_name_nginx_does_not_serve_gets_no_handshake(secure_world: SecureWorld) -> None:
    raw = socket.create_connection(
        (secure_world.https_ip, secure_world.https_port), timeout=TIMEOUT
    )
    with raw, pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        https_context(None).wrap_socket(raw, server_hostname=f"mta-sts.unknown.{ROOT_ZONE}")


def test_one_ca_file_trusts_the_policy_hosts_and_the_mx_hosts(secure_world: SecureWorld) -> None:
    context = https_context(secure_world.ca_file)
    with get_policy(secure_world, DOMAINS.sts_enforce, context) as response:
        assert response.status == 200
    modern = listener_for(Posture.MODERN)
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"{modern.ip}:25",
            "-starttls",
            "smtp",
            "-CAfile",
            str(secure_world.ca_file),
            "-verify_return_error",
            "-verify_hostname",
            modern.host,
        ],
        input=b"",
        capture_output=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert b"Verify return code: 0 (ok)" in result.stdout, result.stdout[-500:]


# --- What an MTA-STS check of each domain finds, worked out from the wire ---------------------

STS_ID = re.compile(r"[A-Za-z0-9]{1,32}")
FETCH_LIMIT = 64 * 1024  # far below the huge policy, far above every other one
FETCH_TIME = 2.0


def sts_record_valid(records: set[str]) -> bool:
    """RFC 8461 3.1: exactly one record starting with v=STSv1; and an id of 1-32 alphanumerics."""
    candidates = [record for record in records if record.startswith("v=STSv1;")]
    if len(candidates) != 1:
        return False
    fields = dict(part.strip().split("=", 1) for part in candidates[0].split(";") if "=" in part)
    return STS_ID.fullmatch(fields.get("id", "")) is not None


def observed_fetch(world: SecureWorld, domain: WorldDomain) -> tuple[MtaStsFetch, str | None]:
    """Fetch as RFC 8461 3.3 says: no redirects, certificate checked, bounded size and time."""
    if not sts_record_valid(txt_strings(world, f"_mta-sts.{domain.name}")):
        return MtaStsFetch.NOT_FETCHED, None
    if address_of(world, domain.policy_host) is None:
        return MtaStsFetch.CONNECT_FAILED, None
    context = https_context(world.https_ca_file)
    try:
        with get_policy(world, domain, context, timeout=FETCH_TIME) as response:
            if response.status != 200:
                status = MtaStsFetch.NOT_FOUND if response.status == 404 else MtaStsFetch.HTTP_ERROR
                return status, None
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
            if content_type != "text/plain":
                return MtaStsFetch.WRONG_TYPE, None
            body = b""
            deadline = time.monotonic() + FETCH_TIME
            while len(body) <= FETCH_LIMIT and (chunk := response.read1(65536)):
                body += chunk
                if time.monotonic() > deadline:
                    return MtaStsFetch.TIMEOUT, None
            if len(body) > FETCH_LIMIT:
                return MtaStsFetch.TOO_LARGE, None
            return MtaStsFetch.OK, body.decode()
    except ssl.SSLCertVerificationError:
        return MtaStsFetch.TLS_ERROR, None
    except TimeoutError:
        return MtaStsFetch.TIMEOUT, None


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """RFC 8461 4.1: an exact name, or "*." covering exactly one more label on the left."""
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return pattern == host


def certificate_valid_for(world: SecureWorld, fleet: Fleet, host: str) -> bool:
    listener = fleet.listener(world.mx_host(host).posture)
    try:
        starttls(listener, client_context(ca_file=fleet.ca_file), server_hostname=host)
    except (ssl.SSLError, OSError):
        return False
    return True


def observed_sts_state(
    world: SecureWorld, fleet: Fleet, domain: WorldDomain, fetch: MtaStsFetch, body: str | None
) -> MtaStsState:
    if not txt_strings(world, f"_mta-sts.{domain.name}"):
        return MtaStsState.NOT_CONFIGURED
    if fetch is MtaStsFetch.NOT_FETCHED:
        return MtaStsState.INVALID  # a record that is there, but not one senders use
    if fetch is not MtaStsFetch.OK or body is None:
        # Every failed fetch, a body too large or of the wrong type included: no policy
        # came over HTTPS (RFC 8461 3.3), whatever the server had meant to serve.
        return MtaStsState.UNREACHABLE
    lines = [line.partition(":") for line in body.splitlines() if line]
    fields = {key.strip(): value.strip() for key, _, value in lines}
    patterns = [value.strip() for key, _, value in lines if key.strip() == "mx"]
    mode = fields.get("mode")
    if fields.get("version") != "STSv1" or mode not in ("enforce", "testing", "none"):
        return MtaStsState.INVALID
    if not fields.get("max_age", "").isdigit() or (mode != "none" and not patterns):
        return MtaStsState.INVALID
    if mode == "none":
        return MtaStsState.NONE
    if mode == "testing":
        return MtaStsState.TESTING
    for host in domain.mx_hosts:
        covered = any(mx_pattern_matches(pattern, host) for pattern in patterns)
        if not covered or not certificate_valid_for(world, fleet, host):
            return MtaStsState.FAILING
    return MtaStsState.ENFORCED


@pytest.mark.parametrize("domain", DOMAINS.all(), ids=_ids(DOMAINS.all()))
def test_every_domain_has_the_mta_sts_outcome_the_layout_promises(
    secure_world: SecureWorld, fleet: Fleet, domain: WorldDomain
) -> None:
    fetch, body = observed_fetch(secure_world, domain)
    state = observed_sts_state(secure_world, fleet, domain, fetch, body)
    if domain.mta_sts is None:
        assert state is MtaStsState.NOT_CONFIGURED
    else:
        assert (fetch, state) == (domain.mta_sts.fetch, domain.mta_sts.state)


RUA = re.compile(r"(mailto:[^,@\s]+@[^,\s]+|https://[^,\s]+)")


@pytest.mark.parametrize("domain", DOMAINS.all(), ids=_ids(DOMAINS.all()))
def test_every_domain_has_the_tls_rpt_outcome_the_layout_promises(
    secure_world: SecureWorld, domain: WorldDomain
) -> None:
    """RFC 8460 3: exactly one v=TLSRPTv1 record, whose rua lists mailto: or https: URIs."""
    records = [
        record
        for record in txt_strings(secure_world, f"_smtp._tls.{domain.name}")
        if record.startswith("v=TLSRPTv1;")
    ]
    rua: list[str] = []
    if len(records) == 1:
        fields = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part)
        rua = [uri.strip() for uri in fields.get("rua", "").split(",") if uri.strip()]
    valid = bool(rua) and all(RUA.fullmatch(uri) for uri in rua)
    if domain.tls_rpt is None:
        assert not records
    else:
        assert valid is domain.tls_rpt.valid
        if valid:
            assert tuple(rua) == domain.tls_rpt.rua


# --- Lifecycle ---------------------------------------------------------------------------------


def test_a_second_world_runs_beside_the_first_and_frees_its_addresses(
    secure_world: SecureWorld, fleet: Fleet, tmp_path: Path
) -> None:
    started = time.monotonic()
    with running_world(fleet, tmp_path) as second:
        assert time.monotonic() - started < 5.0
        assert second.slot != secure_world.slot
        assert not set(second.slot.addresses) & set(secure_world.slot.addresses)
        assert observed_dnssec(second, DOMAINS.dane_valid.name, "MX") is DnssecStatus.SECURE
        assert second.trust_anchor != secure_world.trust_anchor  # keys of its own
    for ip, port in (
        (second.ip, 53),
        (second.authoritative_ip, 53),
        (second.https_ip, 443),
        (second.hanging_ip, 443),
    ):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((ip, port))  # free again: every server has stopped
    assert observed_dnssec(secure_world, DOMAINS.dane_valid.name, "MX") is DnssecStatus.SECURE


def test_a_missing_program_fails_with_what_to_do(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(world_module.REQUIRED_PROGRAMS, "unbound", str(tmp_path / "no-unbound"))
    with (
        pytest.raises(WorldError, match=r"unbound not installed.*scripts/setup"),
        running_world(fleet, tmp_path),
    ):
        pass

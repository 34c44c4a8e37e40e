from __future__ import annotations

import asyncio
import gc
import io
import socket
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest
from cryptography import x509

from mailtls.demo import DemoEnvironment, DemoHost
from mailtls.demo.environment import ZONE, demo_domains
from tests.demo_running import demo_in_thread

EXPECTED_DOMAINS = (
    "modern.demo.mailtls.test",
    "mixed.demo.mailtls.test",
    "legacy.demo.mailtls.test",
    "ciphers.demo.mailtls.test",
    "plain.demo.mailtls.test",
    "expired.demo.mailtls.test",
    "selfsigned.demo.mailtls.test",
    "nullmx.demo.mailtls.test",
)
EXCHANGE_ONLINE_SUITES = (
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384:"
    "AES128-GCM-SHA256"
)


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    """The demo running on an event loop of its own thread, for the blocking clients below."""
    with demo_in_thread() as environment:
        yield environment


def host(demo: DemoEnvironment, label: str) -> DemoHost:
    return next(h for h in demo.hosts if h.name == f"mx.{label}.{ZONE}")


def query(demo: DemoEnvironment, name: str, rdtype: str) -> dns.message.Message:
    return dns.query.udp(
        dns.message.make_query(name, rdtype),
        demo.nameserver_ip,
        timeout=5,
        port=demo.nameserver_port,
    )


def answers(response: dns.message.Message) -> list[str]:
    return sorted(rdata.to_text() for rrset in response.answer for rdata in rrset)


def smtp_until_starttls(sock: socket.socket) -> bytes:
    """Greeting, EHLO, STARTTLS if offered; returns the EHLO reply."""
    stream = sock.makefile("rb")
    _read_reply(stream)
    sock.sendall(b"EHLO client.test\r\n")
    ehlo = _read_reply(stream)
    if b"STARTTLS" in ehlo:
        sock.sendall(b"STARTTLS\r\n")
        assert _read_reply(stream).startswith(b"220 ")
    stream.close()
    return ehlo


def _read_reply(stream: io.BufferedReader) -> bytes:
    reply = b""
    while True:
        line = stream.readline()
        assert line, "connection closed"
        reply += line
        if line[3:4] == b" ":
            return reply


def handshake(
    demo: DemoEnvironment, label: str, context: ssl.SSLContext
) -> tuple[str | None, str | None] | ssl.SSLError:
    """STARTTLS to the demo host ``label``: (version, cipher) or the handshake's error."""
    target = host(demo, label)
    with socket.create_connection((target.address, demo.port), timeout=5) as sock:
        assert b"STARTTLS" in smtp_until_starttls(sock)
        try:
            with context.wrap_socket(sock, server_hostname=target.name) as tls:
                cipher = tls.cipher()
                return tls.version(), cipher[0] if cipher else None
        except ssl.SSLError as error:
            return error


def banner(demo: DemoEnvironment, target: DemoHost) -> bytes:
    with socket.create_connection((target.address, demo.port), timeout=5) as sock:
        return sock.recv(1024)


def verifying(demo: DemoEnvironment) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(demo.ca_file))


def legacy_client(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    return context


def test_domains_come_in_presentation_order_with_a_story_each(demo: DemoEnvironment) -> None:
    assert demo.domains == EXPECTED_DOMAINS
    assert tuple(story.name for story in demo_domains()) == EXPECTED_DOMAINS
    for domain in demo.domains:
        description = demo.description(domain)
        assert description
        assert "\n" not in description
    assert "TLS 1.0/1.1" in demo.description("legacy.demo.mailtls.test.")
    with pytest.raises(KeyError):
        demo.description("example.com")


def test_everything_listens_on_loopback(demo: DemoEnvironment) -> None:
    assert demo.nameserver == f"127.0.4.53:{demo.nameserver_port}"
    assert demo.port > 1024
    assert [h.address for h in demo.hosts] == [f"127.0.4.{n}" for n in range(1, 7)]
    for target in demo.hosts:
        assert banner(demo, target).startswith(f"220 {target.name} ".encode())


def test_ca_file_is_the_demo_root(demo: DemoEnvironment) -> None:
    root = x509.load_pem_x509_certificate(demo.ca_file.read_bytes())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "mailtls demo root" in root.subject.rfc4514_string()


@pytest.mark.parametrize(
    ("domain", "exchangers"),
    [
        ("modern", ["10 mx.modern.demo.mailtls.test."]),
        ("mixed", ["10 mx.modern.demo.mailtls.test.", "20 mx.legacy.demo.mailtls.test."]),
        ("legacy", ["10 mx.legacy.demo.mailtls.test."]),
        ("ciphers", ["10 mx.ciphers.demo.mailtls.test."]),
        ("plain", ["10 mx.plain.demo.mailtls.test."]),
        ("expired", ["10 mx.expired.demo.mailtls.test."]),
        ("selfsigned", ["10 mx.selfsigned.demo.mailtls.test."]),
        ("nullmx", ["0 ."]),
    ],
)
def test_mx_records(demo: DemoEnvironment, domain: str, exchangers: list[str]) -> None:
    assert answers(query(demo, f"{domain}.{ZONE}", "MX")) == exchangers


def test_mail_hosts_resolve_to_their_loopback_addresses(demo: DemoEnvironment) -> None:
    for target in demo.hosts:
        assert answers(query(demo, target.name, "A")) == [target.address]
    assert query(demo, f"nosuch.{ZONE}", "A").rcode() == dns.rcode.NXDOMAIN
    assert query(demo, "example.com", "A").rcode() == dns.rcode.REFUSED


def test_modern_host_speaks_tls13_with_a_trusted_certificate(demo: DemoEnvironment) -> None:
    assert handshake(demo, "modern", verifying(demo)) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384")


def test_legacy_host_speaks_only_tls10_and_tls11(demo: DemoEnvironment) -> None:
    refused = handshake(demo, "legacy", verifying(demo))
    assert isinstance(refused, ssl.SSLError)
    assert refused.reason in ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL")
    tls10 = handshake(demo, "legacy", legacy_client(ssl.TLSVersion.TLSv1))
    tls11 = handshake(demo, "legacy", legacy_client(ssl.TLSVersion.TLSv1_1))
    assert isinstance(tls10, tuple)
    assert isinstance(tls11, tuple)
    assert (tls10[0], tls11[0]) == ("TLSv1", "TLSv1.1")


def test_plain_host_offers_no_starttls(demo: DemoEnvironment) -> None:
    target = host(demo, "plain")
    with socket.create_connection((target.address, demo.port), timeout=5) as sock:
        ehlo = smtp_until_starttls(sock)
    assert b"STARTTLS" not in ehlo
    assert b"ESMTP Sendmail" in banner(demo, target)


def test_expired_host_fails_verification_only_for_expiry(demo: DemoEnvironment) -> None:
    failure = handshake(demo, "expired", verifying(demo))
    assert isinstance(failure, ssl.SSLCertVerificationError)
    assert failure.verify_message == "certificate has expired"


def test_selfsigned_host_fails_verification_as_self_signed(demo: DemoEnvironment) -> None:
    failure = handshake(demo, "selfsigned", verifying(demo))
    assert isinstance(failure, ssl.SSLCertVerificationError)
    assert failure.verify_message == "self-signed certificate"


def test_ciphers_host_shares_no_suite_with_exchange_online(demo: DemoEnvironment) -> None:
    exchange_like = verifying(demo)
    exchange_like.maximum_version = ssl.TLSVersion.TLSv1_2
    exchange_like.set_ciphers(EXCHANGE_ONLINE_SUITES)
    failure = handshake(demo, "ciphers", exchange_like)
    assert isinstance(failure, ssl.SSLError)
    assert failure.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE"
    assert handshake(demo, "ciphers", verifying(demo)) == (
        "TLSv1.2",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )


def test_modern_host_accepts_exchange_online_suites(demo: DemoEnvironment) -> None:
    exchange_like = verifying(demo)
    exchange_like.maximum_version = ssl.TLSVersion.TLSv1_2
    exchange_like.set_ciphers(EXCHANGE_ONLINE_SUITES)
    assert handshake(demo, "modern", exchange_like) == ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")


def test_shutdown_frees_every_address_and_the_temporary_folder() -> None:
    async def main() -> tuple[int, int, Path]:
        async with DemoEnvironment.start() as environment:
            return environment.port, environment.nameserver_port, environment.ca_file.parent

    port, dns_port, folder = asyncio.run(main())
    gc.collect()  # an unclosed socket or transport would warn (and fail) here
    assert not folder.exists()
    for number in range(1, 7):
        with socket.socket() as again:
            again.bind((f"127.0.4.{number}", port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.4.53", dns_port))


def test_work_dir_keeps_the_certificates(tmp_path: Path) -> None:
    async def main() -> Path:
        async with DemoEnvironment.start(tmp_path / "demo") as environment:
            return environment.ca_file

    ca_file = asyncio.run(main())
    assert ca_file == tmp_path / "demo" / "demo-root-ca.pem"
    assert ca_file.exists()
    assert (tmp_path / "demo" / "mx.legacy.demo.mailtls.test.key").exists()

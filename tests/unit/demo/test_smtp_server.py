from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pytest

from mailtls.demo.smtp_server import Action, Posture, SmtpDialogue, SmtpServer
from mailtls.models import TlsVersion
from mailtls.tls import issuing

HOST = "127.0.0.1"
SERVER_NAME = "mx.posture.mailtls.test"
T = TypeVar("T")


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    chain_file: Path
    key_file: Path


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("smtp-certs")
    ca = issuing.make_ca()
    chain_file, key_file = issuing.issue((SERVER_NAME,), issuer=ca).write(folder, "server")
    return Certificates(issuing.write_ca_bundle(folder / "ca.pem", ca), chain_file, key_file)


def posture(certificates: Certificates, **changes: object) -> Posture:
    base = Posture(
        hostname=SERVER_NAME,
        chain_file=certificates.chain_file,
        key_file=certificates.key_file,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def run_client(server: SmtpServer, client: Callable[[str, int], T]) -> T:
    """Serve while a blocking client runs in a thread; return what the client returns."""

    async def main() -> T:
        async with server:
            return await asyncio.to_thread(client, server.host, server.port)

    return asyncio.run(main())


_SSL_VERSIONS = {
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}


def pinned_client_context(version: TlsVersion, ca_file: Path) -> ssl.SSLContext:
    """A client that offers exactly ``version`` and would accept any cipher for it.

    Security level 0 on the client side, so that a refusal can only come from the server.
    """
    context = ssl.create_default_context(cafile=str(ca_file))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _SSL_VERSIONS[version]
        context.maximum_version = _SSL_VERSIONS[version]
    return context


def starttls_version(context: ssl.SSLContext) -> Callable[[str, int], str | ssl.SSLError]:
    """A client: STARTTLS with ``context``; the negotiated version, or the refusal."""

    def client(host: str, port: int) -> str | ssl.SSLError:
        with smtplib.SMTP(host, port, local_hostname="client.test", timeout=5) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            try:
                smtp.starttls(context=context)
            except ssl.SSLError as refusal:
                return refusal
            sock = smtp.sock
            assert isinstance(sock, ssl.SSLSocket)
            version = sock.version()
            assert version is not None
            # RFC 3207: after TLS the EHLO no longer offers STARTTLS.
            smtp.ehlo()
            assert not smtp.has_extn("starttls")
            return version

    return client


VERSION_REFUSALS = ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL")


def assert_refused_in_tls(outcome: str | ssl.SSLError, reasons: tuple[str, ...]) -> None:
    """A real server refuses a handshake in TLS (an alert, or a ServerHello the client cannot
    accept), never by just dropping the connection."""
    assert isinstance(outcome, ssl.SSLError), outcome
    assert not isinstance(outcome, ssl.SSLEOFError), outcome
    assert outcome.reason in reasons, outcome


# --- the pure dialogue -------------------------------------------------------------------------


def test_dialogue_offers_starttls_once_and_never_takes_mail(certificates: Certificates) -> None:
    dialogue = SmtpDialogue(posture(certificates, banner="hello there"))
    assert dialogue.greeting().lines == ("220 hello there",)
    ehlo = dialogue.handle(b"EHLO client.test\r\n")
    assert ehlo.lines == (
        f"250-{SERVER_NAME}",
        "250-PIPELINING",
        "250-SIZE 10240000",
        "250-8BITMIME",
        "250 STARTTLS",
    )
    assert dialogue.handle(b"mail from:<a@b.test>\r\n").lines == (
        "550 5.7.1 demo server accepts no mail",
    )
    go = dialogue.handle(b"starttls\r\n")
    assert (go.lines, go.action) == (("220 2.0.0 Ready to start TLS",), Action.START_TLS)
    dialogue.tls_started()
    assert dialogue.handle(b"STARTTLS\r\n").lines == ("503 5.5.1 TLS already active",)
    assert "250 8BITMIME" in dialogue.handle(b"EHLO client.test\r\n").lines
    assert dialogue.handle(b"QUIT\r\n").action is Action.CLOSE


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (b"NOOP\r\n", "250 2.0.0 OK"),
        (b"RSET\r\n", "250 2.0.0 OK"),
        (b"QUIT\r\n", "221 2.0.0 Bye"),
        (b"HELO client.test\r\n", f"250 {SERVER_NAME}"),
        (b"EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname"),
        (b"STARTTLS\r\n", "503 5.5.1 Send EHLO first"),
        (b"RCPT TO:<a@b.test>\r\n", "502 5.5.1 Command not implemented"),
        (b"\r\n", "502 5.5.1 Command not implemented"),
        (b"\xff\xfe\r\n", "502 5.5.1 Command not implemented"),
    ],
)
def test_dialogue_replies(certificates: Certificates, line: bytes, reply: str) -> None:
    assert SmtpDialogue(posture(certificates)).handle(line).lines == (reply,)


def test_dialogue_without_starttls(certificates: Certificates) -> None:
    dialogue = SmtpDialogue(posture(certificates, starttls=False))
    assert "250 8BITMIME" in dialogue.handle(b"EHLO client.test\r\n").lines
    assert dialogue.handle(b"STARTTLS\r\n").lines == ("502 5.5.1 Command not implemented",)


def test_posture_rejects_impossible_settings(certificates: Certificates) -> None:
    with pytest.raises(ValueError, match="needs chain_file"):
        Posture(hostname="mx.test")
    with pytest.raises(ValueError, match="above max_version"):
        posture(certificates, min_version=TlsVersion.TLS1_3, max_version=TlsVersion.TLS1_2)
    assert Posture(hostname="mx.test", starttls=False).greeting_text == "mx.test ESMTP"


# --- real handshakes ---------------------------------------------------------------------------

MODERN = {"min_version": TlsVersion.TLS1_2, "max_version": TlsVersion.TLS1_3}
LEGACY = {
    "min_version": TlsVersion.TLS1_0,
    "max_version": TlsVersion.TLS1_1,
    "ciphers": "DEFAULT:@SECLEVEL=0",
}
TLS12_ONLY = {"min_version": TlsVersion.TLS1_2, "max_version": TlsVersion.TLS1_2}


@pytest.mark.parametrize(
    ("settings", "version", "negotiates"),
    [
        (MODERN, TlsVersion.TLS1_0, False),
        (MODERN, TlsVersion.TLS1_1, False),
        (MODERN, TlsVersion.TLS1_2, True),
        (MODERN, TlsVersion.TLS1_3, True),
        (LEGACY, TlsVersion.TLS1_0, True),
        (LEGACY, TlsVersion.TLS1_1, True),
        (LEGACY, TlsVersion.TLS1_2, False),
        (LEGACY, TlsVersion.TLS1_3, False),
        (TLS12_ONLY, TlsVersion.TLS1_1, False),
        (TLS12_ONLY, TlsVersion.TLS1_2, True),
        (TLS12_ONLY, TlsVersion.TLS1_3, False),
    ],
    ids=lambda value: value.value if isinstance(value, TlsVersion) else None,
)
def test_posture_negotiates_exactly_its_versions(
    certificates: Certificates,
    settings: dict[str, object],
    version: TlsVersion,
    negotiates: bool,
) -> None:
    server = SmtpServer(posture(certificates, **settings), HOST)
    context = pinned_client_context(version, certificates.ca_file)
    context.check_hostname = False  # the client connects by IP; the chain is still verified
    outcome = run_client(server, starttls_version(context))
    if negotiates:
        assert outcome == version.value
    else:
        assert_refused_in_tls(outcome, VERSION_REFUSALS)


def test_modern_posture_presents_a_chain_that_verifies_for_its_name(
    certificates: Certificates,
) -> None:
    context = ssl.create_default_context(cafile=str(certificates.ca_file))

    def client(host: str, port: int) -> tuple[str | None, str | None]:
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.recv(1024)
            raw.sendall(b"EHLO client.test\r\n")
            assert b"250 STARTTLS" in raw.recv(1024)
            raw.sendall(b"STARTTLS\r\n")
            assert raw.recv(1024).startswith(b"220 ")
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                tls.sendall(b"QUIT\r\n")
                return tls.version(), tls.recv(1024).decode()

    version, bye = run_client(SmtpServer(posture(certificates), HOST), client)
    assert version == "TLSv1.3"
    assert bye == "221 2.0.0 Bye\r\n"


def test_pipelined_commands_are_answered_in_order(certificates: Certificates) -> None:
    def client(host: str, port: int) -> bytes:
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.recv(1024)
            raw.sendall(b"HELO client.test\r\nNOOP\r\nMAIL FROM:<a@b.test>\r\nQUIT\r\n")
            return _read_until_closed(raw)

    assert (
        run_client(SmtpServer(posture(certificates), HOST), client)
        == (
            f"250 {SERVER_NAME}\r\n250 2.0.0 OK\r\n"
            "550 5.7.1 demo server accepts no mail\r\n221 2.0.0 Bye\r\n"
        ).encode()
    )


def test_commands_pipelined_after_starttls_are_discarded(certificates: Certificates) -> None:
    context = ssl.create_default_context(cafile=str(certificates.ca_file))

    def client(host: str, port: int) -> bytes:
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.recv(1024)
            raw.sendall(b"EHLO client.test\r\n")
            raw.recv(1024)
            # An attacker on the path appends a plaintext command to the client's STARTTLS.
            raw.sendall(b"STARTTLS\r\nRSET\r\n")
            assert raw.recv(1024).startswith(b"220 ")
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                tls.sendall(b"EHLO client.test\r\n")
                return tls.recv(1024)

    first_reply = run_client(SmtpServer(posture(certificates), HOST), client)
    assert first_reply.startswith(f"250-{SERVER_NAME}\r\n".encode())


def test_cipher_string_limits_tls12_suites(certificates: Certificates) -> None:
    only_chacha = posture(
        certificates, max_version=TlsVersion.TLS1_2, ciphers="ECDHE-RSA-CHACHA20-POLY1305"
    )
    gcm_only = ssl.create_default_context(cafile=str(certificates.ca_file))
    gcm_only.check_hostname = False
    gcm_only.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256")
    refusal = run_client(SmtpServer(only_chacha, HOST), starttls_version(gcm_only))
    assert_refused_in_tls(refusal, ("SSLV3_ALERT_HANDSHAKE_FAILURE",))
    default = ssl.create_default_context(cafile=str(certificates.ca_file))
    default.check_hostname = False
    assert run_client(SmtpServer(only_chacha, HOST), starttls_version(default)) == "TLSv1.2"


def test_plain_posture_offers_no_starttls(certificates: Certificates) -> None:
    def client(host: str, port: int) -> tuple[bool, tuple[int, bytes], tuple[int, bytes]]:
        with smtplib.SMTP(host, port, local_hostname="client.test", timeout=5) as smtp:
            smtp.ehlo()
            return (
                smtp.has_extn("starttls"),
                smtp.docmd("STARTTLS"),
                smtp.docmd("MAIL", "FROM:<a@b.test>"),
            )

    offered, starttls, mail = run_client(
        SmtpServer(posture(certificates, starttls=False), HOST), client
    )
    assert not offered
    assert starttls == (502, b"5.5.1 Command not implemented")
    assert mail == (550, b"5.7.1 demo server accepts no mail")


def test_greeting_waits_for_the_delay(certificates: Certificates) -> None:
    def client(host: str, port: int) -> tuple[float, bytes]:
        started = time.monotonic()
        with socket.create_connection((host, port), timeout=5) as raw:
            greeting = raw.recv(1024)
        return time.monotonic() - started, greeting

    delayed = posture(certificates, greeting_delay=0.4, banner="slow one")
    elapsed, greeting = run_client(SmtpServer(delayed, HOST), client)
    assert greeting == b"220 slow one\r\n"
    assert elapsed >= 0.4


def _read_until_closed(raw: socket.socket) -> bytes:
    received = b""
    while chunk := raw.recv(4096):
        received += chunk
    return received


def test_overlong_line_is_refused_and_closed(certificates: Certificates) -> None:
    def client(host: str, port: int) -> bytes:
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.recv(1024)
            raw.sendall(b"NOOP " + b"x" * 5000 + b"\r\n")
            return _read_until_closed(raw)

    assert run_client(SmtpServer(posture(certificates), HOST), client) == (
        b"500 5.5.2 Line too long\r\n"
    )


def test_idle_client_is_timed_out(certificates: Certificates) -> None:
    def client(host: str, port: int) -> bytes:
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.recv(1024)
            return _read_until_closed(raw)

    server = SmtpServer(posture(certificates), HOST, idle_timeout=0.2)
    assert run_client(server, client) == b"421 4.4.2 Idle timeout, closing connection\r\n"


def test_close_ends_open_connections(certificates: Certificates) -> None:
    async def main() -> tuple[int, int, bytes, float]:
        server = SmtpServer(posture(certificates), HOST)
        await server.start()
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await reader.readline()
        writer.write(b"EHLO client.test\r\n")
        await writer.drain()
        while not (await reader.readline()).startswith(b"250 "):
            pass
        held = server.active_connections
        started = time.monotonic()
        await server.close()
        elapsed = time.monotonic() - started
        rest = await reader.read()
        writer.close()
        await writer.wait_closed()
        return held, server.active_connections, rest, elapsed

    held, after, rest, elapsed = asyncio.run(main())
    assert (held, after, rest) == (1, 0, b"")
    assert elapsed < 1.0


def test_start_binds_the_requested_address_and_reports_the_port(
    certificates: Certificates,
) -> None:
    async def main() -> tuple[str, int, int]:
        async with SmtpServer(posture(certificates), "127.0.5.9") as server:
            with socket.socket() as probe:
                probe.settimeout(5)
                await asyncio.to_thread(probe.connect, ("127.0.5.9", server.port))
            return server.host, server.port, server.active_connections

    host, port, _ = asyncio.run(main())
    assert host == "127.0.5.9"
    assert port > 0

"""A plain STARTTLS client (Python's ``socket`` and ``ssl``) to check the fleet on the wire.

Deliberately independent of mailtls's own SMTP and probe code, so that the fleet's self-test
does not rest on the code the fleet is there to test.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from mailtls.models import TlsVersion

from .layout import Listener

CLIENT_NAME = "client.mailtls.test"
TIMEOUT = 5.0
LEGACY_CLIENT_CIPHERS = "DEFAULT:@SECLEVEL=0"

_SSL_VERSIONS = {
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}


class SmtpRefused(Exception):
    """The server answered a step of the dialogue with something other than success."""


@dataclass(frozen=True)
class Reply:
    code: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Handshake:
    version: str  # as ``SSLSocket.version()`` names it: "TLSv1", ..., "TLSv1.3"
    cipher: str  # OpenSSL name
    certificate_der: bytes


def client_context(
    version: TlsVersion | None = None,
    *,
    ciphers: str | None = None,
    ca_file: Path | None = None,
) -> ssl.SSLContext:
    """A client context pinned to ``version`` (all versions OpenSSL allows if None).

    TLS 1.0/1.1 need security level 0 on the client as well. Without ``ca_file`` nothing is
    verified; with it, the chain must lead to that root and the name must match.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(cafile=str(ca_file))
    if version is not None:
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0/1.1; probing for them is this client's whole point.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = _SSL_VERSIONS[version]
            context.maximum_version = _SSL_VERSIONS[version]
        if version.rank < TlsVersion.TLS1_2.rank:
            context.set_ciphers(LEGACY_CLIENT_CIPHERS)
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context


def read_reply(stream: socket.socket) -> Reply:
    """One complete SMTP reply, multi-line ones included."""
    buffer = b""
    lines: list[str] = []
    while True:
        while b"\r\n" not in buffer:
            chunk = stream.recv(4096)
            if not chunk:
                raise ConnectionError(f"connection closed mid-reply after {buffer!r}")
            buffer += chunk
        raw, buffer = buffer.split(b"\r\n", 1)
        line = raw.decode("ascii", errors="replace")
        lines.append(line[4:])
        if len(line) < 4 or line[3] != "-":
            if buffer:
                raise ConnectionError(f"unexpected data after a reply: {buffer!r}")
            return Reply(code=int(line[:3]), lines=tuple(lines))


def command(stream: socket.socket, text: str) -> Reply:
    stream.sendall(text.encode("ascii") + b"\r\n")
    return read_reply(stream)


def connect(listener: Listener) -> tuple[socket.socket, Reply]:
    """Connect and read the greeting."""
    stream = socket.create_connection((listener.ip, listener.port), timeout=TIMEOUT)
    try:
        return stream, read_reply(stream)
    except BaseException:
        stream.close()
        raise


def ehlo(listener: Listener) -> tuple[Reply, Reply]:
    """The greeting and the EHLO reply, then QUIT."""
    stream, greeting = connect(listener)
    with stream:
        reply = command(stream, f"EHLO {CLIENT_NAME}")
        command(stream, "QUIT")
    return greeting, reply


def starttls(
    listener: Listener, context: ssl.SSLContext, *, server_hostname: str | None = None
) -> Handshake:
    """EHLO, STARTTLS and a handshake; raises ``ssl.SSLError``/``OSError`` if it fails.

    ``server_hostname`` is the name to verify and to send as SNI (the listener's host by
    default).
    """
    stream, greeting = connect(listener)
    with stream:
        if greeting.code != 220:
            raise SmtpRefused(f"greeting {greeting}")
        reply = command(stream, f"EHLO {CLIENT_NAME}")
        if reply.code != 250:
            raise SmtpRefused(f"EHLO {reply}")
        reply = command(stream, "STARTTLS")
        if reply.code != 220:
            raise SmtpRefused(f"STARTTLS {reply}")
        with context.wrap_socket(
            stream, server_hostname=server_hostname or listener.host
        ) as secured:
            version = secured.version()
            cipher = secured.cipher()
            certificate = secured.getpeercert(binary_form=True)
            if version is None or cipher is None or certificate is None:
                raise ssl.SSLError("handshake finished without version, cipher or certificate")
            secured.sendall(f"EHLO {CLIENT_NAME}\r\n".encode("ascii"))
            read_reply(secured)
            secured.sendall(b"QUIT\r\n")
            read_reply(secured)
        return Handshake(version=version, cipher=cipher[0], certificate_der=certificate)

"""A small STARTTLS SMTP server with a chosen TLS posture, for the demo and the tests.

It speaks just enough SMTP for a TLS check (greeting, EHLO/HELO, STARTTLS, NOOP, RSET, QUIT)
and never accepts mail. The dialogue (``SmtpDialogue``) is pure: one command line in, one reply
and an action out; ``SmtpServer`` only moves bytes and upgrades the connection to TLS.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from mailtls.demo.channel import LineChannel, LineTooLong
from mailtls.demo.serving import Service, TcpService
from mailtls.models import TlsVersion

_SSL_VERSIONS = {
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}

# RFC 5321 4.5.3.1.4 allows 512 octets per command line; leave room for sloppy clients.
COMMAND_LINE_LIMIT = 1000
DEFAULT_IDLE_TIMEOUT = 60.0
TLS_HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Posture:
    """How one demo server presents itself: banner, EHLO keywords and TLS stance.

    ``min_version``/``max_version`` bound what the TLS context negotiates. TLS 1.0 and 1.1 need
    ``ciphers="DEFAULT:@SECLEVEL=0"`` on OpenSSL 3, which otherwise refuses them silently.
    """

    hostname: str
    banner: str | None = None  # the greeting text after "220 "; default "<hostname> ESMTP"
    starttls: bool = True
    min_version: TlsVersion = TlsVersion.TLS1_2
    max_version: TlsVersion = TlsVersion.TLS1_3
    ciphers: str | None = None  # an OpenSSL cipher string for TLS <= 1.2; None: Python's default
    chain_file: Path | None = None  # leaf first, then intermediates (PEM)
    key_file: Path | None = None
    greeting_delay: float = 0.0  # seconds of silence before the greeting, as tarpits do
    ehlo_keywords: tuple[str, ...] = ("PIPELINING", "SIZE 10240000", "8BITMIME")

    def __post_init__(self) -> None:
        if self.starttls and (self.chain_file is None or self.key_file is None):
            raise ValueError(f"{self.hostname}: STARTTLS needs chain_file and key_file")
        if self.min_version.rank > self.max_version.rank:
            raise ValueError(f"{self.hostname}: min_version is above max_version")
        if self.greeting_delay < 0:
            raise ValueError(f"{self.hostname}: greeting_delay must not be negative")

    @property
    def greeting_text(self) -> str:
        return self.banner if self.banner is not None else f"{self.hostname} ESMTP"


def server_tls_context(posture: Posture) -> ssl.SSLContext:
    """The server-side TLS context that negotiates exactly the posture's versions."""
    if posture.chain_file is None or posture.key_file is None:
        raise ValueError(f"{posture.hostname}: no certificate to serve TLS with")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Ciphers first: the security level they set also decides which certificates load.
    if posture.ciphers is not None:
        context.set_ciphers(posture.ciphers)
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1 with a warning; serving them is this posture's point.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _SSL_VERSIONS[posture.min_version]
        context.maximum_version = _SSL_VERSIONS[posture.max_version]
    context.load_cert_chain(posture.chain_file, posture.key_file)
    return context


class Action(Enum):
    CONTINUE = "continue"
    START_TLS = "start_tls"  # send the reply, then hand the connection to TLS
    CLOSE = "close"  # send the reply, then close


@dataclass(frozen=True)
class Response:
    """One reply: its lines (code included, no CRLF) and what to do after sending it."""

    lines: tuple[str, ...]
    action: Action = Action.CONTINUE

    @property
    def wire(self) -> bytes:
        return b"".join(line.encode("ascii", "replace") + b"\r\n" for line in self.lines)


def _reply(code: int, *texts: str, action: Action = Action.CONTINUE) -> Response:
    """A (multi-line) reply: "250-a", "250-b", "250 c"."""
    last = len(texts) - 1
    lines = tuple(f"{code}{' ' if i == last else '-'}{text}" for i, text in enumerate(texts))
    return Response(lines, action)


class SmtpDialogue:
    """The server's side of one SMTP session, without I/O."""

    def __init__(self, posture: Posture) -> None:
        self.posture = posture
        self.tls_active = False
        self.greeted = False

    def greeting(self) -> Response:
        return _reply(220, self.posture.greeting_text)

    def idle_timeout(self) -> Response:
        return _reply(421, "4.4.2 Idle timeout, closing connection", action=Action.CLOSE)

    def line_too_long(self) -> Response:
        return _reply(500, "5.5.2 Line too long", action=Action.CLOSE)

    def tls_started(self) -> None:
        # RFC 3207 4.2: after the handshake the client starts over with EHLO.
        self.tls_active = True
        self.greeted = False

    def handle(self, line: bytes) -> Response:
        text = line.rstrip(b"\r\n").decode("ascii", "replace")
        verb, _, argument = text.partition(" ")
        verb = verb.upper()
        argument = argument.strip()
        if verb == "EHLO":
            if not argument:
                return _reply(501, "5.5.4 Syntax: EHLO hostname")
            self.greeted = True
            keywords = list(self.posture.ehlo_keywords)
            if self.posture.starttls and not self.tls_active:
                keywords.append("STARTTLS")
            return _reply(250, self.posture.hostname, *keywords)
        if verb == "HELO":
            if not argument:
                return _reply(501, "5.5.4 Syntax: HELO hostname")
            self.greeted = True
            return _reply(250, self.posture.hostname)
        if verb == "STARTTLS":
            return self._starttls(argument)
        if verb in ("NOOP", "RSET"):
            return _reply(250, "2.0.0 OK")
        if verb == "QUIT":
            return _reply(221, "2.0.0 Bye", action=Action.CLOSE)
        if verb == "MAIL":
            return _reply(550, "5.7.1 demo server accepts no mail")
        return _reply(502, "5.5.1 Command not implemented")

    def _starttls(self, argument: str) -> Response:
        if not self.posture.starttls:
            return _reply(502, "5.5.1 Command not implemented")
        if self.tls_active:
            return _reply(503, "5.5.1 TLS already active")
        if argument:
            return _reply(501, "5.5.4 Syntax: STARTTLS")
        if not self.greeted:
            return _reply(503, "5.5.1 Send EHLO first")
        return _reply(220, "2.0.0 Ready to start TLS", action=Action.START_TLS)


class SmtpServer(Service):
    """Serve one posture on (host, port); use ``async with`` or ``start()``/``close()``.

    ``port=0`` binds an ephemeral port; read the bound one from ``port`` once started.
    """

    def __init__(
        self,
        posture: Posture,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.posture = posture
        self.idle_timeout = idle_timeout
        self._tls_context = server_tls_context(posture) if posture.starttls else None
        self._service = TcpService(self._session, host, port)

    @property
    def host(self) -> str:
        return self._service.host

    @property
    def port(self) -> int:
        return self._service.port

    @property
    def active_connections(self) -> int:
        return self._service.active_connections

    async def start(self) -> None:
        await self._service.start()

    async def close(self) -> None:
        await self._service.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = LineChannel(reader, writer, line_limit=COMMAND_LINE_LIMIT)
        dialogue = SmtpDialogue(self.posture)
        if self.posture.greeting_delay:
            await asyncio.sleep(self.posture.greeting_delay)
        await channel.write(dialogue.greeting().wire)
        while True:
            try:
                async with asyncio.timeout(self.idle_timeout):
                    line = await channel.read_line()
            except TimeoutError:
                await channel.write(dialogue.idle_timeout().wire)
                return
            except LineTooLong:
                await channel.write(dialogue.line_too_long().wire)
                return
            response = dialogue.handle(line)
            await channel.write(response.wire)
            if response.action is Action.CLOSE:
                await channel.close_tls()
                return
            if response.action is Action.START_TLS:
                assert self._tls_context is not None  # the dialogue offers STARTTLS only then
                # A refused handshake raises ssl.SSLError (an OSError) once the alert is sent:
                # the service then ends the connection, as a real server does.
                await channel.start_tls(self._tls_context, handshake_timeout=TLS_HANDSHAKE_TIMEOUT)
                dialogue.tls_started()

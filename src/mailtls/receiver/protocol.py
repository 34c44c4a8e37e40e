"""The SMTP side: aiosmtpd's protocol engine, told to record instead of deliver.

:class:`RecordingSMTP` is one connection. It admits the connection against the per-address caps,
reports every command, the STARTTLS handshake (version, suite, SNI) and each transaction to its
:class:`~mailtls.receiver.tracker.SessionTracker`, and hands the finished record to a sink
exactly once, however the session ends. Safety lives here:

- recipients outside the configured domains and addresses get 550 (nothing is ever relayed, and
  nothing is ever sent: there is no delivery code at all);
- no AUTH; a recipient limit per message; a size limit; a cap on commands per session;
- DATA is streamed: only its size and a bounded header section are kept, never the body;
- an idle timeout (aiosmtpd's, also reset per DATA line) and a total session timeout.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailtls.models import TlsVersion
from mailtls.receiver.headers import HeaderReader
from mailtls.receiver.limits import Admission, ConnectionLimiter
from mailtls.receiver.models import ReceivedSession, SessionEnd
from mailtls.receiver.settings import ReceiverSettings
from mailtls.receiver.tracker import SessionTracker

RecordSink = Callable[[ReceivedSession], None]

IDENT = "ESMTP mailtls receive (test server: nothing is delivered)"

_REFUSALS = {
    Admission.CONNECTION_CAP: (
        SessionEnd.CONNECTION_CAP,
        b"421 4.7.0 Too many connections from your address, try again later\r\n",
    ),
    Admission.RATE_CAP: (
        SessionEnd.RATE_CAP,
        b"421 4.7.0 Too many connections per minute from your address, try again later\r\n",
    ),
    Admission.SERVER_FULL: (
        SessionEnd.CONNECTION_CAP,
        b"421 4.3.2 Too many connections, try again later\r\n",
    ),
}

# Set on the SSLObject by the SNI callback, read back after the handshake.
_SNI_ATTRIBUTE = "_mailtls_server_name"


def remember_server_name(
    ssl_object: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext
) -> None:
    """The context's SNI callback: keep the name the client asked for on its SSLObject."""
    setattr(ssl_object, _SNI_ATTRIBUTE, server_name)


class RecordingHandler:
    """aiosmtpd's handler hooks: what is accepted; the engine below records."""

    def __init__(self, settings: ReceiverSettings) -> None:
        self.settings = settings

    async def handle_EHLO(
        self, server: RecordingSMTP, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:  # fmt: skip
        session.host_name = hostname
        server.tracker.greeted(hostname, extended=True)
        server.tracker.reset()
        # No AUTH at all: this server accepts mail only for its own test recipients.
        kept = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        server.tracker.starttls_offered = server.tracker.starttls_offered or any(
            line[4:].upper() == "STARTTLS" for line in kept
        )
        return kept

    async def handle_HELO(
        self, server: RecordingSMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        server.tracker.greeted(hostname, extended=False)
        server.tracker.reset()
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self, server: RecordingSMTP, session: Session, envelope: Envelope, address: str,
        options: list[str],
    ) -> str:  # fmt: skip
        if self.settings.require_tls and server.tracker.tls is None:
            return "530 5.7.0 Must issue a STARTTLS command first"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        server.tracker.mail(address)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: RecordingSMTP, session: Session, envelope: Envelope, address: str,
        options: list[str],
    ) -> str:  # fmt: skip
        if len(envelope.rcpt_tos) >= self.settings.max_recipients:
            server.tracker.recipient(address, accepted=False)
            return "452 4.5.3 Too many recipients"
        if not self.settings.acceptance.accepts(address):
            server.tracker.recipient(address, accepted=False)
            return "550 5.7.1 Relay access denied: this test server accepts only its own recipients"
        envelope.rcpt_tos.append(address)
        server.tracker.recipient(address, accepted=True)
        return "250 2.1.5 Ok"

    async def handle_exception(self, error: Exception) -> str:
        # A failed STARTTLS handshake is recorded (tls_failed) and the connection closed by
        # aiosmtpd; anything else is answered without a traceback on the terminal.
        return f"451 4.3.0 Error: {type(error).__name__}"

    async def handle_RSET(self, server: RecordingSMTP, session: Session, envelope: Envelope) -> str:
        server.tracker.reset()
        return "250 2.0.0 Ok"


class RecordingSMTP(SMTP):
    """One connection to the receiver."""

    def __init__(
        self,
        settings: ReceiverSettings,
        *,
        tls_context: ssl.SSLContext,
        limiter: ConnectionLimiter,
        sink: RecordSink,
        listener: str,
        reverse_lookup: Callable[[str], Any] | None = None,
        active: set[RecordingSMTP] | None = None,
    ) -> None:
        super().__init__(
            RecordingHandler(settings),
            data_size_limit=settings.max_message_bytes,
            hostname=settings.hostname,
            ident=IDENT,
            tls_context=tls_context,
            timeout=settings.idle_timeout,
            command_call_limit=settings.max_commands,
        )
        # aiosmtpd keeps these limits on the class and raises them at every EHLO: per instance
        # they stay the same for every session.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        self.settings = settings
        self._limiter = limiter
        self._sink = sink
        self._listener = listener
        self._reverse_lookup = reverse_lookup
        self._active = active if active is not None else set()
        self._admitted: str | None = None  # the address counted by the limiter
        self._finished = False
        self._session_timer: asyncio.TimerHandle | None = None
        self.tracker = SessionTracker(
            started_at=datetime.now(UTC),
            listener=listener,
            client_ip="",
            client_port=0,
            policy=settings.policy,
        )
        # Every command goes through the tracker first; unknown verbs are counted by aiosmtpd.
        self._smtp_methods = {
            verb: self._tracked(verb, method) for verb, method in self._smtp_methods.items()
        }
        self._smtp_methods["AUTH"] = self._tracked("AUTH", self._no_auth)
        self._smtp_methods["DATA"] = self._tracked("DATA", self._streamed_data)

    def _tracked(self, verb: str, method: Callable[[str | None], Any]) -> Callable[..., Any]:
        async def call(arg: str | None) -> None:
            self.tracker.command(verb)
            await method(arg)

        return call

    # --- connection life ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is not None:  # the TLS layer after STARTTLS
            super().connection_made(transport)
            self._tls_ready(transport)
            return
        peer = transport.get_extra_info("peername") or ("", 0)
        self.tracker.client_ip, self.tracker.client_port = str(peer[0]), int(peer[1])
        admission = self._limiter.admit(self.tracker.client_ip, time.monotonic())
        if admission is not Admission.ADMITTED:
            end, reply = _REFUSALS[admission]
            self.tracker.end = end
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(reply)
            transport.close()
            return
        self._admitted = self.tracker.client_ip
        self._active.add(self)
        self._session_timer = self.loop.call_later(
            self.settings.session_timeout, self._session_expired
        )
        if self._reverse_lookup is not None:
            self.loop.create_task(self._look_up_name(self.tracker.client_ip))
        super().connection_made(transport)

    async def _look_up_name(self, address: str) -> None:
        assert self._reverse_lookup is not None
        name = await self._reverse_lookup(address)
        if name:
            self.tracker.reverse_name = name

    def _tls_ready(self, transport: asyncio.BaseTransport) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        cipher = ssl_object.cipher()
        try:
            version: TlsVersion | None = TlsVersion(ssl_object.version())
        except ValueError:
            version = None
        certificate = ssl_object.getpeercert()
        subject = None
        if certificate:
            subject = ", ".join(
                f"{key}={value}" for part in certificate.get("subject", ()) for key, value in part
            )
        self.tracker.tls_established(
            version=version,
            cipher=cipher[0] if cipher else None,
            bits=int(cipher[2]) if cipher else None,
            sni=getattr(ssl_object, _SNI_ATTRIBUTE, None),
            client_certificate=subject,
        )
        self.tracker.reset()

    def connection_lost(self, error: Exception | None) -> None:
        if self._admitted is None:  # refused at once: aiosmtpd never started
            self._finish(SessionEnd.CLIENT_CLOSED)
            return
        if self._finished:
            return
        self._finish(SessionEnd.CLIENT_CLOSED)
        super().connection_lost(error)

    def eof_received(self) -> bool | None:
        if self._admitted is None:
            return False
        return super().eof_received()

    def _timeout_cb(self) -> None:
        self.tracker.end = self.tracker.end or SessionEnd.IDLE_TIMEOUT
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        """The server is shutting down: end the session (its record says so)."""
        self.tracker.end = self.tracker.end or SessionEnd.SERVER_STOPPED
        if self.transport is not None:
            self.transport.close()

    def _session_expired(self) -> None:
        self.tracker.end = self.tracker.end or SessionEnd.SESSION_TIMEOUT
        if self.transport is not None:
            self.transport.close()

    def _finish(self, end: SessionEnd) -> None:
        if self._finished:
            return
        self._finished = True
        self._active.discard(self)
        if self._session_timer is not None:
            self._session_timer.cancel()
        if self._admitted is not None:
            self._limiter.release(self._admitted, time.monotonic())
        self._sink(self.tracker.finish(datetime.now(UTC), end))

    async def push(self, status: str) -> None:  # type: ignore[override]
        text = status
        if text.startswith("221"):
            self.tracker.end = self.tracker.end or SessionEnd.QUIT
        elif text.startswith(("502 5.5.1 Too many", "421 4.7.0")) and "too many" in text.lower():
            self.tracker.end = self.tracker.end or SessionEnd.TOO_MANY_ERRORS
        await super().push(status)

    # --- commands ---------------------------------------------------------------------------------

    async def smtp_STARTTLS(self, arg: str) -> None:
        try:
            await super().smtp_STARTTLS(arg)
        except Exception as error:
            cause = error.__cause__ or error
            sni = None
            if self._tls_protocol is not None:
                ssl_object = self._tls_protocol._extra.get("ssl_object")
                sni = getattr(ssl_object, _SNI_ATTRIBUTE, None)
            self.tracker.tls_failed(f"{type(cause).__name__}: {cause}", sni)
            raise

    async def _no_auth(self, arg: str | None) -> None:
        await self.push("502 5.5.1 AUTH not available")

    async def _streamed_data(self, arg: str | None) -> None:
        """DATA, counted and scanned for headers, never kept (aiosmtpd keeps the whole body)."""
        if await self.check_helo_needed():
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        headers = HeaderReader()
        size = 0
        at_line_start = True
        while self.transport is not None:
            try:
                chunk = await self._reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as overrun:
                # A line longer than the reader's buffer: count it and move on.
                chunk = await self._reader.read(overrun.consumed)
            self._reset_timeout()
            if at_line_start and chunk == b".\r\n":
                break
            if at_line_start:
                headers.feed(chunk[1:] if chunk.startswith(b"..") else chunk)
            size += len(chunk)
            at_line_start = chunk.endswith(b"\r\n")
        limit = self.settings.max_message_bytes
        if size > limit:
            reply = f"552 5.3.4 Message too big: {size} bytes, the limit is {limit}"
        else:
            reply = "250 2.0.0 Ok: recorded by mailtls receive, not delivered"
        self.tracker.data_done(size, headers.summary(), reply)
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push(reply)

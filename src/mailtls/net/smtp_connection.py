"""One probe = one TCP connection: SMTP dialogue, STARTTLS, TLS handshake, QUIT.

This is the only module that opens SMTP sockets. It drives the sans-I/O
:class:`~mailtls.smtp.dialogue.ClientDialogue` with bytes from the network, under three clocks:
the greeting wait (long: postscreen and greet_pause delay it on purpose), the per-operation
timeout, and the caller's absolute deadline for the whole address (tarpits that trickle bytes
never trip a per-read timeout). Every way this can go wrong ends as a :class:`ProbeResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import time
from dataclasses import dataclass

from mailtls.errors import NotSmtpError, SmtpProtocolError
from mailtls.models import (
    Endpoint,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    SmtpStage,
    TlsHandshake,
)
from mailtls.smtp.dialogue import ClientDialogue, DialogueResult, Finish, Send, StartTls
from mailtls.smtp.replies import ReplyParser
from mailtls.tls.contexts import handshake_of, presented_chain

READ_SIZE = 16 * 1024
# Waiting for the 221 to our QUIT is courtesy, not information: do not let it cost much.
QUIT_WAIT_SECONDS = 2.0

# OpenSSL reasons meaning "what came back is not TLS at all" (garbage, plaintext, HTTP), as
# opposed to a TLS server refusing our offer with an alert or by closing.
_NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST",
     "UNKNOWN_PROTOCOL", "RECORD_TOO_LARGE", "UNEXPECTED_RECORD", "BAD_PACKET_LENGTH"}
)  # fmt: skip


@dataclass(frozen=True)
class ProbeSettings:
    ehlo_name: str
    timeout: float  # connect, each read, the TLS handshake
    greeting_timeout: float


class _DeadlineHit(Exception):
    """The address deadline passed (distinct from a single operation's timeout)."""


def _handshake_failure(error: BaseException) -> tuple[ProbeOutcome, str]:
    """Tell a refusal of our TLS offer from a peer that does not speak TLS."""
    if isinstance(error, ssl.SSLError):
        reason = getattr(error, "reason", None) or ""
        text = f"{reason or type(error).__name__}: {error.strerror or error}"
        if reason in _NOT_TLS_REASONS:
            return ProbeOutcome.PROTOCOL_ERROR, f"server did not answer with TLS ({text})"
        return ProbeOutcome.HANDSHAKE_FAILED, text
    if isinstance(error, ConnectionError | EOFError | asyncio.IncompleteReadError):
        # Many servers refuse an unwanted version by closing or resetting the connection.
        return ProbeOutcome.HANDSHAKE_FAILED, f"connection closed during handshake ({error!r})"
    return ProbeOutcome.HANDSHAKE_FAILED, repr(error)


class _Probe:
    """The state of one connection; `run` returns its ProbeResult whatever happens."""

    def __init__(
        self,
        endpoint: Endpoint,
        kind: ProbeKind,
        context: ssl.SSLContext,
        server_name: str | None,
        settings: ProbeSettings,
    ) -> None:
        self.endpoint = endpoint
        self.kind = kind
        self.context = context
        self.server_name = server_name
        self.settings = settings
        self.dialogue = ClientDialogue(settings.ehlo_name)
        self.parser = ReplyParser()
        self.handshake: TlsHandshake | None = None
        self.chain: tuple[bytes, ...] = ()
        self.writer: asyncio.StreamWriter | None = None
        self.started = time.monotonic()

    def _result(
        self, outcome: ProbeOutcome, reason: str | None, stage: SmtpStage | None = None
    ) -> ProbeResult:
        dialogue: DialogueResult = self.dialogue.result()
        return ProbeResult(
            kind=self.kind,
            outcome=outcome,
            handshake=self.handshake,
            stage=stage or dialogue.stage,
            reason=reason,
            failure_reply=dialogue.failure_reply,
            reply_class=dialogue.reply_class,
            exchanges=dialogue.exchanges,
            chain_der=self.chain,
            elapsed_seconds=round(time.monotonic() - self.started, 3),
        )

    async def run(self, deadline: float) -> ProbeResult:
        loop = asyncio.get_running_loop()
        if deadline <= loop.time():
            return self._result(ProbeOutcome.TIMEOUT, "address deadline passed", SmtpStage.CONNECT)
        # The deadline's TimeoutError surfaces when the `async with` exits, so it is told apart
        # from a per-reply timeout here, outside the block, by asking the clock.
        clock = asyncio.timeout_at(deadline)
        try:
            async with clock:
                return await self._converse()
        except TimeoutError:
            stage = self.dialogue.stage
            if clock.expired():
                reason = f"address deadline reached during {stage}"
            else:
                greeting = stage is SmtpStage.GREETING
                limit = self.settings.greeting_timeout if greeting else self.settings.timeout
                reason = f"no complete reply within {limit:g} s during {stage}"
            return self._result(ProbeOutcome.TIMEOUT, reason)
        finally:
            self._close()

    async def _converse(self) -> ProbeResult:
        try:
            async with asyncio.timeout(self.settings.timeout):
                reader, self.writer = await asyncio.open_connection(
                    self.endpoint.ip, self.endpoint.port
                )
        except TimeoutError:
            return self._result(
                ProbeOutcome.CONNECT_FAILED,
                f"connection timed out after {self.settings.timeout:g} s",
                SmtpStage.CONNECT,
            )
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else str(error) or repr(error)
            return self._result(ProbeOutcome.CONNECT_FAILED, reason.lower(), SmtpStage.CONNECT)
        writer = self.writer
        loop = asyncio.get_running_loop()
        waiting_since: tuple[SmtpStage, float] | None = None
        while True:
            stage = self.dialogue.stage
            if stage is SmtpStage.QUIT:
                return await self._finish_after_quit(reader)
            # The limit covers a whole reply, not each read: a server trickling one byte a
            # second must not keep us waiting forever for a greeting or an EHLO reply.
            if waiting_since is None or waiting_since[0] is not stage:
                waiting_since = (stage, loop.time())
            greeting = stage is SmtpStage.GREETING
            limit = self.settings.greeting_timeout if greeting else self.settings.timeout
            try:
                async with asyncio.timeout_at(waiting_since[1] + limit):
                    data = await reader.read(READ_SIZE)
            except ConnectionError as error:
                self.dialogue.on_closed()
                return self._from_dialogue(f"connection reset during {stage} ({error!r})")
            if not data:
                self.dialogue.on_closed()
                return self._from_dialogue(None)
            try:
                replies = self.parser.feed(data)
            except SmtpProtocolError as error:
                first_reply = not self.dialogue.result().exchanges
                not_smtp = isinstance(error, NotSmtpError) and first_reply
                outcome = ProbeOutcome.NOT_SMTP if not_smtp else ProbeOutcome.PROTOCOL_ERROR
                return self._result(outcome, str(error))
            for reply in replies:
                action = self.dialogue.on_reply(reply)
                if isinstance(action, Send):
                    writer.write(action.command.encode("ascii") + b"\r\n")
                    await writer.drain()
                elif isinstance(action, StartTls):
                    return await self._upgrade(reader, writer)
                elif isinstance(action, Finish):
                    return self._from_dialogue(None)

    async def _upgrade(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> ProbeResult:
        leftover = self.parser.take_unparsed()
        if leftover:
            # Bytes after "220 go ahead" but before our ClientHello: a broken or hostile server
            # (or a STARTTLS command injection on the path). Never feed them to TLS.
            self.dialogue.on_tls_failed("bytes after the STARTTLS reply")
            return self._result(
                ProbeOutcome.PROTOCOL_ERROR,
                f"server sent {len(leftover)} bytes after its 220 to STARTTLS, before TLS began",
                SmtpStage.TLS_HANDSHAKE,
            )
        try:
            await writer.start_tls(
                self.context,
                server_hostname=self.server_name,
                ssl_handshake_timeout=self.settings.timeout,
            )
        except TimeoutError:
            raise
        except (ssl.SSLError, ConnectionError, EOFError, OSError) as error:
            outcome, reason = _handshake_failure(error)
            self.dialogue.on_tls_failed(reason)
            return self._result(outcome, reason, SmtpStage.TLS_HANDSHAKE)
        ssl_object = writer.get_extra_info("ssl_object")
        self.handshake = handshake_of(ssl_object)
        self.chain = presented_chain(ssl_object)
        action = self.dialogue.on_tls_established()
        if isinstance(action, Send):
            with contextlib.suppress(OSError, ssl.SSLError):
                writer.write(action.command.encode("ascii") + b"\r\n")
                await writer.drain()
        return await self._finish_after_quit(reader)

    async def _finish_after_quit(self, reader: asyncio.StreamReader) -> ProbeResult:
        """Give the server a moment to answer QUIT; its answer changes nothing."""
        with contextlib.suppress(TimeoutError, OSError, ssl.SSLError, SmtpProtocolError):
            async with asyncio.timeout(min(QUIT_WAIT_SECONDS, self.settings.timeout)):
                while not self.dialogue.finished:
                    data = await reader.read(READ_SIZE)
                    if not data:
                        self.dialogue.on_closed()
                        break
                    for reply in self.parser.feed(data):
                        self.dialogue.on_reply(reply)
        return self._from_dialogue(None)

    def _from_dialogue(self, reason: str | None) -> ProbeResult:
        result = self.dialogue.result()
        outcome = result.outcome or ProbeOutcome.CLOSED
        return self._result(outcome, reason or result.reason)

    def _close(self) -> None:
        # abort(), not close(): no lingering TLS close_notify exchange with a hostile peer, and
        # nothing left for the event loop to finish after we return.
        if self.writer is not None:
            self.writer.transport.abort()


async def run_probe(
    endpoint: Endpoint,
    kind: ProbeKind,
    context: ssl.SSLContext,
    *,
    server_name: str | None,
    settings: ProbeSettings,
    deadline: float,
) -> ProbeResult:
    """Run one probe; never raises for anything the server does."""
    return await _Probe(endpoint, kind, context, server_name, settings).run(deadline)

"""What one session showed so far, turned into a record when it ends.

Pure: the protocol (``mailtls.receiver.protocol``) reports events; :meth:`SessionTracker.finish`
judges and builds the :class:`ReceivedSession`. Every text is sanitised on the way in and every
list is bounded, so a tracker's size does not depend on what a client sends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from mailtls.models import TlsVersion
from mailtls.receiver.models import (
    HeaderSummary,
    ReceivedMessage,
    ReceivedSession,
    ReceivePolicy,
    SessionEnd,
    TlsSeen,
)
from mailtls.receiver.sanitise import (
    MAX_ADDRESS_CHARS,
    MAX_COMMANDS,
    MAX_NAME_CHARS,
    MAX_RECIPIENTS_KEPT,
    clean,
    clean_verb,
)
from mailtls.receiver.senders import guess_sender
from mailtls.receiver.verdict import fix_for, judge, mail_attempted

MAX_MESSAGES_KEPT = 20


@dataclass
class _Transaction:
    mail_from: str
    recipients: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass
class SessionTracker:
    started_at: datetime
    listener: str
    client_ip: str
    client_port: int
    policy: ReceivePolicy
    reverse_name: str | None = None
    helo: str | None = None
    ehlo: bool = False
    starttls_offered: bool = False
    tls: TlsSeen | None = None
    end: SessionEnd | None = None  # set by whoever ends the session first
    commands: list[str] = field(default_factory=list)
    messages: list[ReceivedMessage] = field(default_factory=list)
    _transaction: _Transaction | None = None
    _awaiting_first_tls_command: bool = False

    def command(self, verb: str) -> None:
        verb = clean_verb(verb)
        if len(self.commands) < MAX_COMMANDS:
            self.commands.append(verb)
        if self._awaiting_first_tls_command and self.tls is not None:
            self.tls = dataclasses.replace(self.tls, before_command=verb)
            self._awaiting_first_tls_command = False

    def greeted(self, name: str, extended: bool) -> None:
        self.helo = clean(name, MAX_NAME_CHARS)
        self.ehlo = extended

    def tls_established(
        self,
        version: TlsVersion | None,
        cipher: str | None,
        bits: int | None,
        sni: str | None,
        client_certificate: str | None,
    ) -> None:
        self.tls = TlsSeen(
            version=version,
            cipher=clean(cipher, 80),
            bits=bits,
            sni=clean(sni, MAX_NAME_CHARS),
            client_certificate=clean(client_certificate),
            before_command=None,
        )
        self._awaiting_first_tls_command = True

    def tls_failed(self, error: str, sni: str | None) -> None:
        self.tls = TlsSeen(
            version=None,
            cipher=None,
            bits=None,
            sni=clean(sni, MAX_NAME_CHARS),
            client_certificate=None,
            before_command=None,
            error=clean(error, 200),
        )
        self.end = self.end or SessionEnd.TLS_FAILED

    def mail(self, sender: str) -> None:
        self._transaction = _Transaction(clean(sender, MAX_ADDRESS_CHARS) or "")

    def recipient(self, address: str, accepted: bool) -> None:
        if self._transaction is None:
            return
        kept = self._transaction.recipients if accepted else self._transaction.refused
        if len(kept) < MAX_RECIPIENTS_KEPT:
            kept.append(clean(address, MAX_ADDRESS_CHARS) or "")

    def reset(self) -> None:
        """RSET, HELO/EHLO or a new STARTTLS: an open transaction is abandoned."""
        self._close_transaction(None, HeaderSummary(), "abandoned")

    def data_done(self, size: int | None, headers: HeaderSummary, reply: str) -> None:
        self._close_transaction(size, headers, reply)

    def _close_transaction(self, size: int | None, headers: HeaderSummary, reply: str) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None or len(self.messages) >= MAX_MESSAGES_KEPT:
            return
        self.messages.append(
            ReceivedMessage(
                mail_from=transaction.mail_from,
                recipients=tuple(transaction.recipients),
                refused_recipients=tuple(transaction.refused),
                size=size,
                headers=headers,
                reply=clean(reply, 120) or "",
            )
        )

    def finish(self, ended_at: datetime, end: SessionEnd) -> ReceivedSession:
        self._close_transaction(None, HeaderSummary(), "session ended before DATA completed")
        messages = tuple(self.messages)
        commands = tuple(self.commands)
        verdict = judge(self.tls, mail_attempted(messages, commands))
        headers = next((message.headers for message in messages if message.size is not None), None)
        product = guess_sender(self.helo, self.reverse_name, headers)
        return ReceivedSession(
            started_at=self.started_at,
            ended_at=ended_at,
            listener=self.listener,
            client_ip=self.client_ip,
            client_port=self.client_port,
            reverse_name=clean(self.reverse_name, MAX_NAME_CHARS),
            helo=self.helo,
            ehlo=self.ehlo,
            starttls_offered=self.starttls_offered,
            tls=self.tls,
            messages=messages,
            commands=commands,
            end=self.end or end,
            policy=self.policy,
            verdict=verdict,
            product=product,
            remedy=fix_for(verdict, product),
        )

"""The receiver's values: one record per SMTP session, and what it says about the sender.

Everything a client sent is stored sanitised (``mailtls.receiver.sanitise``): printable, bounded,
never the message body. A record is the same kind of observation as a log line's
:class:`~mailtls.models.SessionObservation` (peer, direction inbound, TLS version, cipher, time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mailtls.models import ProductGuess, Remedy, TlsVersion


class ReceivePolicy(StrEnum):
    """What the receiver offers in STARTTLS."""

    OBSERVE = "observe"  # TLS 1.0 to 1.3, every suite: see what the sender does by itself
    EXO = "exo"  # like Exchange Online: TLS 1.2+ with its suites only


class SessionEnd(StrEnum):
    """How a session ended."""

    QUIT = "quit"  # the client said QUIT
    CLIENT_CLOSED = "client_closed"  # the client dropped the connection
    IDLE_TIMEOUT = "idle_timeout"
    SESSION_TIMEOUT = "session_timeout"  # the whole session took longer than allowed
    TLS_FAILED = "tls_failed"  # the STARTTLS handshake failed
    CONNECTION_CAP = "connection_cap"  # refused at once: too many connections from the address
    RATE_CAP = "rate_cap"  # refused at once: too many connections per minute from the address
    TOO_MANY_ERRORS = "too_many_errors"
    SERVER_STOPPED = "server_stopped"


class SenderVerdict(StrEnum):
    """The session judged by Exchange Online's rules for servers that deliver to it."""

    ACCEPTED = "accepted"  # TLS >= 1.2 with a suite Exchange Online accepts
    LEGACY_TLS = "legacy_tls"  # TLS 1.0/1.1: Exchange Online refuses this handshake
    TLS12_NO_EXO_SUITE = "tls12_no_exo_suite"  # TLS 1.2 with a suite Exchange Online lacks
    PLAINTEXT = "plaintext"  # no STARTTLS, though it was offered
    HANDSHAKE_FAILED = "handshake_failed"  # STARTTLS sent, no handshake came about
    NO_MAIL = "no_mail"  # the session ended before any TLS decision (scanners, caps, timeouts)

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    SenderVerdict.ACCEPTED: "Exchange Online would accept this TLS handshake",
    SenderVerdict.LEGACY_TLS: (
        "Exchange Online refuses this handshake; your server then delivers in plaintext if it "
        "retries without TLS, or not at all on forced-TLS connectors"
    ),
    SenderVerdict.TLS12_NO_EXO_SUITE: (
        "TLS 1.2 with a cipher suite Exchange Online does not offer: its handshake would fail"
    ),
    SenderVerdict.PLAINTEXT: (
        "no STARTTLS although it was offered: the mail went in plaintext, and a forced-TLS "
        "connector would refuse it"
    ),
    SenderVerdict.HANDSHAKE_FAILED: (
        "STARTTLS was sent but no TLS handshake came about: with Exchange Online too the "
        "sender would fall back to plaintext or defer"
    ),
    SenderVerdict.NO_MAIL: "the session ended before the sender's TLS could be judged",
}


@dataclass(frozen=True)
class HeaderSummary:
    """The few headers kept of a message, sanitised; the body is never kept."""

    subject: str | None = None
    from_: str | None = None
    message_id: str | None = None
    x_mailer: str | None = None
    first_received: str | None = None  # the topmost: written by the sending server itself


@dataclass(frozen=True)
class ReceivedMessage:
    """One mail transaction of a session (MAIL FROM to the end of DATA)."""

    mail_from: str
    recipients: tuple[str, ...]  # accepted ones only
    refused_recipients: tuple[str, ...]
    size: int | None  # bytes of DATA as received; None when DATA never completed
    headers: HeaderSummary
    reply: str  # our final reply to it (250, 552, 5xx ...)


@dataclass(frozen=True)
class TlsSeen:
    """The STARTTLS part of a session."""

    version: TlsVersion | None  # None: the handshake failed
    cipher: str | None
    bits: int | None
    sni: str | None  # the server name the client asked for, if any
    client_certificate: str | None  # the subject of a certificate the client sent, if any
    before_command: str | None  # the first command sent over TLS ("EHLO", "MAIL", ...)
    error: str | None = None  # why the handshake failed


@dataclass(frozen=True)
class ReceivedSession:
    """Everything one SMTP session showed of the sending server, and the judgement of it."""

    started_at: datetime
    ended_at: datetime
    listener: str  # the address:port it came to
    client_ip: str
    client_port: int
    reverse_name: str | None  # the PTR name, when looked up and found
    helo: str | None  # the last HELO/EHLO name
    ehlo: bool  # EHLO rather than HELO
    starttls_offered: bool
    tls: TlsSeen | None  # None: no STARTTLS
    messages: tuple[ReceivedMessage, ...]
    commands: tuple[str, ...]  # the command verbs in order, bounded
    end: SessionEnd
    policy: ReceivePolicy
    verdict: SenderVerdict
    product: ProductGuess
    remedy: Remedy | None

    @property
    def tls_version(self) -> TlsVersion | None:
        return self.tls.version if self.tls is not None else None

"""The client side of one probe's SMTP dialogue, as a sans-I/O state machine.

greeting -> EHLO (HELO if EHLO is not understood) -> STARTTLS -> [TLS handshake] -> QUIT

The machine never touches a socket: the caller feeds it complete replies (from
:class:`mailtls.smtp.replies.ReplyParser`) and performs the returned :data:`Action`. That keeps
every branch — 421 at greeting, EHLO refused, STARTTLS answered with 454 — testable with a table
of replies and no event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtls.models import ProbeOutcome, ReplyClass, SmtpExchange, SmtpReply, SmtpStage
from mailtls.smtp.classify import classify_reply
from mailtls.smtp.replies import ehlo_keywords

# RFC 5321 4.1.4 / 4.2.4: a server that does not know EHLO answers "command not recognized"
# (500), "syntax error" (501), "not implemented" (502) or "parameter not implemented" (504);
# only then may the client retry with HELO. Other refusals (550 policy, 554) are refusals.
EHLO_NOT_UNDERSTOOD = frozenset({500, 501, 502, 504})


@dataclass(frozen=True)
class Send:
    """Send this command line (without CRLF)."""

    command: str


@dataclass(frozen=True)
class StartTls:
    """The server said 220 to STARTTLS: perform the TLS handshake now."""


@dataclass(frozen=True)
class Finish:
    """The dialogue is over: close the connection."""


Action = Send | StartTls | Finish


@dataclass(frozen=True)
class DialogueResult:
    """What the dialogue established; ``outcome`` is None only while TLS is pending."""

    outcome: ProbeOutcome | None
    stage: SmtpStage
    greeting: SmtpReply | None
    ehlo: SmtpReply | None
    used_helo: bool
    starttls_offered: bool | None
    exchanges: tuple[SmtpExchange, ...]
    failure_reply: SmtpReply | None = None
    reply_class: ReplyClass | None = None
    reason: str | None = None


@dataclass
class _State:
    stage: SmtpStage = SmtpStage.GREETING
    finished: bool = False
    outcome: ProbeOutcome | None = None
    greeting: SmtpReply | None = None
    ehlo: SmtpReply | None = None
    used_helo: bool = False
    starttls_offered: bool | None = None
    pending_command: str | None = None
    exchanges: list[SmtpExchange] = field(default_factory=list)
    failure_reply: SmtpReply | None = None
    reply_class: ReplyClass | None = None
    reason: str | None = None


class ClientDialogue:
    """Drive one SMTP session up to (and, when wanted, through) STARTTLS."""

    def __init__(self, ehlo_name: str, *, want_starttls: bool = True) -> None:
        self._ehlo_name = ehlo_name
        self._want_starttls = want_starttls
        self._state = _State()

    @property
    def stage(self) -> SmtpStage:
        return self._state.stage

    @property
    def finished(self) -> bool:
        return self._state.finished

    def result(self) -> DialogueResult:
        state = self._state
        return DialogueResult(
            outcome=state.outcome,
            stage=state.stage,
            greeting=state.greeting,
            ehlo=state.ehlo,
            used_helo=state.used_helo,
            starttls_offered=state.starttls_offered,
            exchanges=tuple(state.exchanges),
            failure_reply=state.failure_reply,
            reply_class=state.reply_class,
            reason=state.reason,
        )

    # --- inputs ----------------------------------------------------------------------------

    def on_reply(self, reply: SmtpReply) -> Action:
        state = self._state
        if state.finished:
            return Finish()  # a reply after we are done (e.g. to QUIT) needs nothing more
        state.exchanges.append(SmtpExchange(state.stage, state.pending_command, reply))
        state.pending_command = None
        handler = {
            SmtpStage.GREETING: self._on_greeting,
            SmtpStage.EHLO: self._on_ehlo,
            SmtpStage.HELO: self._on_helo,
            SmtpStage.STARTTLS: self._on_starttls,
            SmtpStage.QUIT: self._on_quit,
        }.get(state.stage)
        if handler is None:
            # Bytes while we wait for our TLS handshake: the server spoke out of turn.
            return self._fail(ProbeOutcome.PROTOCOL_ERROR, f"unexpected reply {reply}")
        return handler(reply)

    def on_tls_established(self) -> Action:
        """The handshake succeeded: the probe has what it came for; say goodbye politely."""
        state = self._state
        state.outcome = ProbeOutcome.NEGOTIATED
        return self._send(SmtpStage.QUIT, "QUIT")

    def on_tls_failed(self, reason: str) -> Action:
        return self._fail(ProbeOutcome.HANDSHAKE_FAILED, reason)

    def on_closed(self) -> Action:
        """The server closed the connection (EOF)."""
        state = self._state
        if state.stage is SmtpStage.QUIT or state.finished:
            state.finished = True
            return Finish()
        return self._fail(ProbeOutcome.CLOSED, f"server closed the connection during {state.stage}")

    # --- per stage ---------------------------------------------------------------------------

    def _on_greeting(self, reply: SmtpReply) -> Action:
        self._state.greeting = reply
        if reply.code == 220:
            return self._send(SmtpStage.EHLO, f"EHLO {self._ehlo_name}")
        return self._refused(reply)

    def _on_ehlo(self, reply: SmtpReply) -> Action:
        state = self._state
        if reply.code == 250:
            state.ehlo = reply
            state.starttls_offered = "STARTTLS" in ehlo_keywords(reply)
            return self._after_capabilities()
        if reply.code in EHLO_NOT_UNDERSTOOD:
            return self._send(SmtpStage.HELO, f"HELO {self._ehlo_name}")
        return self._refused(reply)

    def _on_helo(self, reply: SmtpReply) -> Action:
        state = self._state
        if reply.code == 250:
            # A HELO session has no extensions, so no STARTTLS (RFC 3207 needs EHLO).
            state.used_helo = True
            state.starttls_offered = False
            return self._after_capabilities()
        return self._refused(reply)

    def _after_capabilities(self) -> Action:
        state = self._state
        if not state.starttls_offered:
            state.outcome = ProbeOutcome.NO_STARTTLS
            return self._send(SmtpStage.QUIT, "QUIT")
        if not self._want_starttls:
            state.outcome = ProbeOutcome.SKIPPED
            return self._send(SmtpStage.QUIT, "QUIT")
        return self._send(SmtpStage.STARTTLS, "STARTTLS")

    def _on_starttls(self, reply: SmtpReply) -> Action:
        state = self._state
        if reply.code == 220:
            state.stage = SmtpStage.TLS_HANDSHAKE
            return StartTls()
        reply_class = classify_reply(reply)
        if reply_class is ReplyClass.RATE_LIMITED:
            return self._refused(reply)
        state.failure_reply = reply
        state.reply_class = reply_class
        return self._fail(ProbeOutcome.STARTTLS_REFUSED, f"STARTTLS answered {reply}")

    def _on_quit(self, reply: SmtpReply) -> Action:
        self._state.finished = True
        return Finish()

    # --- helpers -----------------------------------------------------------------------------

    def _send(self, stage: SmtpStage, command: str) -> Action:
        state = self._state
        state.stage = stage
        state.pending_command = command
        return Send(command)

    def _refused(self, reply: SmtpReply) -> Action:
        """A reply that ends the session without telling anything about TLS."""
        state = self._state
        state.failure_reply = reply
        state.reply_class = classify_reply(reply)
        if state.reply_class is ReplyClass.UNEXPECTED:
            return self._fail(ProbeOutcome.PROTOCOL_ERROR, f"unexpected reply {reply}")
        return self._fail(ProbeOutcome.SMTP_FAILURE, f"{state.reply_class}: {reply}")

    def _fail(self, outcome: ProbeOutcome, reason: str) -> Action:
        state = self._state
        state.outcome = outcome
        state.reason = reason
        state.finished = True
        return Finish()

from __future__ import annotations

import pytest

from mailtls.models import ProbeOutcome, ReplyClass, SmtpReply, SmtpStage
from mailtls.smtp.dialogue import Action, ClientDialogue, Finish, Send, StartTls

GREETING = SmtpReply(220, ("mx.example.net ESMTP",))
EHLO_TLS = SmtpReply(250, ("mx.example.net", "PIPELINING", "STARTTLS"))
EHLO_PLAIN = SmtpReply(250, ("mx.example.net", "PIPELINING", "8BITMIME"))
GO_AHEAD = SmtpReply(220, ("2.0.0 Ready to start TLS",))
BYE = SmtpReply(221, ("2.0.0 Bye",))


def run(dialogue: ClientDialogue, replies: list[SmtpReply]) -> list[Action]:
    return [dialogue.on_reply(reply) for reply in replies]


def test_happy_path_reaches_starttls_then_quits() -> None:
    dialogue = ClientDialogue("probe.example")
    actions = run(dialogue, [GREETING, EHLO_TLS, GO_AHEAD])
    assert actions == [Send("EHLO probe.example"), Send("STARTTLS"), StartTls()]
    assert dialogue.stage is SmtpStage.TLS_HANDSHAKE
    assert dialogue.on_tls_established() == Send("QUIT")
    assert dialogue.on_reply(BYE) == Finish()
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.NEGOTIATED
    assert result.starttls_offered is True
    assert [e.command for e in result.exchanges] == [None, "EHLO probe.example", "STARTTLS", "QUIT"]


def test_no_starttls_in_ehlo_is_reported_after_a_polite_quit() -> None:
    dialogue = ClientDialogue("probe.example")
    assert run(dialogue, [GREETING, EHLO_PLAIN]) == [Send("EHLO probe.example"), Send("QUIT")]
    assert dialogue.on_closed() == Finish()  # server hangs up instead of answering QUIT: fine
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.NO_STARTTLS
    assert result.starttls_offered is False


@pytest.mark.parametrize("code", [500, 501, 502, 504])
def test_ehlo_not_understood_falls_back_to_helo(code: int) -> None:
    dialogue = ClientDialogue("probe.example")
    actions = run(dialogue, [GREETING, SmtpReply(code, ("what?",)), SmtpReply(250, ("hi",))])
    assert actions == [Send("EHLO probe.example"), Send("HELO probe.example"), Send("QUIT")]
    result = dialogue.result()
    assert result.used_helo
    assert result.outcome is ProbeOutcome.NO_STARTTLS


@pytest.mark.parametrize(
    ("replies", "stage", "reply_class"),
    [
        (
            [SmtpReply(421, ("4.7.0 Too many connections",))],
            SmtpStage.GREETING,
            ReplyClass.RATE_LIMITED,
        ),
        ([SmtpReply(554, ("5.7.1 You are blocked",))], SmtpStage.GREETING, ReplyClass.REJECTED),
        ([SmtpReply(450, ("4.3.2 try later",))], SmtpStage.GREETING, ReplyClass.TEMPORARY),
        (
            [GREETING, SmtpReply(421, ("4.7.0 Try again later",))],
            SmtpStage.EHLO,
            ReplyClass.RATE_LIMITED,
        ),
        ([GREETING, SmtpReply(550, ("5.7.1 policy",))], SmtpStage.EHLO, ReplyClass.REJECTED),
        (
            [GREETING, SmtpReply(502, ("no",)), SmtpReply(554, ("5.7.1 go away",))],
            SmtpStage.HELO,
            ReplyClass.REJECTED,
        ),
        (
            [GREETING, EHLO_TLS, SmtpReply(421, ("4.3.2 shutting down",))],
            SmtpStage.STARTTLS,
            ReplyClass.RATE_LIMITED,
        ),
    ],
)
def test_error_replies_are_smtp_failures_never_no_starttls(
    replies: list[SmtpReply], stage: SmtpStage, reply_class: ReplyClass
) -> None:
    dialogue = ClientDialogue("probe.example")
    actions = run(dialogue, replies)
    assert actions[-1] == Finish()
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.SMTP_FAILURE
    assert result.stage is stage
    assert result.reply_class is reply_class
    assert result.failure_reply == replies[-1]
    assert result.starttls_offered is not False or stage is SmtpStage.HELO


def test_starttls_refused_with_454_is_its_own_outcome() -> None:
    dialogue = ClientDialogue("probe.example")
    run(dialogue, [GREETING, EHLO_TLS, SmtpReply(454, ("4.7.0 TLS not available",))])
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.STARTTLS_REFUSED
    assert result.reply_class is ReplyClass.TEMPORARY
    assert result.starttls_offered is True


def test_unexpected_success_code_at_greeting_is_a_protocol_error() -> None:
    dialogue = ClientDialogue("probe.example")
    assert dialogue.on_reply(SmtpReply(250, ("hello?",))) == Finish()
    assert dialogue.result().outcome is ProbeOutcome.PROTOCOL_ERROR


def test_close_after_ehlo_is_closed_at_that_stage() -> None:
    dialogue = ClientDialogue("probe.example")
    dialogue.on_reply(GREETING)
    assert dialogue.on_closed() == Finish()
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.CLOSED
    assert result.stage is SmtpStage.EHLO


def test_tls_failure_is_recorded_with_its_reason() -> None:
    dialogue = ClientDialogue("probe.example")
    run(dialogue, [GREETING, EHLO_TLS, GO_AHEAD])
    assert dialogue.on_tls_failed("alert protocol version") == Finish()
    result = dialogue.result()
    assert result.outcome is ProbeOutcome.HANDSHAKE_FAILED
    assert result.reason == "alert protocol version"


def test_a_reply_while_waiting_for_tls_is_a_protocol_error() -> None:
    dialogue = ClientDialogue("probe.example")
    run(dialogue, [GREETING, EHLO_TLS, GO_AHEAD])
    assert dialogue.on_reply(SmtpReply(250, ("surprise",))) == Finish()
    assert dialogue.result().outcome is ProbeOutcome.PROTOCOL_ERROR

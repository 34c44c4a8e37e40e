from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import (
    AddressObservation,
    AddressStatus,
    Endpoint,
    ExoInbound,
    ExoOutbound,
    FindingCode,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    ReplyClass,
    Severity,
    SmtpExchange,
    SmtpReply,
    SmtpStage,
    TlsHandshake,
    TlsVersion,
)
from mailtls.policy.address import assess_address

EXO = load_exchange_online_policy()
K = ProbeKind
GREETING = SmtpExchange(SmtpStage.GREETING, None, SmtpReply(220, ("mx ESMTP Postfix",)))
EHLO = SmtpExchange(SmtpStage.EHLO, "EHLO probe", SmtpReply(250, ("mx", "PIPELINING", "STARTTLS")))


def ok(
    kind: ProbeKind, version: TlsVersion, cipher: str = "ECDHE-RSA-AES256-GCM-SHA384"
) -> ProbeResult:
    return ProbeResult(
        kind,
        ProbeOutcome.NEGOTIATED,
        TlsHandshake(version, cipher, 256, None),
        exchanges=(GREETING, EHLO),
    )


def refused(kind: ProbeKind) -> ProbeResult:
    return ProbeResult(
        kind,
        ProbeOutcome.HANDSHAKE_FAILED,
        stage=SmtpStage.TLS_HANDSHAKE,
        reason="TLSV1_ALERT_PROTOCOL_VERSION",
        exchanges=(GREETING, EHLO),
    )


def smtp_failure(kind: ProbeKind, code: int, stage: SmtpStage) -> ProbeResult:
    reply = SmtpReply(code, ("4.7.0 Too many connections",))
    reply_class = {421: ReplyClass.RATE_LIMITED, 450: ReplyClass.TEMPORARY}.get(
        code, ReplyClass.REJECTED
    )
    exchange = SmtpExchange(stage, None if stage is SmtpStage.GREETING else "EHLO probe", reply)
    return ProbeResult(
        kind,
        ProbeOutcome.SMTP_FAILURE,
        stage=stage,
        failure_reply=reply,
        reply_class=reply_class,
        exchanges=(exchange,),
    )


def assess(*probes: ProbeResult):  # type: ignore[no-untyped-def]
    observation = AddressObservation(
        Endpoint("192.0.2.1", 25), tuple(probes), datetime(2026, 1, 1, tzinfo=UTC), 0.5
    )
    return assess_address(
        observation,
        mx_host="mx.example.net",
        certificate=None,
        certificate_problem=None,
        exchange_online=EXO,
    )


def codes(report) -> set[FindingCode]:  # type: ignore[no-untyped-def]
    return {f.code for f in report.findings}


def test_modern_server_is_ready_with_only_informational_findings() -> None:
    report = assess(
        ok(K.DEFAULT, TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"),
        ok(K.TLS1_2, TlsVersion.TLS1_2),
        refused(K.TLS1_1),
        refused(K.TLS1_0),
    )
    assert report.status is AddressStatus.OK
    assert report.starttls is True
    assert codes(report) == set()
    assert report.verdict.inbound is ExoInbound.TLS12
    assert report.verdict.outbound is ExoOutbound.LIKELY_TLS12
    assert report.negotiated is not None
    assert report.negotiated.version is TlsVersion.TLS1_3
    assert report.connections == 4
    assert report.banner == GREETING.reply
    assert report.ehlo_keywords == ("PIPELINING", "STARTTLS")


def test_legacy_only_server_falls_back_to_plaintext_and_is_critical() -> None:
    report = assess(
        refused(K.DEFAULT),
        refused(K.TLS1_3),
        refused(K.TLS1_2),
        ok(K.TLS1_1, TlsVersion.TLS1_1, "ECDHE-RSA-AES256-SHA"),
        ok(K.TLS1_0, TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA"),
    )
    assert report.status is AddressStatus.OK
    assert codes(report) == {
        FindingCode.TLS12_UNSUPPORTED,
        FindingCode.TLS13_UNSUPPORTED,
        FindingCode.TLS10_ENABLED,
        FindingCode.TLS11_ENABLED,
    }
    assert report.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK
    assert report.verdict.outbound is ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL
    severities = {f.code: f.severity for f in report.findings}
    assert severities[FindingCode.TLS12_UNSUPPORTED] is Severity.CRITICAL
    assert severities[FindingCode.TLS10_ENABLED] is Severity.WARNING


def test_no_starttls_is_critical_but_the_address_was_tested() -> None:
    probe = ProbeResult(K.DEFAULT, ProbeOutcome.NO_STARTTLS, exchanges=(GREETING,))
    report = assess(probe)
    assert report.status is AddressStatus.OK
    assert report.starttls is False
    assert codes(report) == {FindingCode.STARTTLS_MISSING}
    assert report.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK


@pytest.mark.parametrize(
    ("code", "stage", "status", "finding"),
    [
        (421, SmtpStage.GREETING, AddressStatus.RATE_LIMITED, FindingCode.RATE_LIMITED),
        (421, SmtpStage.EHLO, AddressStatus.RATE_LIMITED, FindingCode.RATE_LIMITED),
        (
            450,
            SmtpStage.GREETING,
            AddressStatus.TEMPORARY_FAILURE,
            FindingCode.SMTP_TEMPORARY_FAILURE,
        ),
        (554, SmtpStage.GREETING, AddressStatus.REJECTED, FindingCode.SMTP_REJECTED),
    ],
)
def test_error_replies_are_never_reported_as_missing_starttls(
    code: int, stage: SmtpStage, status: AddressStatus, finding: FindingCode
) -> None:
    report = assess(smtp_failure(K.DEFAULT, code, stage))
    assert report.status is status
    assert report.starttls is None
    assert codes(report) == {finding}
    assert FindingCode.STARTTLS_MISSING not in codes(report)
    assert report.verdict.inbound is ExoInbound.NOT_TESTED
    assert str(code) in (report.status_detail or "")


@pytest.mark.parametrize(
    ("outcome", "stage", "status", "finding"),
    [
        (
            ProbeOutcome.CONNECT_FAILED,
            SmtpStage.CONNECT,
            AddressStatus.CONNECT_FAILED,
            FindingCode.CONNECT_FAILED,
        ),
        (ProbeOutcome.TIMEOUT, SmtpStage.GREETING, AddressStatus.TIMEOUT, FindingCode.TIMEOUT),
        (
            ProbeOutcome.CLOSED,
            SmtpStage.EHLO,
            AddressStatus.CONNECTION_CLOSED,
            FindingCode.CONNECTION_CLOSED,
        ),
        (ProbeOutcome.NOT_SMTP, SmtpStage.GREETING, AddressStatus.NOT_SMTP, FindingCode.NOT_SMTP),
        (
            ProbeOutcome.PROTOCOL_ERROR,
            SmtpStage.GREETING,
            AddressStatus.PROTOCOL_ERROR,
            FindingCode.PROTOCOL_ERROR,
        ),
        (
            ProbeOutcome.PROTOCOL_ERROR,
            SmtpStage.TLS_HANDSHAKE,
            AddressStatus.TLS_FAILED,
            FindingCode.TLS_HANDSHAKE_FAILED,
        ),
    ],
)
def test_unreachable_and_hostile_servers_get_a_status_of_their_own(
    outcome: ProbeOutcome, stage: SmtpStage, status: AddressStatus, finding: FindingCode
) -> None:
    report = assess(ProbeResult(K.DEFAULT, outcome, stage=stage, reason="details"))
    assert report.status is status
    assert finding in codes(report)
    assert FindingCode.STARTTLS_MISSING not in codes(report)


def test_a_protocol_error_after_the_greeting_is_not_called_not_smtp() -> None:
    probe = ProbeResult(
        K.DEFAULT, ProbeOutcome.PROTOCOL_ERROR, stage=SmtpStage.EHLO, reason="line too long",
        exchanges=(GREETING,),
    )  # fmt: skip
    assert assess(probe).status is AddressStatus.PROTOCOL_ERROR


def test_starttls_that_never_handshakes_is_tls_failed_and_critical() -> None:
    report = assess(
        *(refused(kind) for kind in (K.DEFAULT, K.TLS1_3, K.TLS1_2, K.TLS1_1, K.TLS1_0))
    )
    assert report.status is AddressStatus.TLS_FAILED
    assert report.starttls is True
    assert {FindingCode.TLS_HANDSHAKE_FAILED, FindingCode.TLS12_UNSUPPORTED} <= codes(report)
    assert report.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK


def test_a_rate_limited_later_probe_leaves_versions_untested_and_says_so() -> None:
    report = assess(
        ok(K.DEFAULT, TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"),
        smtp_failure(K.TLS1_2, 421, SmtpStage.GREETING),
    )
    assert report.status is AddressStatus.OK
    assert codes(report) == {FindingCode.PROBES_INCOMPLETE}
    assert report.verdict.inbound is ExoInbound.NOT_TESTED
    incomplete = next(f for f in report.findings if f.code is FindingCode.PROBES_INCOMPLETE)
    assert "TLSv1.2" in incomplete.message
    assert "421" in incomplete.message
    # the 421 of the later probe is among the replies that mattered
    assert any(e.reply.code == 421 for e in report.replies)


def test_tls12_without_exchange_online_suites_is_critical() -> None:
    report = assess(
        ok(K.DEFAULT, TlsVersion.TLS1_2, "ECDHE-RSA-CHACHA20-POLY1305"),
        refused(K.TLS1_1),
        refused(K.TLS1_0),
        refused(K.EXO_CIPHERS),
    )
    assert codes(report) == {FindingCode.EXO_CIPHERS_UNSUPPORTED, FindingCode.TLS13_UNSUPPORTED}
    assert report.verdict.inbound is ExoInbound.PLAINTEXT_FALLBACK


def test_tls13_only_is_not_called_ready() -> None:
    report = assess(
        ok(K.DEFAULT, TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"),
        refused(K.TLS1_2),
        refused(K.TLS1_1),
        refused(K.TLS1_0),
    )
    assert FindingCode.TLS12_UNSUPPORTED in codes(report)
    message = next(f.message for f in report.findings if f.code is FindingCode.TLS12_UNSUPPORTED)
    assert "only TLS 1.3" in message


EXCHANGE_GREETING = SmtpExchange(
    SmtpStage.GREETING,
    None,
    SmtpReply(220, ("mx Microsoft ESMTP MAIL Service ready at Mon, 11 Jan 2021 09:00:00 +0000",)),
)
EXCHANGE_EHLO = SmtpExchange(
    SmtpStage.EHLO,
    "EHLO probe",
    SmtpReply(250, ("mx", "STARTTLS", "X-ANONYMOUSTLS", "XRDST", "XSHADOWREQUEST")),
)


def exchange(probe: ProbeResult) -> ProbeResult:
    return ProbeResult(
        probe.kind, probe.outcome, probe.handshake, probe.stage, probe.reason,
        exchanges=(EXCHANGE_GREETING, EXCHANGE_EHLO),
    )  # fmt: skip


def test_findings_carry_the_fix_for_the_recognised_product() -> None:
    report = assess(
        exchange(ok(K.DEFAULT, TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA")),
        exchange(ok(K.TLS1_0, TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA")),
        exchange(refused(K.TLS1_1)),
        exchange(refused(K.TLS1_2)),
        exchange(refused(K.TLS1_3)),
    )
    assert report.product.product == "exchange-2013-or-later"
    remedies = {f.code: f.remedy for f in report.findings}
    tls12 = remedies[FindingCode.TLS12_UNSUPPORTED]
    assert tls12 is not None
    assert tls12.product == "exchange-2013-or-later"
    assert any("CU19" in step for step in tls12.steps)
    assert remedies[FindingCode.TLS10_ENABLED] is not None
    assert remedies[FindingCode.TLS13_UNSUPPORTED] is None  # informational


def test_an_unrecognised_server_gets_the_generic_fix() -> None:
    plain = ProbeResult(K.DEFAULT, ProbeOutcome.NO_STARTTLS, exchanges=(
        SmtpExchange(SmtpStage.GREETING, None, SmtpReply(220, ("mx ESMTP ready",))), EHLO))  # fmt: skip
    report = assess(plain)
    (missing,) = [f for f in report.findings if f.code is FindingCode.STARTTLS_MISSING]
    assert missing.remedy is not None
    assert missing.remedy.product is None
    assert "mx.example.net" in missing.remedy.summary

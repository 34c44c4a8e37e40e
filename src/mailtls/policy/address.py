"""Judge one address: status, TLS facts, findings and Exchange Online verdict (pure).

Input is what the probes observed plus the certificate analysis; output is the
:class:`AddressReport` every renderer shows. Nothing here knows about sockets or time zones of
the machine: the same observation always gives the same report.
"""

from __future__ import annotations

import dataclasses

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy
from mailtls.knowledge.fingerprint import guess_product
from mailtls.knowledge.remedies import address_facts, remedy_for
from mailtls.models import (
    AddressObservation,
    AddressReport,
    AddressStatus,
    CertificateReport,
    ExoInbound,
    ExoOutbound,
    ExoVerdict,
    Finding,
    FindingCode,
    ProbeOutcome,
    ProbeResult,
    ReplyClass,
    SmtpExchange,
    SmtpReply,
    SmtpStage,
    TlsHandshake,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.certificate import certificate_findings
from mailtls.policy.codes import finding
from mailtls.probes.plan import TlsKnowledge, infer
from mailtls.smtp.replies import ehlo_keywords

_FAILURE_STATUS = {
    ProbeOutcome.CONNECT_FAILED: (AddressStatus.CONNECT_FAILED, FindingCode.CONNECT_FAILED),
    ProbeOutcome.TIMEOUT: (AddressStatus.TIMEOUT, FindingCode.TIMEOUT),
    ProbeOutcome.CLOSED: (AddressStatus.CONNECTION_CLOSED, FindingCode.CONNECTION_CLOSED),
}

_REPLY_STATUS = {
    ReplyClass.RATE_LIMITED: (AddressStatus.RATE_LIMITED, FindingCode.RATE_LIMITED),
    ReplyClass.TEMPORARY: (AddressStatus.TEMPORARY_FAILURE, FindingCode.SMTP_TEMPORARY_FAILURE),
    ReplyClass.REJECTED: (AddressStatus.REJECTED, FindingCode.SMTP_REJECTED),
    ReplyClass.UNEXPECTED: (AddressStatus.PROTOCOL_ERROR, FindingCode.PROTOCOL_ERROR),
}


def _describe_failure(probe: ProbeResult) -> str:
    where = f" at {probe.stage}" if probe.stage else ""
    if probe.failure_reply is not None:
        return f"{probe.failure_reply}{where}"
    return f"{probe.reason or probe.outcome}{where}"


def _status(
    first: ProbeResult, probes: tuple[ProbeResult, ...]
) -> tuple[AddressStatus, Finding | None]:
    """Whether the address could be tested; if not, the finding that says why."""
    outcome = first.outcome
    if outcome in (ProbeOutcome.NEGOTIATED, ProbeOutcome.NO_STARTTLS):
        return AddressStatus.OK, None
    if outcome is ProbeOutcome.HANDSHAKE_FAILED:
        if any(p.outcome is ProbeOutcome.NEGOTIATED for p in probes):
            return AddressStatus.OK, None  # only older versions or other suites work
        answered = all(p.outcome is ProbeOutcome.HANDSHAKE_FAILED for p in probes)
        if answered:
            return AddressStatus.TLS_FAILED, finding(
                FindingCode.TLS_HANDSHAKE_FAILED,
                f"STARTTLS is offered but every TLS handshake failed ({first.reason}); "
                "senders fall back to plaintext or give up",
            )
        later = next(p for p in probes if p.outcome is not ProbeOutcome.HANDSHAKE_FAILED)
        return _status(later, ())
    if outcome is ProbeOutcome.STARTTLS_REFUSED:
        return AddressStatus.TLS_FAILED, finding(
            FindingCode.STARTTLS_REFUSED,
            f"STARTTLS is advertised but answered {first.failure_reply}; "
            "senders fall back to plaintext or give up",
        )
    if outcome is ProbeOutcome.NOT_SMTP:
        return AddressStatus.NOT_SMTP, finding(
            FindingCode.NOT_SMTP, f"no SMTP greeting: {first.reason}"
        )
    if outcome is ProbeOutcome.PROTOCOL_ERROR:
        if first.stage is SmtpStage.TLS_HANDSHAKE:
            return AddressStatus.TLS_FAILED, finding(
                FindingCode.TLS_HANDSHAKE_FAILED, f"TLS could not start: {first.reason}"
            )
        return AddressStatus.PROTOCOL_ERROR, finding(
            FindingCode.PROTOCOL_ERROR, _describe_failure(first)
        )
    if outcome is ProbeOutcome.SMTP_FAILURE and first.reply_class is not None:
        status, code = _REPLY_STATUS[first.reply_class]
        return status, finding(code, f"{_describe_failure(first)}; TLS could not be tested")
    status, code = _FAILURE_STATUS.get(
        outcome, (AddressStatus.PROTOCOL_ERROR, FindingCode.PROTOCOL_ERROR)
    )
    return status, finding(code, _describe_failure(first))


def _incomplete(probes: tuple[ProbeResult, ...], knowledge: TlsKnowledge) -> Finding | None:
    stopper = next(
        (
            p
            for p in probes[1:]
            if p.outcome not in (ProbeOutcome.NEGOTIATED, ProbeOutcome.HANDSHAKE_FAILED)
        ),
        None,
    )
    if stopper is None:
        return None
    untested = [str(v) for v, s in knowledge.versions.items() if s is VersionSupport.NOT_TESTED]
    if knowledge.exo_ciphers is VersionSupport.NOT_TESTED:
        untested.append("Exchange Online suites")
    return finding(
        FindingCode.PROBES_INCOMPLETE,
        f"probe {stopper.kind} ended with {stopper.outcome} ({_describe_failure(stopper)}); "
        f"not tested: {', '.join(untested) or 'nothing'}",
    )


def _tls_findings(knowledge: TlsKnowledge) -> list[Finding]:
    versions = knowledge.versions
    found: list[Finding] = []
    tls12 = versions[TlsVersion.TLS1_2]
    if tls12 is VersionSupport.UNSUPPORTED:
        if versions[TlsVersion.TLS1_3] is VersionSupport.SUPPORTED:
            message = (
                "only TLS 1.3 works; Exchange Online's use of TLS 1.3 for SMTP is not "
                "confirmed, and TLS 1.2 is what it is documented to need"
            )
        else:
            message = (
                "no TLS 1.2: Exchange Online refuses TLS 1.0/1.1, so its mail to this address "
                "goes in plaintext, or fails on connectors that require TLS"
            )
        found.append(finding(FindingCode.TLS12_UNSUPPORTED, message))
    elif knowledge.exo_ciphers is VersionSupport.UNSUPPORTED:
        found.append(
            finding(
                FindingCode.EXO_CIPHERS_UNSUPPORTED,
                "TLS 1.2 works, but not with any suite Exchange Online offers "
                "(ECDHE-RSA or RSA with AES-GCM/AES-CBC): its mail goes in plaintext",
            )
        )
    if versions[TlsVersion.TLS1_3] is VersionSupport.UNSUPPORTED:
        found.append(finding(FindingCode.TLS13_UNSUPPORTED, "TLS 1.3 is not offered"))
    if versions[TlsVersion.TLS1_0] is VersionSupport.SUPPORTED:
        found.append(finding(FindingCode.TLS10_ENABLED, "TLS 1.0 is accepted"))
    if versions[TlsVersion.TLS1_1] is VersionSupport.SUPPORTED:
        found.append(finding(FindingCode.TLS11_ENABLED, "TLS 1.1 is accepted"))
    return found


def _verdict(status: AddressStatus, starttls: bool | None, knowledge: TlsKnowledge) -> ExoVerdict:
    tested = status in (AddressStatus.OK, AddressStatus.TLS_FAILED)
    tls12 = knowledge.versions[TlsVersion.TLS1_2]
    exo = knowledge.exo_ciphers
    if not tested:
        return ExoVerdict(
            ExoInbound.NOT_TESTED, ExoOutbound.UNKNOWN, f"not tested: the address is {status}"
        )
    if status is AddressStatus.OK and starttls and exo is VersionSupport.SUPPORTED:
        return ExoVerdict(
            ExoInbound.TLS12,
            ExoOutbound.LIKELY_TLS12,
            "Exchange Online delivers to this address over TLS 1.2; the same TLS stack can "
            "likely send to Exchange Online over TLS 1.2 (inferred)",
        )
    if status is AddressStatus.OK and starttls and exo is VersionSupport.NOT_TESTED:
        return ExoVerdict(
            ExoInbound.NOT_TESTED,
            ExoOutbound.UNKNOWN,
            "not decided: the probes for TLS 1.2 with Exchange Online's suites did not run",
        )
    if starttls is False:
        return ExoVerdict(
            ExoInbound.PLAINTEXT_FALLBACK,
            ExoOutbound.UNKNOWN,
            "no STARTTLS: Exchange Online delivers in plaintext, and fails where a connector "
            "requires TLS; nothing can be inferred about this server's sending side",
        )
    outbound = (
        ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL
        if tls12 is VersionSupport.UNSUPPORTED
        else ExoOutbound.UNKNOWN
    )
    return ExoVerdict(
        ExoInbound.PLAINTEXT_FALLBACK,
        outbound,
        "Exchange Online cannot agree on TLS 1.2 with this address: it delivers in plaintext, "
        "and fails where a connector requires TLS"
        + (
            "; this server's TLS stack likely cannot send to Exchange Online over TLS either"
            if outbound is ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL
            else ""
        ),
    )


def _first_reply(probes: tuple[ProbeResult, ...], stage: SmtpStage) -> SmtpReply | None:
    for probe in probes:
        for exchange in probe.exchanges:
            if exchange.stage is stage:
                return exchange.reply
    return None


def _replies_that_mattered(probes: tuple[ProbeResult, ...]) -> tuple[SmtpExchange, ...]:
    """The first probe's dialogue, plus every error reply a later probe met."""
    if not probes:
        return ()
    kept = list(probes[0].exchanges)
    for probe in probes[1:]:
        kept.extend(e for e in probe.exchanges if e.reply.code >= 400)
    return tuple(kept)


def _negotiated(probes: tuple[ProbeResult, ...]) -> TlsHandshake | None:
    for probe in probes:
        if probe.outcome is ProbeOutcome.NEGOTIATED and probe.handshake is not None:
            return probe.handshake
    return None


def assess_address(
    observation: AddressObservation,
    *,
    mx_host: str | None,
    certificate: CertificateReport | None,
    certificate_problem: str | None,
    exchange_online: ExchangeOnlinePolicy,
) -> AddressReport:
    probes = observation.probes
    first = probes[0]
    knowledge = infer(probes, exchange_online)
    status, status_finding = _status(first, probes)
    starttls: bool | None = None
    if first.outcome is ProbeOutcome.NO_STARTTLS:
        starttls = False
    elif first.outcome in (ProbeOutcome.NEGOTIATED, ProbeOutcome.HANDSHAKE_FAILED) or (
        status is AddressStatus.TLS_FAILED
    ):
        starttls = True
    findings: list[Finding] = [status_finding] if status_finding else []
    if starttls is False:
        findings.append(
            finding(
                FindingCode.STARTTLS_MISSING,
                "STARTTLS is not offered: every sender, Exchange Online included, delivers to "
                "this address in plaintext (or not at all where TLS is required)",
            )
        )
    if status in (AddressStatus.OK, AddressStatus.TLS_FAILED) and starttls:
        findings.extend(_tls_findings(knowledge))
        incomplete = _incomplete(probes, knowledge)
        if incomplete:
            findings.append(incomplete)
    if certificate is not None:
        findings.extend(certificate_findings(certificate, exchange_online))
    elif certificate_problem:
        findings.append(finding(FindingCode.CERT_UNPARSEABLE, certificate_problem))
    status_detail = status_finding.message if status_finding else None
    banner = _first_reply(probes, SmtpStage.GREETING)
    keywords = _ehlo_keywords(probes)
    product = guess_product(
        banner.text if banner is not None else None,
        keywords,
        certificate.leaf.subject if certificate is not None else None,
        mx_host,
    )
    # Each finding carries its fix, specific to the product the address was recognised as.
    facts = address_facts(mx_host, knowledge.versions, certificate)
    findings = [
        dataclasses.replace(
            found,
            remedy=remedy_for(found.code, product, facts, exchange_online=exchange_online),
        )
        for found in findings
    ]
    return AddressReport(
        endpoint=observation.endpoint,
        mx_host=mx_host,
        status=status,
        status_detail=status_detail,
        starttls=starttls,
        tls_versions=dict(sorted(knowledge.versions.items(), key=lambda item: item[0].rank)),
        exo_ciphers=knowledge.exo_ciphers,
        negotiated=_negotiated(probes),
        certificate=certificate,
        banner=banner,
        ehlo_keywords=keywords,
        replies=_replies_that_mattered(probes),
        probes=probes,
        findings=tuple(findings),
        verdict=_verdict(status, starttls, knowledge),
        connections=observation.connections,
        elapsed_seconds=observation.elapsed_seconds,
        product=product,
    )


def _ehlo_keywords(probes: tuple[ProbeResult, ...]) -> tuple[str, ...]:
    reply = _first_reply(probes, SmtpStage.EHLO)
    return ehlo_keywords(reply) if reply is not None and reply.code == 250 else ()

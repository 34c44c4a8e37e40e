"""Hand-built ``CheckReport`` values for the renderer tests: one per posture a real run meets.

Each factory returns the ``DomainReport`` an engine would produce for that posture; ``report``
wraps domains into a ``CheckReport``. Addresses come from the documentation ranges (RFC 5737,
RFC 3849) and names from RFC 2606, so nothing here points at a real system.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from mailtls.models import (
    AddressReport,
    AddressStatus,
    CertificateInfo,
    CertificateReport,
    CheckReport,
    Confidence,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    Endpoint,
    ExoInbound,
    ExoOutbound,
    ExoVerdict,
    Finding,
    FindingCode,
    MxHostReport,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    ProductGuess,
    ReplyClass,
    SmtpExchange,
    SmtpReply,
    SmtpStage,
    Target,
    TargetKind,
    TlsHandshake,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import finding
from mailtls.schema import SCHEMA_VERSION

CHECKED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)

# Stand-in DER bytes: the renderers carry them as evidence and never parse them.
LEAF_DER = bytes.fromhex("308201f43082019ba003020102021412") + bytes(range(48))
INTERMEDIATE_DER = bytes.fromhex("30820221308201c6a0030201020214") + bytes(range(48, 96))

RATE_LIMIT_TEXT = "4.7.0 mx.busy.example Error: too many connections from 192.0.2.1"

TLS12_AND_13 = {
    TlsVersion.TLS1_0: VersionSupport.UNSUPPORTED,
    TlsVersion.TLS1_1: VersionSupport.UNSUPPORTED,
    TlsVersion.TLS1_2: VersionSupport.SUPPORTED,
    TlsVersion.TLS1_3: VersionSupport.SUPPORTED,
}
NOTHING_TESTED = dict.fromkeys(TlsVersion, VersionSupport.NOT_TESTED)

EXO_OK = ExoVerdict(
    inbound=ExoInbound.TLS12,
    outbound=ExoOutbound.LIKELY_TLS12,
    summary="Mail flows with Exchange Online over TLS 1.2 in both directions.",
)
EXO_NOT_TESTED = ExoVerdict(
    inbound=ExoInbound.NOT_TESTED,
    outbound=ExoOutbound.UNKNOWN,
    summary="Not tested: no SMTP server could be examined.",
)


def report(*domains: DomainReport, exit_code: int | None = None) -> CheckReport:
    """A run over ``domains``; the exit code follows the worst severity unless given."""
    if exit_code is None:
        severities = [each.severity.rank for each in _all_findings(domains)]
        exit_code = max(severities, default=0)
    return CheckReport(
        schema_version=SCHEMA_VERSION,
        tool_version="0.1.0",
        generated_at=CHECKED_AT + timedelta(seconds=7, microseconds=250_000),
        domains=domains,
        exit_code=exit_code,
        options={"timeout": "30", "ipv6": "yes"},
    )


def all_samples() -> dict[str, CheckReport]:
    """Every posture on its own, and all of them in one run."""
    singles = {
        "modern": modern_domain(),
        "legacy_tls10": legacy_tls10_domain(),
        "no_starttls": no_starttls_domain(),
        "rate_limited": rate_limited_domain(),
        "nxdomain": nxdomain_domain(),
        "null_mx": null_mx_domain(),
        "servfail": servfail_domain(),
        "hostile": hostile_domain(),
        "address_target": address_target(),
    }
    samples = {name: report(domain) for name, domain in singles.items()}
    samples["all"] = report(*singles.values())
    return samples


# --- building blocks ---------------------------------------------------------------------------


def reply(code: int, *lines: str) -> SmtpReply:
    return SmtpReply(code=code, lines=lines)


def certificate(
    host: str,
    *,
    days_left: int,
    trusted: bool = True,
    trust_error: str | None = None,
    self_signed: bool = False,
    signature_hash: str = "sha256",
    key_type: str = "EC",
    key_bits: int = 256,
    subject: str | None = None,
    dns_names: tuple[str, ...] | None = None,
) -> CertificateReport:
    not_after = CHECKED_AT + timedelta(days=days_left, hours=3)
    subject_name = subject or f"CN={host}"
    issuer_name = subject_name if self_signed else "CN=Example Issuing CA 2,O=Example"
    leaf = CertificateInfo(
        subject=subject_name,
        issuer=issuer_name,
        dns_names=(host, f"mail.{host.split('.', 1)[1]}") if dns_names is None else dns_names,
        ip_addresses=(),
        not_before=not_after - timedelta(days=90),
        not_after=not_after,
        signature_algorithm=f"{signature_hash}WithRSAEncryption"
        if key_type == "RSA"
        else f"ecdsa-with-{signature_hash.upper()}",
        signature_hash=signature_hash,
        key_type=key_type,
        key_bits=key_bits,
        self_signed=self_signed,
        sha256_fingerprint="5f" * 32,
        serial="1a2b3c4d5e6f",
    )
    chain: tuple[CertificateInfo, ...] = (leaf,)
    if not self_signed:
        chain += (
            CertificateInfo(
                subject="CN=Example Issuing CA 2,O=Example",
                issuer="CN=Example Root CA,O=Example",
                dns_names=(),
                ip_addresses=(),
                not_before=datetime(2023, 1, 1, tzinfo=UTC),
                not_after=datetime(2033, 1, 1, tzinfo=UTC),
                signature_algorithm="sha384WithRSAEncryption",
                signature_hash="sha384",
                key_type="RSA",
                key_bits=4096,
                self_signed=False,
                sha256_fingerprint="a0" * 32,
                serial="02",
            ),
        )
    return CertificateReport(
        leaf=leaf,
        chain=chain,
        checked_at=CHECKED_AT,
        days_left=days_left,
        trusted=trusted,
        trust_error=trust_error,
        name_checked=host,
        name_matches=True,
    )


def ehlo_exchanges(host: str, *, starttls: bool) -> tuple[SmtpExchange, ...]:
    keywords = ["PIPELINING", "SIZE 52428800", "8BITMIME"] + (["STARTTLS"] if starttls else [])
    exchanges = [
        SmtpExchange(SmtpStage.GREETING, None, reply(220, f"{host} ESMTP Postfix")),
        SmtpExchange(SmtpStage.EHLO, "EHLO mailtls.test", reply(250, host, *keywords)),
    ]
    if starttls:
        exchanges.append(
            SmtpExchange(SmtpStage.STARTTLS, "STARTTLS", reply(220, "2.0.0 Ready to start TLS"))
        )
    return tuple(exchanges)


def negotiated_probe(kind: ProbeKind, handshake: TlsHandshake, host: str) -> ProbeResult:
    return ProbeResult(
        kind=kind,
        outcome=ProbeOutcome.NEGOTIATED,
        handshake=handshake,
        exchanges=ehlo_exchanges(host, starttls=True),
        chain_der=(LEAF_DER, INTERMEDIATE_DER),
        elapsed_seconds=0.183,
    )


def refused_probe(kind: ProbeKind, host: str) -> ProbeResult:
    return ProbeResult(
        kind=kind,
        outcome=ProbeOutcome.HANDSHAKE_FAILED,
        stage=SmtpStage.TLS_HANDSHAKE,
        reason="[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol (_ssl.c:1006)",
        exchanges=ehlo_exchanges(host, starttls=True),
        elapsed_seconds=0.094,
    )


def skipped_probe(kind: ProbeKind, reason: str) -> ProbeResult:
    return ProbeResult(kind=kind, outcome=ProbeOutcome.SKIPPED, reason=reason)


def address(
    ip: str,
    host: str,
    *,
    port: int = 25,
    mx_host: str | None = "",
    status: AddressStatus = AddressStatus.OK,
    status_detail: str | None = None,
    starttls: bool | None = True,
    tls_versions: dict[TlsVersion, VersionSupport] | None = None,
    exo_ciphers: VersionSupport = VersionSupport.SUPPORTED,
    negotiated: TlsHandshake | None = None,
    cert: CertificateReport | None = None,
    banner: SmtpReply | None = None,
    replies: tuple[SmtpExchange, ...] | None = None,
    probes: tuple[ProbeResult, ...] = (),
    findings: tuple[Finding, ...] = (),
    verdict: ExoVerdict = EXO_OK,
) -> AddressReport:
    exchanges = ehlo_exchanges(host, starttls=bool(starttls)) if replies is None else replies
    return AddressReport(
        endpoint=Endpoint(ip, port),
        mx_host=host if mx_host == "" else mx_host,
        status=status,
        status_detail=status_detail,
        starttls=starttls,
        tls_versions=TLS12_AND_13 if tls_versions is None else tls_versions,
        exo_ciphers=exo_ciphers,
        negotiated=negotiated,
        certificate=cert,
        banner=reply(220, f"{host} ESMTP Postfix") if banner is None else banner,
        ehlo_keywords=("PIPELINING", "SIZE 52428800", "8BITMIME")
        + (("STARTTLS",) if starttls else ()),
        replies=exchanges,
        probes=probes,
        findings=findings,
        verdict=verdict,
        connections=sum(1 for probe in probes if probe.outcome is not ProbeOutcome.SKIPPED),
        elapsed_seconds=round(sum(probe.elapsed_seconds for probe in probes), 3),
        product=POSTFIX_GUESS,
    )


POSTFIX_GUESS = ProductGuess(
    product="postfix",
    name="Postfix",
    version=None,
    confidence=Confidence.HIGH,
    evidence=("banner matches 'ESMTP Postfix'",),
)


def domain(
    name: str,
    *,
    dns: tuple[DnsOutcome, ...],
    mx_hosts: tuple[MxHostReport, ...] = (),
    findings: tuple[Finding, ...] = (),
    verdict: ExoVerdict = EXO_OK,
) -> DomainReport:
    return DomainReport(
        target=Target(kind=TargetKind.DOMAIN, name=name, port=25, original=name.upper()),
        dns=dns,
        mx_hosts=mx_hosts,
        findings=findings,
        verdict=verdict,
        tested_addresses=sum(len(mx_host.addresses) for mx_host in mx_hosts),
        started_at=CHECKED_AT,
        elapsed_seconds=round(
            sum(a.elapsed_seconds for mx_host in mx_hosts for a in mx_host.addresses), 3
        ),
    )


def mx_outcome(name: str, *records: str) -> DnsOutcome:
    return DnsOutcome(name=name, rdtype="MX", status=DnsStatus.OK, records=records)


def address_outcomes(
    host: str, ipv4: tuple[str, ...], ipv6: tuple[str, ...]
) -> tuple[DnsOutcome, ...]:
    def outcome(rdtype: str, records: tuple[str, ...]) -> DnsOutcome:
        if records:
            return DnsOutcome(name=host, rdtype=rdtype, status=DnsStatus.OK, records=records)
        return DnsOutcome(name=host, rdtype=rdtype, status=DnsStatus.NO_DATA)

    return (outcome("A", ipv4), outcome("AAAA", ipv6))


def _all_findings(domains: tuple[DomainReport, ...]) -> list[Finding]:
    findings: list[Finding] = []
    for each in domains:
        findings.extend(each.findings)
        for mx_host in each.mx_hosts:
            findings.extend(mx_host.findings)
            for each_address in mx_host.addresses:
                findings.extend(each_address.findings)
    return findings


# --- the postures ------------------------------------------------------------------------------

TLS13_HANDSHAKE = TlsHandshake(TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384", 256, None)
TLS12_HANDSHAKE = TlsHandshake(TlsVersion.TLS1_2, "ECDHE-RSA-AES256-GCM-SHA384", 256, "ECDHE")
TLS10_HANDSHAKE = TlsHandshake(TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA", 256, "ECDHE")


def modern_domain() -> DomainReport:
    """example.com: two MX hosts; mx1 (IPv4 and IPv6) speaks TLS 1.3, mx2 stops at TLS 1.2."""

    def modern_address(ip: str) -> AddressReport:
        host = "mx1.example.com"
        return address(
            ip,
            host,
            negotiated=TLS13_HANDSHAKE,
            cert=certificate(host, days_left=61),
            probes=(
                negotiated_probe(ProbeKind.DEFAULT, TLS13_HANDSHAKE, host),
                refused_probe(ProbeKind.TLS1_0, host),
                refused_probe(ProbeKind.TLS1_1, host),
                negotiated_probe(ProbeKind.TLS1_2, TLS12_HANDSHAKE, host),
                skipped_probe(ProbeKind.TLS1_3, "the default probe negotiated TLS 1.3"),
                negotiated_probe(ProbeKind.EXO_CIPHERS, TLS12_HANDSHAKE, host),
            ),
        )

    mx2_versions = {**TLS12_AND_13, TlsVersion.TLS1_3: VersionSupport.UNSUPPORTED}
    mx2 = address(
        "192.0.2.20",
        "mx2.example.com",
        tls_versions=mx2_versions,
        negotiated=TLS12_HANDSHAKE,
        cert=certificate("mx2.example.com", days_left=12, key_type="RSA", key_bits=2048),
        probes=(
            negotiated_probe(ProbeKind.DEFAULT, TLS12_HANDSHAKE, "mx2.example.com"),
            refused_probe(ProbeKind.TLS1_0, "mx2.example.com"),
            refused_probe(ProbeKind.TLS1_1, "mx2.example.com"),
            skipped_probe(ProbeKind.TLS1_2, "the default probe negotiated TLS 1.2"),
            refused_probe(ProbeKind.TLS1_3, "mx2.example.com"),
            negotiated_probe(ProbeKind.EXO_CIPHERS, TLS12_HANDSHAKE, "mx2.example.com"),
        ),
        findings=(
            finding(FindingCode.TLS13_UNSUPPORTED, "TLS 1.3 is not offered."),
            finding(
                FindingCode.CERT_EXPIRES_SOON,
                "The certificate expires in 12 days: renew it.",
            ),
        ),
    )
    return domain(
        "example.com",
        dns=(mx_outcome("example.com", "10 mx1.example.com.", "20 mx2.example.com."),),
        mx_hosts=(
            MxHostReport(
                host="mx1.example.com",
                preference=10,
                implicit=False,
                dns=address_outcomes("mx1.example.com", ("192.0.2.10",), ("2001:db8::10",)),
                addresses=(modern_address("192.0.2.10"), modern_address("2001:db8::10")),
            ),
            MxHostReport(
                host="mx2.example.com",
                preference=20,
                implicit=False,
                dns=address_outcomes("mx2.example.com", ("192.0.2.20",), ()),
                addresses=(mx2,),
            ),
        ),
    )


def legacy_tls10_domain() -> DomainReport:
    """example.net: one server that speaks only TLS 1.0, with an expired self-signed SHA-1 cert."""
    host = "mail.example.net"
    versions = {
        TlsVersion.TLS1_0: VersionSupport.SUPPORTED,
        TlsVersion.TLS1_1: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_2: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_3: VersionSupport.UNSUPPORTED,
    }
    verdict = ExoVerdict(
        inbound=ExoInbound.PLAINTEXT_FALLBACK,
        outbound=ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL,
        summary=(
            "Exchange Online cannot use TLS with this server: mail falls back to plaintext, "
            "or fails where TLS is enforced."
        ),
    )
    legacy = address(
        "198.51.100.25",
        host,
        tls_versions=versions,
        exo_ciphers=VersionSupport.UNSUPPORTED,
        negotiated=TLS10_HANDSHAKE,
        cert=certificate(
            host,
            days_left=-40,
            trusted=False,
            trust_error="self-signed certificate",
            self_signed=True,
            signature_hash="sha1",
            key_type="RSA",
            key_bits=1024,
        ),
        probes=(
            negotiated_probe(ProbeKind.DEFAULT, TLS10_HANDSHAKE, host),
            skipped_probe(ProbeKind.TLS1_0, "the default probe negotiated TLS 1.0"),
            refused_probe(ProbeKind.TLS1_1, host),
            refused_probe(ProbeKind.TLS1_2, host),
            refused_probe(ProbeKind.TLS1_3, host),
            skipped_probe(ProbeKind.EXO_CIPHERS, "TLS 1.2 is refused"),
        ),
        findings=(
            finding(
                FindingCode.TLS12_UNSUPPORTED,
                "TLS 1.2 is refused: Exchange Online cannot send to this server over TLS.",
            ),
            finding(FindingCode.TLS10_ENABLED, "TLS 1.0 is the only version the server speaks."),
            finding(FindingCode.CERT_EXPIRED, "The certificate expired 40 days ago."),
            finding(FindingCode.CERT_SELF_SIGNED, "The certificate is self-signed."),
            finding(FindingCode.CERT_SHA1_SIGNATURE, "The certificate is signed with SHA-1."),
        ),
        verdict=verdict,
    )
    return domain(
        "example.net",
        dns=(mx_outcome("example.net", "10 mail.example.net."),),
        mx_hosts=(
            MxHostReport(
                host=host,
                preference=10,
                implicit=False,
                dns=address_outcomes(host, ("198.51.100.25",), ()),
                addresses=(legacy,),
            ),
        ),
        verdict=verdict,
    )


def no_starttls_domain() -> DomainReport:
    """example.org: the server answers EHLO without STARTTLS."""
    host = "smtp.example.org"
    verdict = ExoVerdict(
        inbound=ExoInbound.PLAINTEXT_FALLBACK,
        outbound=ExoOutbound.UNKNOWN,
        summary="No STARTTLS: Exchange Online delivers in plaintext, or not at all if forced.",
    )
    no_tls = address(
        "203.0.113.5",
        host,
        starttls=False,
        tls_versions=NOTHING_TESTED,
        exo_ciphers=VersionSupport.NOT_TESTED,
        probes=(
            ProbeResult(
                kind=ProbeKind.DEFAULT,
                outcome=ProbeOutcome.NO_STARTTLS,
                stage=SmtpStage.EHLO,
                reason="STARTTLS is not among the EHLO keywords",
                exchanges=ehlo_exchanges(host, starttls=False),
                elapsed_seconds=0.051,
            ),
            *(
                skipped_probe(kind, "the server does not offer STARTTLS")
                for kind in list(ProbeKind)[1:]
            ),
        ),
        findings=(
            finding(
                FindingCode.STARTTLS_MISSING,
                "The server does not offer STARTTLS: mail to it travels in plaintext.",
            ),
        ),
        verdict=verdict,
    )
    return domain(
        "example.org",
        dns=(mx_outcome("example.org", "5 smtp.example.org."),),
        mx_hosts=(
            MxHostReport(
                host=host,
                preference=5,
                implicit=False,
                dns=address_outcomes(host, ("203.0.113.5",), ()),
                addresses=(no_tls,),
            ),
        ),
        verdict=verdict,
    )


def rate_limited_domain() -> DomainReport:
    """busy.example: the only server greets with 421: not testable, which is no TLS verdict."""
    host = "mx.busy.example"
    greeting = reply(421, RATE_LIMIT_TEXT)
    exchanges = (SmtpExchange(SmtpStage.GREETING, None, greeting),)
    busy = address(
        "192.0.2.99",
        host,
        status=AddressStatus.RATE_LIMITED,
        status_detail="the server refused the connection with 421 at the greeting",
        starttls=None,
        tls_versions=NOTHING_TESTED,
        exo_ciphers=VersionSupport.NOT_TESTED,
        banner=greeting,
        replies=exchanges,
        probes=(
            ProbeResult(
                kind=ProbeKind.DEFAULT,
                outcome=ProbeOutcome.SMTP_FAILURE,
                stage=SmtpStage.GREETING,
                reason="rate limited",
                failure_reply=greeting,
                reply_class=ReplyClass.RATE_LIMITED,
                exchanges=exchanges,
                elapsed_seconds=0.012,
            ),
            *(skipped_probe(kind, "the address is rate limiting") for kind in list(ProbeKind)[1:]),
        ),
        findings=(
            finding(
                FindingCode.RATE_LIMITED,
                "The server is rate limiting connections: try again later.",
            ),
        ),
        verdict=EXO_NOT_TESTED,
    )
    stale = "mx-old.busy.example"
    return domain(
        "busy.example",
        dns=(mx_outcome("busy.example", "10 mx.busy.example.", f"20 {stale}."),),
        mx_hosts=(
            MxHostReport(
                host=host,
                preference=10,
                implicit=False,
                dns=address_outcomes(host, ("192.0.2.99",), ()),
                addresses=(busy,),
            ),
            # A stale MX record: the host it names has no address at all.
            MxHostReport(
                host=stale,
                preference=20,
                implicit=False,
                dns=(
                    DnsOutcome(name=stale, rdtype="A", status=DnsStatus.NXDOMAIN),
                    DnsOutcome(name=stale, rdtype="AAAA", status=DnsStatus.NXDOMAIN),
                ),
                addresses=(),
                findings=(
                    finding(
                        FindingCode.MX_UNRESOLVABLE,
                        f"The MX host {stale} has no IPv4 or IPv6 address.",
                    ),
                ),
            ),
        ),
        verdict=EXO_NOT_TESTED,
    )


def nxdomain_domain() -> DomainReport:
    """nonexistent.example: the domain does not exist."""
    return domain(
        "nonexistent.example",
        dns=(
            DnsOutcome(
                name="nonexistent.example",
                rdtype="MX",
                status=DnsStatus.NXDOMAIN,
                detail="The DNS query name does not exist: nonexistent.example.",
            ),
        ),
        findings=(
            finding(FindingCode.DOMAIN_NXDOMAIN, "The domain nonexistent.example does not exist."),
        ),
        verdict=ExoVerdict(
            inbound=ExoInbound.NOT_TESTED,
            outbound=ExoOutbound.UNKNOWN,
            summary="Not tested: the domain does not exist.",
        ),
    )


def null_mx_domain() -> DomainReport:
    """nullmx.example: a null MX (RFC 7505): the domain accepts no mail."""
    return domain(
        "nullmx.example",
        dns=(mx_outcome("nullmx.example", "0 ."),),
        findings=(
            finding(
                FindingCode.NULL_MX,
                "The domain publishes a null MX (RFC 7505): it accepts no mail.",
            ),
        ),
        verdict=ExoVerdict(
            inbound=ExoInbound.NOT_TESTED,
            outbound=ExoOutbound.UNKNOWN,
            summary="Nothing to test: the domain accepts no mail.",
        ),
    )


def servfail_domain() -> DomainReport:
    """broken.example: the resolver answers SERVFAIL (for example a DNSSEC failure)."""
    return domain(
        "broken.example",
        dns=(
            DnsOutcome(
                name="broken.example",
                rdtype="MX",
                status=DnsStatus.SERVFAIL,
                detail="All nameservers failed to answer the query broken.example. IN MX",
            ),
        ),
        findings=(finding(FindingCode.DNS_SERVFAIL, "The MX lookup failed with SERVFAIL."),),
        verdict=EXO_NOT_TESTED,
    )


# A server controls its banner, replies and certificate: these must print as text, never act.
HOSTILE_MARKUP = "[bold red]PWNED[/bold red] [link=https://evil.example]x[/link] :skull:"
HOSTILE_ANSI = "\x1b[2J\x1b[31mscreen cleared\x1b]0;title\x07\u009b31m\u202egnp.exe"
HOSTILE_LONG = "A" * 10_000 + "TAIL-MARKER"


def hostile_domain() -> DomainReport:
    """hostile.example: a server whose replies and certificate carry markup, escapes, 10 kB."""
    host = "mx.hostile.example"
    greeting = reply(554, HOSTILE_MARKUP, HOSTILE_ANSI, HOSTILE_LONG)
    exchanges = (SmtpExchange(SmtpStage.GREETING, None, greeting),)
    hostile = address(
        "192.0.2.66",
        host,
        status=AddressStatus.REJECTED,
        status_detail=f"rejected at the greeting: {HOSTILE_MARKUP} {HOSTILE_ANSI}",
        starttls=None,
        tls_versions=NOTHING_TESTED,
        exo_ciphers=VersionSupport.NOT_TESTED,
        cert=certificate(
            host, days_left=30, subject=f"CN={HOSTILE_MARKUP}{HOSTILE_ANSI}", dns_names=()
        ),
        banner=greeting,
        replies=exchanges,
        probes=(
            ProbeResult(
                kind=ProbeKind.DEFAULT,
                outcome=ProbeOutcome.SMTP_FAILURE,
                stage=SmtpStage.GREETING,
                reason="rejected",
                failure_reply=greeting,
                reply_class=ReplyClass.REJECTED,
                exchanges=exchanges,
                elapsed_seconds=0.02,
            ),
        ),
        findings=(finding(FindingCode.SMTP_REJECTED, f"Rejected: {HOSTILE_MARKUP}"),),
        verdict=EXO_NOT_TESTED,
    )
    return domain(
        "hostile.example",
        dns=(mx_outcome("hostile.example", "10 mx.hostile.example."),),
        mx_hosts=(
            MxHostReport(
                host=host,
                preference=10,
                implicit=False,
                dns=address_outcomes(host, ("192.0.2.66",), ()),
                addresses=(hostile,),
            ),
        ),
        verdict=EXO_NOT_TESTED,
    )


def address_target() -> DomainReport:
    """[2001:db8::25]:2525: a bare IPv6 address on a submission-style port, no DNS at all."""
    ip = "2001:db8::25"
    cert = dataclasses.replace(
        certificate("relay.example.com", days_left=200), name_checked=None, name_matches=None
    )
    relay = address(
        ip,
        ip,
        port=2525,
        mx_host=None,
        tls_versions={**TLS12_AND_13, TlsVersion.TLS1_3: VersionSupport.UNSUPPORTED},
        negotiated=TLS12_HANDSHAKE,
        cert=cert,
        probes=(negotiated_probe(ProbeKind.DEFAULT, TLS12_HANDSHAKE, "relay.example.com"),),
        findings=(finding(FindingCode.TLS13_UNSUPPORTED, "TLS 1.3 is not offered."),),
    )
    return DomainReport(
        target=Target(kind=TargetKind.ADDRESS, name=ip, port=2525, original=f"[{ip}]:2525"),
        dns=(),
        mx_hosts=(
            MxHostReport(host=ip, preference=None, implicit=False, dns=(), addresses=(relay,)),
        ),
        findings=(),
        verdict=EXO_OK,
        tested_addresses=1,
        started_at=CHECKED_AT,
        elapsed_seconds=0.2,
    )

"""Domain reports of one scan run, for the report and diff tests: every posture a run meets.

Built on the check renderer's samples (``tests.unit.render.samples``), with what a run adds:
remedies on findings, a server that speaks only TLS 1.0 (an old Exchange), a domain whose two MX
hosts disagree, one whose only server times out, and one whose server puts HTML and script in
everything it controls. Addresses come from the documentation ranges (RFC 5737, RFC 3849) and
names from RFC 2606, so nothing here points at a real system.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from mailtls.models import (
    AddressReport,
    AddressStatus,
    Confidence,
    DomainReport,
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
    Remedy,
    RunInfo,
    SmtpExchange,
    SmtpStage,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import finding
from tests.unit.render import samples as base

RUN_STARTED = datetime(2025, 3, 14, 2, 0, 0, tzinfo=UTC)

POSTFIX_TLS12 = Remedy(
    summary="Run a Postfix built against OpenSSL 1.0.1 or later and allow TLS 1.2",
    steps=(
        "Install a supported Postfix release from your distribution",
        "In main.cf: `smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1`",
        "`postfix reload`",
    ),
    product="postfix",
    sources=("https://www.postfix.org/postconf.5.html#smtpd_tls_protocols",),
)
# Steps in the shape the knowledge base writes them: prose first, then a literal .reg block.
SCHANNEL_TLS12_SERVER = (
    "Windows Registry Editor Version 5.00",
    "",
    r"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
    r"\Protocols\TLS 1.2\Server]",
    '"Enabled"=dword:00000001',
    '"DisabledByDefault"=dword:00000000',
)
EXCHANGE_TLS12 = Remedy(
    summary="Enable TLS 1.2 for Exchange Server in SCHANNEL and .NET",
    steps=(
        "Install the latest update for your Exchange and Windows version",
        "Enable TLS 1.2 for SChannel (server side), then reboot:\n"
        + "\n".join(SCHANNEL_TLS12_SERVER),
        "Let .NET Framework 4 follow SChannel:\n"
        + "\n".join(
            (
                "Windows Registry Editor Version 5.00",
                "",
                r"[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\.NETFramework\v4.0.30319]",
                '"SystemDefaultTlsVersions"=dword:00000001',
                '"SchUseStrongCrypto"=dword:00000001',
            )
        ),
        "Restart the server",
    ),
    product="exchange-2010-or-older",
    sources=(
        "https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/"
        "security-best-practices/exchange-tls-configuration",
    ),
)
EXCHANGE_LEGACY_OFF = Remedy(
    summary="Turn TLS 1.0 and 1.1 off in SChannel, once no peer needs them",
    steps=(
        "Find the peers that still use TLS 1.0/1.1: `mailtls logs --impact tls12`",
        "Turn TLS 1.0 off for SChannel (server side), then reboot:\n"
        + "\n".join(
            (
                "Windows Registry Editor Version 5.00",
                "",
                r"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders"
                r"\SCHANNEL\Protocols\TLS 1.0\Server]",
                '"Enabled"=dword:00000000',
            )
        ),
    ),
    product="exchange-2010-or-older",
    sources=(
        "https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/"
        "security-best-practices/exchange-tls-configuration",
    ),
)
CERTIFICATE_RENEWAL = Remedy(
    summary="Renew the certificate and install it with its intermediate chain",
    steps=("Request a new certificate for the MX host name", "Install it with the full chain"),
    product=None,
    sources=("https://www.rfc-editor.org/rfc/rfc7672",),
)
STARTTLS_POSTFIX = Remedy(
    summary="Offer STARTTLS in Postfix's SMTP server",
    steps=(
        "In main.cf: smtpd_tls_security_level = may",
        "In main.cf: smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/chain.pem",
        "postfix reload",
    ),
    product="postfix",
    sources=("https://www.postfix.org/TLS_README.html",),
)

EXCHANGE_2010 = ProductGuess(
    product="exchange-2010-or-older",
    name="Microsoft Exchange Server 2010 or older",
    version=None,
    confidence=Confidence.MEDIUM,
    evidence=("banner matches 'Microsoft ESMTP MAIL Service'",),
)

# What a hostile server controls, aimed at an HTML page: markup, script, attribute breakouts.
SCRIPT_BANNER = "<script>alert('banner')</script> ESMTP"
SCRIPT_SUBJECT = 'CN=<script>alert("cert")</script>,O=<img src=x onerror=alert(1)>'
ATTRIBUTE_BREAKOUT = '"><svg onload=alert(2)>'
MARKDOWN_BREAKOUT = "| injected | cell | [link](javascript:alert(3)) **bold** <b>x</b>"
FORMULA = '=HYPERLINK("https://evil.example","click")'


def run_info(
    run_id: int = 7,
    *,
    label: str = "customers.txt",
    started_at: datetime = RUN_STARTED,
    targets: int = 12,
    completed: int = 12,
    finished: bool = True,
) -> RunInfo:
    return RunInfo(
        run_id=run_id,
        label=label,
        started_at=started_at,
        finished_at=started_at + timedelta(minutes=3, seconds=12) if finished else None,
        tool_version="0.1.0",
        options={"timeout": "30", "concurrency": "50"},
        targets=targets,
        completed=completed,
    )


def with_remedies(domain: DomainReport, remedies: Mapping[FindingCode, Remedy]) -> DomainReport:
    """The domain with ``remedies`` attached to its findings of those codes, at every level."""

    def fixed(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        return tuple(
            dataclasses.replace(f, remedy=remedies[f.code]) if f.code in remedies else f
            for f in findings
        )

    def fixed_address(address: AddressReport) -> AddressReport:
        return dataclasses.replace(address, findings=fixed(address.findings))

    hosts = tuple(
        dataclasses.replace(
            host,
            findings=fixed(host.findings),
            addresses=tuple(fixed_address(a) for a in host.addresses),
        )
        for host in domain.mx_hosts
    )
    return dataclasses.replace(domain, findings=fixed(domain.findings), mx_hosts=hosts)


def renamed(domain: DomainReport, name: str) -> DomainReport:
    target = dataclasses.replace(domain.target, name=name, original=name)
    return dataclasses.replace(domain, target=target)


# --- the postures ------------------------------------------------------------------------------


def modern() -> DomainReport:
    """example.com: TLS 1.3 on mx1 (IPv4 + IPv6), TLS 1.2 on mx2 whose certificate ends soon."""
    return with_remedies(base.modern_domain(), {FindingCode.CERT_EXPIRES_SOON: CERTIFICATE_RENEWAL})


def tls13_everywhere() -> DomainReport:
    """northwind.example: one MX host, TLS 1.3 on both its addresses, no finding at all."""
    modern_host = base.modern_domain().mx_hosts[0]
    host = "mx.northwind.example"
    addresses = tuple(
        dataclasses.replace(a, mx_host=host, findings=()) for a in modern_host.addresses
    )
    return base.domain(
        "northwind.example",
        dns=(base.mx_outcome("northwind.example", f"10 {host}."),),
        mx_hosts=(dataclasses.replace(modern_host, host=host, addresses=addresses),),
    )


def legacy_postfix() -> DomainReport:
    """example.net: an old Postfix that speaks only TLS 1.0, expired self-signed SHA-1 cert."""
    return with_remedies(
        base.legacy_tls10_domain(),
        {
            FindingCode.TLS12_UNSUPPORTED: POSTFIX_TLS12,
            FindingCode.CERT_EXPIRED: CERTIFICATE_RENEWAL,
        },
    )


def no_starttls() -> DomainReport:
    """example.org: Postfix without STARTTLS."""
    return with_remedies(
        base.no_starttls_domain(), {FindingCode.STARTTLS_MISSING: STARTTLS_POSTFIX}
    )


def legacy_exchange() -> DomainReport:
    """contoso.example: an Exchange 2010 that accepts TLS 1.0 and 1.1 only."""
    host = "mail.contoso.example"
    versions = {
        TlsVersion.TLS1_0: VersionSupport.SUPPORTED,
        TlsVersion.TLS1_1: VersionSupport.SUPPORTED,
        TlsVersion.TLS1_2: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_3: VersionSupport.UNSUPPORTED,
    }
    verdict = ExoVerdict(
        inbound=ExoInbound.PLAINTEXT_FALLBACK,
        outbound=ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL,
        summary=(
            "Exchange Online cannot agree on TLS 1.2 with this address: it delivers in "
            "plaintext, and fails where a connector requires TLS"
        ),
    )
    tls11 = dataclasses.replace(base.TLS10_HANDSHAKE, version=TlsVersion.TLS1_1)
    banner = base.reply(
        220, f"{host} Microsoft ESMTP MAIL Service ready at Fri, 14 Mar 2025 02:00:03 +0100"
    )
    exchange = dataclasses.replace(
        base.address(
            "192.0.2.40",
            host,
            tls_versions=versions,
            exo_ciphers=VersionSupport.UNSUPPORTED,
            negotiated=tls11,
            cert=base.certificate(host, days_left=210, key_type="RSA", key_bits=2048),
            banner=banner,
            probes=(
                base.negotiated_probe(ProbeKind.DEFAULT, tls11, host),
                base.negotiated_probe(ProbeKind.TLS1_0, base.TLS10_HANDSHAKE, host),
                base.skipped_probe(ProbeKind.TLS1_1, "the default probe negotiated TLS 1.1"),
                base.refused_probe(ProbeKind.TLS1_2, host),
                base.refused_probe(ProbeKind.TLS1_3, host),
                base.skipped_probe(ProbeKind.EXO_CIPHERS, "TLS 1.2 is refused"),
            ),
            findings=(
                finding(
                    FindingCode.TLS12_UNSUPPORTED,
                    "no TLS 1.2: Exchange Online refuses TLS 1.0/1.1, so its mail to this "
                    "address goes in plaintext, or fails on connectors that require TLS",
                ),
                finding(FindingCode.TLS13_UNSUPPORTED, "TLS 1.3 is not offered"),
                finding(FindingCode.TLS10_ENABLED, "TLS 1.0 is accepted"),
                finding(FindingCode.TLS11_ENABLED, "TLS 1.1 is accepted"),
            ),
            verdict=verdict,
        ),
        product=EXCHANGE_2010,
    )
    return with_remedies(
        base.domain(
            "contoso.example",
            dns=(base.mx_outcome("contoso.example", f"10 {host}."),),
            mx_hosts=(
                MxHostReport(
                    host=host,
                    preference=10,
                    implicit=False,
                    dns=base.address_outcomes(host, ("192.0.2.40",), ()),
                    addresses=(exchange,),
                ),
            ),
            verdict=verdict,
        ),
        {
            FindingCode.TLS12_UNSUPPORTED: EXCHANGE_TLS12,
            # One fix turns both versions off: the report gives its steps once.
            FindingCode.TLS10_ENABLED: EXCHANGE_LEGACY_OFF,
            FindingCode.TLS11_ENABLED: EXCHANGE_LEGACY_OFF,
        },
    )


def mixed() -> DomainReport:
    """fabrikam.example: MX 10 speaks TLS 1.3, the backup MX 20 only TLS 1.0."""
    modern_host = base.modern_domain().mx_hosts[0]
    legacy_host = base.legacy_tls10_domain().mx_hosts[0]
    primary = dataclasses.replace(
        modern_host,
        host="mx1.fabrikam.example",
        addresses=tuple(
            dataclasses.replace(a, mx_host="mx1.fabrikam.example") for a in modern_host.addresses
        )[:1],
    )
    backup = dataclasses.replace(
        legacy_host,
        host="backup.fabrikam.example",
        preference=20,
        addresses=tuple(
            dataclasses.replace(a, mx_host="backup.fabrikam.example") for a in legacy_host.addresses
        ),
    )
    verdict = ExoVerdict(
        inbound=ExoInbound.PLAINTEXT_FALLBACK,
        outbound=ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL,
        summary=(
            "mail from Exchange Online falls back to plaintext at 1 of 2 tested address(es) "
            "(198.51.100.25:25), and fails there where a connector requires TLS"
        ),
    )
    return with_remedies(
        base.domain(
            "fabrikam.example",
            dns=(
                base.mx_outcome(
                    "fabrikam.example", "10 mx1.fabrikam.example.", "20 backup.fabrikam.example."
                ),
            ),
            mx_hosts=(primary, backup),
            verdict=verdict,
        ),
        {FindingCode.TLS12_UNSUPPORTED: POSTFIX_TLS12},
    )


def timeout() -> DomainReport:
    """slow.example: the only server accepts TCP but never greets."""
    host = "mx.slow.example"
    silent = base.address(
        "203.0.113.80",
        host,
        status=AddressStatus.TIMEOUT,
        status_detail="no greeting within 30 s at greeting",
        starttls=None,
        tls_versions=base.NOTHING_TESTED,
        exo_ciphers=VersionSupport.NOT_TESTED,
        banner=None,
        replies=(),
        probes=(
            ProbeResult(
                kind=ProbeKind.DEFAULT,
                outcome=ProbeOutcome.TIMEOUT,
                stage=SmtpStage.GREETING,
                reason="no greeting within 30 s",
                elapsed_seconds=30.0,
            ),
        ),
        findings=(finding(FindingCode.TIMEOUT, "no greeting within 30 s at greeting"),),
        verdict=base.EXO_NOT_TESTED,
    )
    silent = dataclasses.replace(silent, banner=None, product=_unknown_product())
    return base.domain(
        "slow.example",
        dns=(base.mx_outcome("slow.example", f"10 {host}."),),
        mx_hosts=(
            MxHostReport(
                host=host,
                preference=10,
                implicit=False,
                dns=base.address_outcomes(host, ("203.0.113.80",), ()),
                addresses=(silent,),
            ),
        ),
        verdict=base.EXO_NOT_TESTED,
    )


def _unknown_product() -> ProductGuess:
    return ProductGuess(
        product=None, name="unknown", version=None, confidence=Confidence.NONE, evidence=()
    )


def script_injection() -> DomainReport:
    """evil.example: a TLS 1.2 server whose banner, replies and certificate carry HTML."""
    host = "mx.evil.example"
    greeting = base.reply(220, f"{host} {SCRIPT_BANNER}")
    exchanges = (
        SmtpExchange(SmtpStage.GREETING, None, greeting),
        SmtpExchange(SmtpStage.EHLO, "EHLO mailtls.test", base.reply(250, host, "STARTTLS")),
    )
    cert = dataclasses.replace(
        base.certificate(host, days_left=-3, subject=SCRIPT_SUBJECT, dns_names=()),
        name_matches=False,
    )
    evil = dataclasses.replace(
        base.address(
            "192.0.2.66",
            host,
            tls_versions={**base.TLS12_AND_13, TlsVersion.TLS1_3: VersionSupport.UNSUPPORTED},
            negotiated=dataclasses.replace(base.TLS12_HANDSHAKE, cipher=ATTRIBUTE_BREAKOUT),
            cert=cert,
            banner=greeting,
            replies=exchanges,
            probes=(
                base.negotiated_probe(ProbeKind.DEFAULT, base.TLS12_HANDSHAKE, host),
                base.negotiated_probe(ProbeKind.EXO_CIPHERS, base.TLS12_HANDSHAKE, host),
            ),
            findings=(
                finding(FindingCode.CERT_EXPIRED, f"the certificate {SCRIPT_SUBJECT} expired"),
                finding(FindingCode.CERT_NAME_MISMATCH, f"{MARKDOWN_BREAKOUT} {FORMULA}"),
            ),
        ),
        product=ProductGuess(
            product="postfix",
            name="Postfix",
            version=ATTRIBUTE_BREAKOUT,
            confidence=Confidence.HIGH,
            evidence=(f"banner matches {SCRIPT_BANNER}",),
        ),
        status_detail=SCRIPT_BANNER,
    )
    hostile_remedy = Remedy(
        summary="Renew the certificate <b>now</b>",
        steps=(
            "Install it: <script>alert('step')</script>",
            "Run `<script>alert('code')</script>` and `postfix reload`",
            "A block that tries to end its fence:\n```\n<img src=x onerror=alert(4)>\n| a | b |",
        ),
        product=None,
        sources=("javascript:alert('source')", "https://www.rfc-editor.org/rfc/rfc7672"),
    )
    return with_remedies(
        base.domain(
            "evil.example",
            dns=(base.mx_outcome("evil.example", f"10 {host}."),),
            mx_hosts=(
                MxHostReport(
                    host=host,
                    preference=10,
                    implicit=False,
                    dns=base.address_outcomes(host, ("192.0.2.66",), ()),
                    addresses=(evil,),
                ),
            ),
        ),
        {FindingCode.CERT_EXPIRED: hostile_remedy},
    )


def nxdomain() -> DomainReport:
    return base.nxdomain_domain()


def null_mx() -> DomainReport:
    return base.null_mx_domain()


def servfail() -> DomainReport:
    return base.servfail_domain()


def rate_limited() -> DomainReport:
    return base.rate_limited_domain()


def address_target() -> DomainReport:
    return base.address_target()


def run_domains() -> tuple[DomainReport, ...]:
    """One run's domains, in the order a store would hand them over (by name)."""
    domains = (
        modern(),
        tls13_everywhere(),
        legacy_postfix(),
        no_starttls(),
        legacy_exchange(),
        mixed(),
        timeout(),
        nxdomain(),
        null_mx(),
        servfail(),
        rate_limited(),
        address_target(),
    )
    return tuple(sorted(domains, key=lambda d: d.target.name))


def many_domains(count: int) -> list[DomainReport]:
    """``count`` distinct domains cycling through the postures (names d00000.example, ...)."""
    postures = (modern(), legacy_exchange(), no_starttls(), timeout(), nxdomain())
    return [
        renamed(postures[index % len(postures)], f"d{index:05d}.example") for index in range(count)
    ]

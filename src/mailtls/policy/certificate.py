"""Findings about the certificate an address presents (pure).

Exchange Online's opportunistic TLS does not validate certificates, so none of these stops its
mail by itself; they matter where validation happens: MTA-STS in enforce mode, DANE, connectors
with certificate validation, and partners' forced-TLS settings. Hence warnings, not critical.
"""

from __future__ import annotations

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy
from mailtls.models import CertificateReport, Finding, FindingCode
from mailtls.policy.codes import finding
from mailtls.tls.certificates import broken_signatures, issued_certificates, weak_keys

EXPIRY_WARNING_DAYS = 14


def certificate_findings(
    report: CertificateReport, exchange_online: ExchangeOnlinePolicy
) -> list[Finding]:
    found: list[Finding] = []
    leaf = report.leaf
    if report.checked_at > leaf.not_after:
        found.append(
            finding(
                FindingCode.CERT_EXPIRED,
                f"expired {-report.days_left} days ago ({leaf.not_after:%Y-%m-%d})",
            )
        )
    elif report.checked_at < leaf.not_before:
        found.append(
            finding(FindingCode.CERT_NOT_YET_VALID, f"valid only from {leaf.not_before:%Y-%m-%d}")
        )
    elif report.days_left < EXPIRY_WARNING_DAYS:
        found.append(
            finding(
                FindingCode.CERT_EXPIRES_SOON,
                f"expires in {report.days_left} days ({leaf.not_after:%Y-%m-%d})",
            )
        )
    if report.name_matches is False:
        names = ", ".join(leaf.dns_names or leaf.ip_addresses) or leaf.subject
        found.append(
            finding(
                FindingCode.CERT_NAME_MISMATCH,
                f"the certificate is for {names}, not {report.name_checked}",
            )
        )
    if leaf.self_signed:
        found.append(
            finding(FindingCode.CERT_SELF_SIGNED, f"self-signed certificate for {leaf.subject}")
        )
    elif not report.trusted:
        found.append(finding(FindingCode.CERT_UNTRUSTED, report.trust_error or "not trusted"))
    for info in broken_signatures(report):
        sha1_note = (
            "; Exchange Online accepts no SHA-1 certificates"
            if not exchange_online.sha1_certificates_accepted and info.signature_hash == "sha1"
            else ""
        )
        found.append(
            finding(
                FindingCode.CERT_SHA1_SIGNATURE,
                f"{info.subject} is signed with {info.signature_hash}{sha1_note}",
            )
        )
    if any(info.signature_hash == "sha512" for info in issued_certificates(report)):
        found.append(
            finding(
                FindingCode.CERT_SHA512_SIGNATURE,
                "a certificate in the chain is signed with SHA-512: Windows Server 2008 to "
                f"2012 R2 peers need {exchange_online.windows_sha512_kb} to use it",
            )
        )
    for info in weak_keys(report):
        found.append(
            finding(
                FindingCode.CERT_WEAK_KEY,
                f"{info.subject} has a {info.key_bits}-bit {info.key_type} key",
            )
        )
    return found

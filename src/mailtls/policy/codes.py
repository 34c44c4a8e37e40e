"""Severity and a one-line title for every finding code: the table the README documents."""

from __future__ import annotations

from dataclasses import dataclass

from mailtls.models import Finding, FindingCode, Severity


@dataclass(frozen=True)
class CodeInfo:
    severity: Severity
    title: str


C, W, I = Severity.CRITICAL, Severity.WARNING, Severity.INFO  # noqa: E741 (a table reads better)

CODES: dict[FindingCode, CodeInfo] = {
    FindingCode.STARTTLS_MISSING: CodeInfo(C, "no STARTTLS: all mail to this address is plaintext"),
    FindingCode.STARTTLS_REFUSED: CodeInfo(C, "STARTTLS offered but refused when asked"),
    FindingCode.TLS_HANDSHAKE_FAILED: CodeInfo(C, "STARTTLS offered but no TLS handshake succeeds"),
    FindingCode.TLS12_UNSUPPORTED: CodeInfo(C, "TLS 1.2 not supported (Exchange Online needs it)"),
    FindingCode.TLS13_UNSUPPORTED: CodeInfo(I, "TLS 1.3 not supported"),
    FindingCode.TLS10_ENABLED: CodeInfo(W, "TLS 1.0 still enabled"),
    FindingCode.TLS11_ENABLED: CodeInfo(W, "TLS 1.1 still enabled"),
    FindingCode.EXO_CIPHERS_UNSUPPORTED: CodeInfo(
        C, "TLS 1.2 works, but with none of Exchange Online's cipher suites"
    ),
    FindingCode.PROBES_INCOMPLETE: CodeInfo(W, "some probes could not run"),
    FindingCode.CERT_EXPIRED: CodeInfo(W, "certificate expired"),
    FindingCode.CERT_EXPIRES_SOON: CodeInfo(W, "certificate expires within 14 days"),
    FindingCode.CERT_NOT_YET_VALID: CodeInfo(W, "certificate not yet valid"),
    FindingCode.CERT_NAME_MISMATCH: CodeInfo(W, "certificate does not name the MX host"),
    FindingCode.CERT_UNTRUSTED: CodeInfo(W, "certificate chain not trusted"),
    FindingCode.CERT_SELF_SIGNED: CodeInfo(W, "self-signed certificate"),
    FindingCode.CERT_SHA1_SIGNATURE: CodeInfo(W, "certificate signed with SHA-1"),
    FindingCode.CERT_SHA512_SIGNATURE: CodeInfo(
        I, "certificate signed with SHA-512 (older Windows peers need an update)"
    ),
    FindingCode.CERT_WEAK_KEY: CodeInfo(W, "certificate key too small"),
    FindingCode.CERT_UNPARSEABLE: CodeInfo(W, "certificate could not be parsed"),
    FindingCode.NULL_MX: CodeInfo(I, "null MX: the domain accepts no mail"),
    FindingCode.NULL_MX_MIXED: CodeInfo(W, "null MX listed beside real MX hosts"),
    FindingCode.IMPLICIT_MX: CodeInfo(I, "no MX record: mail goes to the domain's own address"),
    FindingCode.NO_MAIL_HOST: CodeInfo(C, "no MX record and no address: the domain gets no mail"),
    FindingCode.MX_UNRESOLVABLE: CodeInfo(W, "MX host name does not resolve"),
    FindingCode.NO_ADDRESS_IN_FAMILY: CodeInfo(I, "no address of the requested IP family"),
    FindingCode.DOMAIN_NXDOMAIN: CodeInfo(C, "the domain does not exist"),
    FindingCode.DNS_SERVFAIL: CodeInfo(C, "DNS server failure (SERVFAIL)"),
    FindingCode.DNS_TIMEOUT: CodeInfo(W, "DNS query timed out"),
    FindingCode.DNS_ERROR: CodeInfo(W, "DNS query failed"),
    FindingCode.CONNECT_FAILED: CodeInfo(W, "TCP connection failed"),
    FindingCode.TIMEOUT: CodeInfo(W, "the server did not answer in time"),
    FindingCode.RATE_LIMITED: CodeInfo(W, "the server is busy or limits connections (421)"),
    FindingCode.SMTP_TEMPORARY_FAILURE: CodeInfo(W, "the server answered with a temporary error"),
    FindingCode.SMTP_REJECTED: CodeInfo(W, "the server rejected the session (5xx)"),
    FindingCode.NOT_SMTP: CodeInfo(W, "the service does not speak SMTP"),
    FindingCode.PROTOCOL_ERROR: CodeInfo(W, "the server broke the SMTP protocol"),
    FindingCode.CONNECTION_CLOSED: CodeInfo(W, "the server closed the connection mid-dialogue"),
}


def finding(code: FindingCode, message: str) -> Finding:
    """A finding with the code's fixed severity."""
    return Finding(code=code, severity=CODES[code].severity, message=message)

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
    FindingCode.DNSSEC_BOGUS: CodeInfo(
        C, "DNSSEC validation fails: validating resolvers answer SERVFAIL"
    ),
    FindingCode.RESOLVER_NOT_VALIDATING: CodeInfo(
        I, "the resolver does not validate DNSSEC: no DANE verdict can rest on it"
    ),
    FindingCode.DANE_VALID: CodeInfo(I, "DANE: a TLSA record matches the certificate presented"),
    FindingCode.DANE_MISMATCH: CodeInfo(
        C, "DANE: no TLSA record matches the certificate; DANE senders do not deliver"
    ),
    FindingCode.DANE_NOT_SECURE: CodeInfo(
        W, "TLSA records that are not DNSSEC-secure: senders ignore them"
    ),
    FindingCode.DANE_UNUSABLE_RECORDS: CodeInfo(
        W, "TLSA records SMTP cannot use (PKIX usages 0/1, unknown parameters)"
    ),
    FindingCode.DANE_MX_NOT_SECURE: CodeInfo(
        W, "TLSA records, but the MX or address records are not DNSSEC-secure: DANE cannot apply"
    ),
    FindingCode.DANE_PARTIAL: CodeInfo(I, "DANE on some MX hosts only"),
    FindingCode.MTA_STS_ENFORCED: CodeInfo(I, "MTA-STS enforced, every MX host covered"),
    FindingCode.MTA_STS_TESTING: CodeInfo(I, "MTA-STS in testing mode: failures are only reported"),
    FindingCode.MTA_STS_RECORD_INVALID: CodeInfo(W, "the _mta-sts TXT record is invalid"),
    FindingCode.MTA_STS_POLICY_UNREACHABLE: CodeInfo(
        W, "an _mta-sts TXT record, but the policy cannot be fetched"
    ),
    FindingCode.MTA_STS_POLICY_INVALID: CodeInfo(W, "the MTA-STS policy file is invalid"),
    FindingCode.MTA_STS_MX_NOT_COVERED: CodeInfo(
        C, "MTA-STS enforce: an MX host no policy pattern covers; senders do not deliver to it"
    ),
    FindingCode.MTA_STS_CERT_INVALID: CodeInfo(
        C, "MTA-STS enforce: an MX certificate not valid for its name; senders do not deliver"
    ),
    FindingCode.MTA_STS_MAX_AGE_SMALL: CodeInfo(W, "MTA-STS max_age under a day"),
    FindingCode.TLSRPT_MISSING: CodeInfo(I, "no TLS-RPT record: nobody hears of TLS failures"),
    FindingCode.TLSRPT_INVALID: CodeInfo(W, "the TLS-RPT record is invalid"),
}


def finding(code: FindingCode, message: str) -> Finding:
    """A finding with the code's fixed severity."""
    return Finding(code=code, severity=CODES[code].severity, message=message)

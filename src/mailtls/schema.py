"""The JSON Schema (draft 2020-12) of the ``mailtls check`` document, generated from the models.

The generator walks the type hints of ``CheckReport`` and everything it holds, and applies the
conversion rules of ``mailtls.render.jsonout`` (flattened fields, enum values, UTC timestamps,
base64 bytes), so a field added to a model shows up here without a second source of truth. Only
the prose lives here: descriptions of classes without a docstring, of every field and of enum
values. ``docs/schema/check-v2.json`` is this schema, committed; regenerate it with
``mailtls schema > docs/schema/check-v2.json``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from mailtls.logs.report import (
    ImpactEntry,
    LogsReport,
    PeerSummary,
    SessionKind,
    SourceSummary,
    Tls12Impact,
)
from mailtls.models import (
    LOGS_SCHEMA_VERSION,
    SCHEMA_VERSION,
    AddressReport,
    AddressStatus,
    CertificateInfo,
    CertificateReport,
    CheckReport,
    Confidence,
    DaneAddressResult,
    DaneReport,
    DaneState,
    Direction,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    DomainReport,
    Endpoint,
    ExoInbound,
    ExoOutbound,
    ExoVerdict,
    Finding,
    FindingCode,
    LogFormat,
    MtaStsFetch,
    MtaStsMode,
    MtaStsMxCheck,
    MtaStsPolicy,
    MtaStsReport,
    MtaStsState,
    MxHostReport,
    PeerRole,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    ProductGuess,
    Remedy,
    ReplyClass,
    Severity,
    SmtpExchange,
    SmtpReply,
    SmtpStage,
    Target,
    TargetKind,
    TlsaRecord,
    TlsHandshake,
    TlsRptReport,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import CODES
from mailtls.render.jsonout import flattened_fields

JsonSchema = dict[str, Any]

# Bumped on any change a consumer could trip over (a field renamed, removed or retyped).
SCHEMA_ID = f"urn:mailtls:schema:check:v{SCHEMA_VERSION}"
LOGS_SCHEMA_ID = f"urn:mailtls:schema:logs:v{LOGS_SCHEMA_VERSION}"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_UTC_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"

_DOCUMENT_DESCRIPTION = """\
The result of `mailtls check`: for each target domain, its DNS answers, its MX hosts, and for \
every IPv4/IPv6 address of every MX host what the SMTP server offered over STARTTLS, which TLS \
versions it accepts, its certificate, the findings (with stable codes) and whether Exchange \
Online, which refuses TLS 1.0/1.1, can exchange mail with it over TLS 1.2.

Conventions: every field is always present (a value that could not be determined is `null`); \
timestamps are ISO 8601 in UTC with a `Z` suffix; enum fields carry the values listed in their \
definitions; each address object carries its endpoint flattened as `ip` and `port`; \
`probes[].chain_der` holds each certificate a server presented on that connection as base64 \
DER (leaf first), kept as evidence next to the judged `certificate`."""

_LOGS_DOCUMENT_DESCRIPTION = """\
The result of `mailtls logs`: every input read (format, line counts, problems), one row per \
peer and direction with its SMTP sessions counted by TLS version or plaintext, the totals, what \
the logs cannot show, and (with `--impact tls12`) who breaks if TLS 1.2 becomes the minimum.

Conventions as in the check document: every field is always present, timestamps are ISO 8601 \
in UTC with a `Z` suffix, session counts are keyed by every session kind (zeros included)."""

# Descriptions of classes that have no docstring, or whose docstring speaks of Python.
_CLASS_DOCS: Mapping[type, str] = {
    CheckReport: "One run of `mailtls check`: every target and the exit code the run ended with.",
    DomainReport: "One target: its DNS answers, its MX hosts and their addresses, and verdicts.",
    MxHostReport: "One mail exchanger of a target and the addresses it resolved to.",
    AddressReport: (
        "One IPv4 or IPv6 address of an MX host, probed over SMTP with STARTTLS: whether it "
        "could be tested, what it offered, and what that means."
    ),
    TlsHandshake: "A completed TLS handshake: the protocol and cipher suite the server chose.",
    CertificateInfo: "The facts of one X.509 certificate, as presented by the server.",
    Finding: "One observation worth acting on, with a stable code that monitoring can key on.",
    Remedy: "What to install or change, for the recognised product or in general.",
    DnssecStatus: "Whether a DNS answer is DNSSEC-validated, as far as the resolver tells.",
    TlsaRecord: "One TLSA record (RFC 6698), decoded.",
    DaneState: "DANE (RFC 7672) for an address, an MX host or a domain.",
    DaneAddressResult: "The TLSA records of an MX host against one address's chain.",
    DaneReport: "DANE for one MX host: its TLSA records and every address's match.",
    MtaStsMode: "The policy mode (RFC 8461 5).",
    MtaStsPolicy: "An MTA-STS policy file, parsed.",
    MtaStsFetch: "How fetching the MTA-STS policy over HTTPS went.",
    MtaStsState: "MTA-STS for a domain.",
    MtaStsMxCheck: "One MX host against the MTA-STS policy.",
    MtaStsReport: "MTA-STS (RFC 8461) for a domain: TXT record, policy, and each MX host.",
    TlsRptReport: "The TLS-RPT record (RFC 8460) of a domain.",
    ExoVerdict: "Whether mail can flow between Exchange Online and this target over TLS 1.2.",
    Target: "What the user asked to check, normalised (A-label, lower case, no trailing dot).",
    TargetKind: "How the target was given, which decides the DNS lookups made.",
    TlsVersion: "A TLS protocol version, named as OpenSSL names it.",
    VersionSupport: "Whether the server accepts a TLS version when offered only that version.",
    DnsStatus: "The outcome of one DNS question.",
    SmtpStage: "A step of the SMTP dialogue.",
    ProbeKind: "What a probe offered: one connection per kind.",
    ProbeOutcome: "How one probe connection ended.",
    Severity: "How much a finding matters; the exit code follows the worst one.",
    FindingCode: (
        "A stable finding code that monitoring and reports can key on. Codes are never "
        "renamed; new ones may be added. Each code has a fixed severity, given below."
    ),
    LogsReport: "One run of `mailtls logs`: inputs, peers, totals, warnings and the exit code.",
    ProductGuess: (
        "Which mail server software the address runs, as far as its banner, EHLO keywords, "
        "certificate subject and host name tell."
    ),
    Confidence: "How sure the product guess is.",
    SourceSummary: "One input (a file or standard input): its format and what was read from it.",
    PeerSummary: "Every session with one peer, in one direction and role, by TLS version.",
    ImpactEntry: "A peer affected by a TLS 1.2 minimum, with how many of its sessions are.",
    SessionKind: "How a session was protected: a TLS version, TLS of unknown version, or none.",
    Direction: "Which way the mail went, seen from the server whose log this is.",
    PeerRole: "Another mail server, or a user's client submitting with SMTP AUTH.",
    LogFormat: "The log format an input was read as.",
}

_FIELD_DOCS: Mapping[type, Mapping[str, str]] = {
    ProductGuess: {
        "product": "A stable product id (`postfix`, `exchange-2013-or-later`...); null: unknown.",
        "name": "The product's name for people.",
        "version": "The version where the banner shows one; null otherwise.",
        "confidence": "`high`, `medium`, `low`, or `none` when nothing matched.",
        "evidence": "What the guess rests on, in words.",
    },
    LogsReport: {
        "schema_version": "Version of this document's schema; changes when fields change.",
        "tool_version": "Version of mailtls that produced the document.",
        "generated_at": "When the document was produced.",
        "sources": "Every input, in the order read (rotated sets oldest first).",
        "peers": "One row per peer, direction and role; weakest peers first in each direction.",
        "totals": "All sessions of all inputs, by kind.",
        "warnings": "What the logs cannot show, and the setting that would make them show it.",
        "impact": "Who breaks if TLS 1.2 becomes the minimum; null without `--impact tls12`.",
        "exit_code": "0 all sessions TLS 1.2+, 1 sessions below TLS 1.2 or plaintext, 3 none.",
    },
    SourceSummary: {
        "name": "The input as named (a path, or `-` for standard input).",
        "format": "The format it was read as; null when not recognised.",
        "lines": "Lines read.",
        "used": "Lines that carried session or TLS facts.",
        "ignored": "Well-formed lines with nothing for this report (other programs, queue events).",
        "unparsed": "Lines that fit no known shape (garbage, truncated, another format).",
        "too_long": "Lines cut at the line length limit (counted as unparsed).",
        "sessions": "Sessions this input completed.",
        "first_seen": "Time of the earliest session; null without time stamps.",
        "last_seen": "Time of the latest session; null without time stamps.",
        "problems": "What went wrong reading it (unreadable, truncated archive...).",
        "unparsed_examples": "A few unparsed lines as `origin: text`.",
    },
    PeerSummary: {
        "direction": "`inbound`: the peer delivered to us; `outbound`: we delivered to it.",
        "role": "`mta` or `submission` (an SMTP AUTH client).",
        "peer_ip": "The peer's address; null when the log names only a host.",
        "peer_host": "The most recent name logged for the peer; null when unknown.",
        "sessions": "Sessions by kind, every kind present.",
        "total": "All sessions with this peer.",
        "first_seen": "Time of the first session; null without time stamps.",
        "last_seen": "Time of the last session; null without time stamps.",
        "example_cipher": "The cipher of the peer's weakest TLS session; null if none logged.",
        "weakest": "The weakest kind of session seen with this peer.",
        "domains": "Mail domains its sessions were for, where the log names them (outbound: "
        "recipient domains); at most 10, sorted.",
    },
    ImpactEntry: {
        "peer": "The peer, as in `peers`.",
        "affected_sessions": "Its sessions below TLS 1.2 (in the plaintext lists: without TLS).",
        "share_of_peer": "Affected sessions divided by all its sessions (0 to 1).",
    },
    Tls12Impact: {
        "inbound_legacy": "Peers that delivered to us with TLS 1.0/1.1.",
        "outbound_legacy": "Destinations we delivered to with TLS 1.0/1.1.",
        "inbound_plaintext": "Peers that delivered to us without TLS.",
        "outbound_plaintext": "Destinations we delivered to without TLS.",
        "legacy_sessions": "All sessions below TLS 1.2.",
        "total_sessions": "All sessions.",
    },
    CheckReport: {
        "schema_version": "Version of this document's schema; changes when fields change.",
        "tool_version": "Version of mailtls that produced the document.",
        "generated_at": "When the document was produced.",
        "domains": "One report per target, in the order the targets were given.",
        "exit_code": "The exit code of the run: it follows the worst finding severity.",
        "options": "The options the run used that shape its results, as text.",
    },
    DomainReport: {
        "target": "The target as checked.",
        "dns": "The DNS questions asked for the target itself (MX, or A/AAAA for host targets).",
        "mx_hosts": (
            "The mail exchangers, by preference; empty when DNS failed or the domain "
            "publishes a null MX."
        ),
        "findings": "Findings about the target as a whole (DNS, null MX, policy records).",
        "verdict": "The Exchange Online verdict for the target as a whole.",
        "tested_addresses": "How many addresses were probed for this target.",
        "started_at": "When checking this target started.",
        "elapsed_seconds": "Wall-clock time spent on this target.",
        "dane": "DANE for the domain, from its MX hosts'; null when not checked.",
        "mta_sts": "MTA-STS for the domain; null when not checked (--no-mta-sts, or not a domain).",
        "tls_rpt": "The TLS-RPT record of the domain; null when not checked.",
    },
    Target: {
        "kind": "How the target was given.",
        "name": "Domain, host name or IP address, normalised.",
        "port": "The SMTP port probed (25 unless asked otherwise).",
        "original": "The target exactly as the user wrote it.",
    },
    DnsOutcome: {
        "name": "The name asked about.",
        "rdtype": "The record type asked for: MX, A, AAAA, ...",
        "status": "Whether an answer came back.",
        "records": "The answer records in presentation format; empty on failure.",
        "detail": "The resolver's words on failure, else null.",
        "dnssec": "Whether the answer was DNSSEC-validated; null where not judged.",
    },
    TlsaRecord: {
        "usage": "0 PKIX-TA, 1 PKIX-EE (both unusable for SMTP), 2 DANE-TA, 3 DANE-EE.",
        "selector": "0: the whole certificate; 1: its SubjectPublicKeyInfo.",
        "matching_type": "0: exact; 1: SHA-256; 2: SHA-512.",
        "data": "The certificate association data, lower-case hex.",
    },
    DaneAddressResult: {
        "state": "DANE for this address.",
        "matched": "Positions (from 0) of the TLSA records that match this address's chain.",
        "detail": "Why, in words; null when nothing needs saying.",
    },
    DaneReport: {
        "tlsa": "The TLSA question at _25._tcp.<host>.",
        "host_dnssec": "DNSSEC of the host's address records; DANE needs them secure.",
        "records": "The TLSA records found, decoded.",
        "addresses": "Each tested address's chain against the records.",
        "state": "DANE for the host as a whole: the weakest of its addresses.",
    },
    MtaStsPolicy: {
        "version": "The policy's version field (STSv1).",
        "mode": "enforce, testing or none.",
        "mx": "The mx patterns as written.",
        "max_age": "How long senders may cache the policy, in seconds.",
    },
    MtaStsMxCheck: {
        "host": "An MX host of the domain.",
        "covered": "Whether a policy mx pattern matches it.",
        "certificate_valid": (
            "Whether every tested address presents a trusted certificate naming it; null if "
            "none could be tested."
        ),
    },
    MtaStsReport: {
        "txt": "The _mta-sts.<domain> TXT question.",
        "record_id": "The id of the one valid v=STSv1 record; null without one.",
        "record_problem": "What is wrong with the TXT record(s); null if nothing.",
        "policy_url": "Where the policy is fetched from.",
        "fetch": "How fetching the policy went.",
        "fetch_detail": "The reason when fetching failed; null otherwise.",
        "policy": "The parsed policy; null when none could be fetched or parsed.",
        "policy_problems": "Every problem with the policy file, in words.",
        "mx": "Each MX host against the policy.",
        "state": "MTA-STS for the domain as a whole.",
    },
    TlsRptReport: {
        "txt": "The _smtp._tls.<domain> TXT question.",
        "record": "The v=TLSRPTv1 record when exactly one; null otherwise.",
        "valid": "Whether that record is valid.",
        "rua": "Where reports go: mailto: and https: URIs.",
        "problem": "What is wrong, in words; null if nothing.",
    },
    MxHostReport: {
        "host": "The MX host name (for an address target: the address).",
        "preference": "The MX preference; null for hosts and addresses given directly.",
        "implicit": "True for the RFC 5321 implicit MX: the domain's own A/AAAA, as no MX exists.",
        "dns": "The A/AAAA questions asked for this host.",
        "addresses": "One report per address of this host.",
        "findings": "Findings about the host as a whole (e.g. no address at all).",
        "dane": "DANE for this host; null when not checked (--no-dane, or an address target).",
    },
    AddressReport: {
        "product": "The mail server software recognised at this address, with the evidence.",
        "mx_host": "The MX host this address belongs to; null for an address target.",
        "status": (
            "Whether the address could be tested; anything but `ok` means the TLS fields say "
            "little or nothing, never that STARTTLS is missing."
        ),
        "status_detail": "Why the address could not be tested, in words; null when `ok`.",
        "starttls": "Whether the server offers STARTTLS; null when it could not be told.",
        "tls_versions": (
            "Each TLS version and whether the server accepts it; every version is listed, "
            "one that was not probed is `not_tested`."
        ),
        "exo_ciphers": (
            "Whether a TLS 1.2 handshake with exactly Exchange Online's cipher suites succeeds."
        ),
        "negotiated": "What a modern client negotiates with default settings; null if nothing.",
        "certificate": "The certificate the server presented and its judgement; null if none.",
        "banner": "The server's greeting; null when none was received.",
        "ehlo_keywords": "The EHLO extension keywords the server announced before STARTTLS.",
        "replies": "The SMTP exchanges that mattered (greeting, errors, the STARTTLS reply).",
        "probes": "Every probe connection planned for this address, in the order run.",
        "findings": "Findings about this address.",
        "verdict": "The Exchange Online verdict for this address.",
        "connections": "How many TCP connections were opened to this address.",
        "elapsed_seconds": "Wall-clock time spent on this address.",
    },
    Endpoint: {
        "ip": "The address probed, in canonical text form (no brackets for IPv6).",
        "port": "The TCP port probed.",
    },
    TlsHandshake: {
        "version": "The negotiated protocol version.",
        "cipher": "The cipher suite, OpenSSL name (e.g. `ECDHE-RSA-AES256-GCM-SHA384`).",
        "bits": "The secret bits of the symmetric cipher.",
        "key_exchange": "The key exchange up to TLS 1.2 (e.g. `ECDHE`); null for TLS 1.3.",
    },
    CertificateReport: {
        "leaf": "The server's own certificate.",
        "chain": "The chain as presented, leaf first.",
        "checked_at": "The moment validity and expiry were judged at.",
        "days_left": "Whole days until the leaf expires; negative once expired.",
        "trusted": "Whether the chain verifies against the trust store.",
        "trust_error": "Why verification failed; null when trusted.",
        "name_checked": "The host name compared with the certificate; null for address targets.",
        "name_matches": "Whether the certificate covers `name_checked`; null when not checked.",
    },
    CertificateInfo: {
        "subject": "The subject distinguished name (RFC 4514 string).",
        "issuer": "The issuer distinguished name (RFC 4514 string).",
        "dns_names": "The DNS names of the subject alternative name extension.",
        "ip_addresses": "The IP addresses of the subject alternative name extension.",
        "not_before": "Start of the validity period.",
        "not_after": "End of the validity period.",
        "signature_algorithm": "The signature algorithm (e.g. `sha256WithRSAEncryption`).",
        "signature_hash": "The signature's hash (`sha256`, `sha1`, ...); null for EdDSA.",
        "key_type": "The public key type: `RSA`, `EC`, `Ed25519`, `DSA`, ...",
        "key_bits": "The public key size in bits.",
        "self_signed": "Whether the certificate is signed by its own key.",
        "sha256_fingerprint": "SHA-256 of the DER encoding, hexadecimal.",
        "serial": "The serial number, hexadecimal.",
    },
    SmtpReply: {
        "code": "The three-digit reply code.",
        "lines": "The text of each reply line, without code and separator.",
    },
    SmtpExchange: {
        "stage": "The step of the dialogue.",
        "command": "The command sent; null for the greeting.",
        "reply": "The server's reply.",
    },
    ProbeResult: {
        "kind": "What this connection offered.",
        "outcome": "How the connection ended.",
        "handshake": "The completed handshake; null unless `outcome` is `negotiated`.",
        "stage": "The dialogue step where a failure happened; null on success.",
        "reason": "The cause of a failure, in words; null on success.",
        "failure_reply": "The SMTP reply that ended the probe, if a reply did.",
        "reply_class": "What `failure_reply` means for a tester; null without one.",
        "exchanges": "The SMTP exchanges of this connection, in order.",
        "chain_der": (
            "The certificates the server presented on this connection, leaf first, each as "
            "base64 of its DER encoding; empty without a handshake."
        ),
        "elapsed_seconds": "Wall-clock time of this connection.",
    },
    Finding: {
        "code": "The stable code of the finding, e.g. `TLS12_UNSUPPORTED`.",
        "severity": "How much the finding matters.",
        "message": "What was found and what to do, in words.",
        "remedy": (
            "What to install or change so the finding goes away, for the recognised product "
            "where one was recognised; null for findings that call for nothing (TLS 1.3 not "
            "offered, a null MX, no address in the requested family)."
        ),
    },
    Remedy: {
        "summary": "The fix in one line.",
        "steps": "Ordered, concrete steps: updates, settings with values, config lines, snippets.",
        "product": (
            "The product id this advice is specific to; null for the generic advice, whose "
            "steps then include how to find out the product."
        ),
        "sources": "Where the facts behind this advice come from (URLs).",
    },
    ExoVerdict: {
        "inbound": "Mail from Exchange Online to this target.",
        "outbound": "Mail from this target to Exchange Online.",
        "summary": "The verdict in one sentence.",
    },
}

_ENUM_VALUE_DOCS: Mapping[type[Enum], Mapping[Enum, str]] = {
    SessionKind: {
        SessionKind.TLS1_3: "TLS 1.3",
        SessionKind.TLS1_2: "TLS 1.2",
        SessionKind.TLS1_1: "TLS 1.1: refused by Exchange Online",
        SessionKind.TLS1_0: "TLS 1.0: refused by Exchange Online",
        SessionKind.TLS_UNKNOWN: "TLS whose version the log does not show",
        SessionKind.PLAINTEXT: "no TLS at all",
    },
    # The policy's own table: each code's severity and title, so the schema cannot disagree.
    FindingCode: {code: f"{info.title} ({info.severity.value})" for code, info in CODES.items()},
    TargetKind: {
        TargetKind.DOMAIN: "a domain: its MX records are looked up, as a sending MTA would",
        TargetKind.HOST: "a bracketed host `[mx.example.net]`: its A/AAAA, no MX lookup",
        TargetKind.ADDRESS: "a bracketed address `[192.0.2.1]`: no DNS at all",
    },
    DnsStatus: {
        DnsStatus.OK: "an answer came back",
        DnsStatus.NXDOMAIN: "the name does not exist",
        DnsStatus.NO_DATA: "the name exists but has no record of that type",
        DnsStatus.SERVFAIL: "the resolver failed (often a DNSSEC validation failure)",
        DnsStatus.TIMEOUT: "no answer in time",
        DnsStatus.ERROR: "anything else: refused, malformed answer, unreachable resolver",
    },
    VersionSupport: {
        VersionSupport.SUPPORTED: "a handshake offering only this version succeeded",
        VersionSupport.UNSUPPORTED: "the server refused a handshake offering only this version",
        VersionSupport.NOT_TESTED: "not probed, or the probe could not reach the handshake",
    },
    ProbeKind: {
        ProbeKind.DEFAULT: "client defaults: what a modern MTA would negotiate",
        ProbeKind.TLS1_0: "TLS 1.0 only",
        ProbeKind.TLS1_1: "TLS 1.1 only",
        ProbeKind.TLS1_2: "TLS 1.2 only",
        ProbeKind.TLS1_3: "TLS 1.3 only",
        ProbeKind.EXO_CIPHERS: "TLS 1.2 with exactly Exchange Online's published cipher suites",
    },
    ProbeOutcome: {
        ProbeOutcome.NEGOTIATED: "the TLS handshake completed",
        ProbeOutcome.HANDSHAKE_FAILED: "the server refused this offer: a real no",
        ProbeOutcome.NO_STARTTLS: "the server does not offer STARTTLS",
        ProbeOutcome.STARTTLS_REFUSED: "STARTTLS was offered but answered with an error",
        ProbeOutcome.SMTP_FAILURE: "a 4xx/5xx reply before STARTTLS: says nothing about TLS",
        ProbeOutcome.CONNECT_FAILED: "the TCP connection failed",
        ProbeOutcome.TIMEOUT: "the server did not answer in time",
        ProbeOutcome.PROTOCOL_ERROR: "SMTP, but oversized or malformed replies, or garbage",
        ProbeOutcome.CLOSED: "the server closed the connection mid-dialogue",
        ProbeOutcome.NOT_SMTP: "the first bytes were no SMTP reply (HTTP, SSH, garbage)",
        ProbeOutcome.SKIPPED: "not run: the answer was known or the address gave up",
    },
    AddressStatus: {
        AddressStatus.OK: "tested",
        AddressStatus.CONNECT_FAILED: "no TCP connection",
        AddressStatus.TIMEOUT: "the server did not answer in time",
        AddressStatus.RATE_LIMITED: "421 or too many connections: try later, not a TLS fact",
        AddressStatus.TEMPORARY_FAILURE: "another 4xx reply",
        AddressStatus.REJECTED: "a 5xx reply: policy, blocklist",
        AddressStatus.NOT_SMTP: "something other than an SMTP server answered",
        AddressStatus.PROTOCOL_ERROR: "the server broke SMTP framing",
        AddressStatus.CONNECTION_CLOSED: "the server closed the connection mid-dialogue",
        AddressStatus.TLS_FAILED: "every TLS handshake failed",
    },
    ReplyClass: {
        ReplyClass.RATE_LIMITED: "421 or too many connections: try later, not a TLS fact",
        ReplyClass.TEMPORARY: "another 4xx reply",
        ReplyClass.REJECTED: "a 5xx reply: policy, blocklist, relay denied",
        ReplyClass.UNEXPECTED: "a success code where it makes no sense",
    },
    ExoInbound: {
        ExoInbound.TLS12: "a TLS 1.2 handshake with Exchange Online's suites succeeds",
        ExoInbound.PLAINTEXT_FALLBACK: (
            "no usable TLS 1.2: opportunistic TLS falls back to plaintext, forced TLS fails"
        ),
        ExoInbound.NOT_TESTED: "could not be tested",
    },
    ExoOutbound: {
        ExoOutbound.LIKELY_TLS12: "the server's TLS stack speaks TLS 1.2",
        ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL: "the server's TLS stack stops below TLS 1.2",
        ExoOutbound.UNKNOWN: "nothing to infer from",
    },
}


@dataclasses.dataclass(frozen=True)
class SchemaProse:
    """The words of a document's schema that the models do not hold: descriptions of classes
    (beyond their docstrings), of fields, and of enum values."""

    class_docs: Mapping[type, str]
    field_docs: Mapping[type, Mapping[str, str]]
    enum_value_docs: Mapping[type[Enum], Mapping[Enum, str]]


_PROSE = SchemaProse(_CLASS_DOCS, _FIELD_DOCS, _ENUM_VALUE_DOCS)


def check_report_schema() -> JsonSchema:
    """The JSON Schema of the ``mailtls check`` document (a new dict on every call)."""
    return document_schema(CheckReport, SCHEMA_ID, "check", SCHEMA_VERSION, _DOCUMENT_DESCRIPTION)


def logs_report_schema() -> JsonSchema:
    """The JSON Schema of the ``mailtls logs --json`` document (a new dict on every call)."""
    return document_schema(
        LogsReport, LOGS_SCHEMA_ID, "logs", LOGS_SCHEMA_VERSION, _LOGS_DOCUMENT_DESCRIPTION
    )


def document_schema(
    root_class: type,
    schema_id: str,
    command: str,
    version: str,
    text: str,
    *,
    prose: SchemaProse = _PROSE,
) -> JsonSchema:
    """The schema of the document of ``mailtls <command>``, generated from ``root_class``."""
    builder = _SchemaBuilder(prose)
    root = builder.object_schema(root_class)
    root["properties"]["schema_version"]["const"] = version
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id,
        "title": f"mailtls {command} report, schema version {version}",
        **root,
        "description": text,
        "$defs": dict(sorted(builder.definitions.items())),
    }


class _SchemaBuilder:
    """Turns type hints into schemas, collecting named classes under ``$defs``."""

    def __init__(self, prose: SchemaProse) -> None:
        self.prose = prose
        self.definitions: dict[str, JsonSchema] = {}

    def object_schema(self, cls: type) -> JsonSchema:
        properties: dict[str, JsonSchema] = {}
        for name, schema in self._properties(cls):
            if name in properties:
                raise ValueError(f"flattening {cls.__name__} gives the key {name!r} twice")
            properties[name] = schema
        return _described(
            _class_description(cls, self.prose),
            {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        )

    def _properties(self, cls: type) -> list[tuple[str, JsonSchema]]:
        hints = typing.get_type_hints(cls)
        flatten = flattened_fields(cls)
        result: list[tuple[str, JsonSchema]] = []
        for model_field in dataclasses.fields(cls):
            hint = hints[model_field.name]
            if model_field.name in flatten:
                if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
                    raise TypeError(f"{cls.__name__}.{model_field.name} cannot be flattened")
                result.extend(self._properties(hint))
                continue
            description = self.prose.field_docs.get(cls, {}).get(model_field.name)
            result.append((model_field.name, _described(description, self.schema_for(hint))))
        return result

    def schema_for(self, hint: Any) -> JsonSchema:
        origin = typing.get_origin(hint)
        arguments = typing.get_args(hint)
        if hint is type(None):
            return {"type": "null"}
        if origin in (types.UnionType, typing.Union):
            return self._union(arguments)
        if origin is tuple or origin is list:
            if origin is tuple and (len(arguments) != 2 or arguments[1] is not Ellipsis):
                raise TypeError(f"only homogeneous tuples (tuple[X, ...]) are supported: {hint}")
            return {"type": "array", "items": self.schema_for(arguments[0])}
        if origin is dict or origin is Mapping:
            return self._mapping(*arguments)
        if isinstance(hint, type):
            return self._named_type(hint)
        raise TypeError(f"no JSON schema for the type hint {hint!r}")

    def _named_type(self, cls: type) -> JsonSchema:
        if issubclass(cls, Enum):
            return self._reference(cls, lambda: _enum_schema(cls, self.prose))
        if dataclasses.is_dataclass(cls):
            return self._reference(cls, lambda: self.object_schema(cls))
        if cls is datetime:
            return {"type": "string", "format": "date-time", "pattern": _UTC_TIMESTAMP_PATTERN}
        if cls is bytes:
            return {"type": "string", "contentEncoding": "base64"}
        primitives = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if cls in primitives:
            return {"type": primitives[cls]}
        raise TypeError(f"no JSON schema for the type {cls.__name__}")

    def _reference(self, cls: type, build: typing.Callable[[], JsonSchema]) -> JsonSchema:
        name = cls.__name__
        if name not in self.definitions:
            self.definitions[name] = {}  # placeholder: a class may refer to itself
            self.definitions[name] = build()
        return {"$ref": f"#/$defs/{name}"}

    def _union(self, arguments: tuple[Any, ...]) -> JsonSchema:
        members = [argument for argument in arguments if argument is not type(None)]
        nullable = len(members) < len(arguments)
        if len(members) != 1:
            schema: JsonSchema = {"anyOf": [self.schema_for(member) for member in members]}
        else:
            schema = self.schema_for(members[0])
        if not nullable:
            return schema
        if isinstance(schema.get("type"), str) and "$ref" not in schema:
            return {**schema, "type": [schema["type"], "null"]}
        return {"anyOf": [schema, {"type": "null"}]}

    def _mapping(self, key_hint: Any, value_hint: Any) -> JsonSchema:
        value_schema = self.schema_for(value_hint)
        if key_hint is str:
            return {"type": "object", "additionalProperties": value_schema}
        if isinstance(key_hint, type) and issubclass(key_hint, StrEnum):
            # Keyed by an enum: every member is present, in declaration order.
            keys = [member.value for member in key_hint]
            return {
                "type": "object",
                "properties": {key: value_schema for key in keys},
                "required": keys,
                "additionalProperties": False,
            }
        raise TypeError(f"JSON object keys must be str or a str enum, not {key_hint!r}")


def _enum_schema(cls: type[Enum], prose: SchemaProse) -> JsonSchema:
    description = _class_description(cls, prose)
    value_docs = prose.enum_value_docs.get(cls)
    if value_docs:
        meanings = "\n".join(
            f"- `{member.value}`: {value_docs[member]}"
            if member in value_docs
            else f"- `{member.value}`"
            for member in cls
        )
        description = f"{description}\n\n{meanings}" if description else meanings
    return _described(description, {"type": "string", "enum": [member.value for member in cls]})


def _class_description(cls: type, prose: SchemaProse) -> str | None:
    """The class's description; None leaves it undescribed (a unit test insists on one)."""
    if cls in prose.class_docs:
        return prose.class_docs[cls]
    own_doc = cls.__dict__.get("__doc__")
    # A dataclass without a docstring gets its signature as __doc__: that is no description.
    if own_doc and not own_doc.startswith(f"{cls.__name__}("):
        return inspect.cleandoc(own_doc).replace("``", "`")
    return None


def _described(description: str | None, schema: JsonSchema) -> JsonSchema:
    return schema if description is None else {"description": description, **schema}


def check_report_schema_json() -> str:
    """The schema as ``mailtls schema`` prints it and ``docs/schema/check-v2.json`` holds it.

    Two-space indentation and no trailing newline (``print`` adds it), the same text as
    ``json.dumps(check_report_schema(), indent=2)``.
    """
    return json.dumps(check_report_schema(), indent=2)

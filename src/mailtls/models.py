"""Plain values shared by every part of mailtls.

Everything here is a frozen dataclass or a ``str`` enum: the probe engine produces these values,
the pure policy layer turns observations into findings and verdicts, and the renderers and the
JSON schema (``mailtls.schema``) are derived from them. Nothing in this module does I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

# The version of the JSON document the models render to (``mailtls.schema``); bump it when a
# field changes meaning or disappears, never for additions.
SCHEMA_VERSION = "2"  # of the check document (docs/schema/check-v2.json)
LOGS_SCHEMA_VERSION = "1"  # of the logs document (docs/schema/logs-v1.json)


class TlsVersion(StrEnum):
    """TLS protocol versions as OpenSSL and Python's ``ssl`` name them."""

    TLS1_0 = "TLSv1"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"

    @property
    def rank(self) -> int:
        return _TLS_RANK[self]


_TLS_RANK = {
    TlsVersion.TLS1_0: 10,
    TlsVersion.TLS1_1: 11,
    TlsVersion.TLS1_2: 12,
    TlsVersion.TLS1_3: 13,
}

ALL_TLS_VERSIONS: tuple[TlsVersion, ...] = tuple(TlsVersion)


class VersionSupport(StrEnum):
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    NOT_TESTED = "not_tested"


class Severity(StrEnum):
    """How much a finding matters; the exit code follows the worst one (``policy.domain``)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}[self]


class TargetKind(StrEnum):
    DOMAIN = "domain"  # MX lookup, as a sending MTA would do
    HOST = "host"  # [mx.example.net]: the host's A/AAAA, no MX lookup
    ADDRESS = "address"  # [192.0.2.1]: no DNS at all


@dataclass(frozen=True)
class Target:
    """What the user asked to check, normalised (A-label, lower case, no trailing dot)."""

    kind: TargetKind
    name: str
    port: int
    original: str


@dataclass(frozen=True)
class Endpoint:
    """One (IP, port) to probe; ``ip`` is in canonical text form."""

    ip: str
    port: int

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.ip).version

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if self.family == 6 else f"{self.ip}:{self.port}"


# --- DNS ---------------------------------------------------------------------------------------


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NO_DATA = "no_data"  # the name exists but has no record of that type
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    ERROR = "error"  # anything else: refused, malformed answer, unreachable resolver


class DnssecStatus(StrEnum):
    """Whether a DNS answer is protected by DNSSEC, as far as the resolver tells."""

    SECURE = "secure"  # the resolver validated it (AD bit): a DANE sender may rely on it
    INSECURE = "insecure"  # no AD bit, no signatures: the zone is not signed
    UNVALIDATED = "unvalidated"  # signatures came, but no AD bit: the resolver does not validate
    BOGUS = "bogus"  # validation failed: SERVFAIL, while a query without checking (CD) answers
    INDETERMINATE = "indeterminate"  # no answer to judge (timeout, refused, SERVFAIL both ways)


@dataclass(frozen=True)
class DnsOutcome:
    """The result of one DNS question, success or not, with the resolver's words on failure."""

    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[str, ...] = ()
    detail: str | None = None
    dnssec: DnssecStatus | None = None  # None: not judged (answers before DNSSEC awareness)


@dataclass(frozen=True)
class MxRecord:
    preference: int
    host: str  # "" for the null MX target "."


# --- SMTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpReply:
    """One complete (possibly multi-line) SMTP reply, text without the code and separator."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(line.strip() for line in self.lines).strip()

    def __str__(self) -> str:
        return f"{self.code} {self.text}".rstrip()


class SmtpStage(StrEnum):
    CONNECT = "connect"
    GREETING = "greeting"
    EHLO = "ehlo"
    HELO = "helo"
    STARTTLS = "starttls"
    TLS_HANDSHAKE = "tls_handshake"
    QUIT = "quit"


@dataclass(frozen=True)
class SmtpExchange:
    """A command the client sent (``None`` for the greeting) and the reply it got."""

    stage: SmtpStage
    command: str | None
    reply: SmtpReply


# --- TLS and certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class TlsHandshake:
    version: TlsVersion
    cipher: str  # OpenSSL name, e.g. ECDHE-RSA-AES256-GCM-SHA384 or TLS_AES_256_GCM_SHA384
    bits: int
    key_exchange: str | None  # from the cipher name up to TLS 1.2; not exposed for TLS 1.3


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    signature_algorithm: str
    signature_hash: str | None  # "sha256", "sha1", ... (None for Ed25519/Ed448)
    key_type: str  # "RSA", "EC", "Ed25519", "DSA", ...
    key_bits: int
    self_signed: bool
    sha256_fingerprint: str
    serial: str


@dataclass(frozen=True)
class CertificateReport:
    """What the leaf and the presented chain say, judged at ``checked_at``."""

    leaf: CertificateInfo
    chain: tuple[CertificateInfo, ...]  # as presented, leaf first
    checked_at: datetime
    days_left: int
    trusted: bool
    trust_error: str | None
    name_checked: str | None  # the host name we compared against; None for IP-only targets
    name_matches: bool | None


# --- Probes ------------------------------------------------------------------------------------


class ProbeKind(StrEnum):
    DEFAULT = "default"  # client defaults: what a modern MTA would negotiate
    TLS1_0 = "TLSv1"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"
    EXO_CIPHERS = "exo_ciphers"  # TLS 1.2 with exactly Exchange Online's published suites


class ProbeOutcome(StrEnum):
    NEGOTIATED = "negotiated"  # TLS handshake completed
    HANDSHAKE_FAILED = "handshake_failed"  # the server refused this offer: a real "no"
    NO_STARTTLS = "no_starttls"  # the server does not offer STARTTLS (EHLO without it, or HELO)
    STARTTLS_REFUSED = "starttls_refused"  # STARTTLS offered but answered with an error
    SMTP_FAILURE = "smtp_failure"  # 4xx/5xx before STARTTLS: say nothing about TLS
    CONNECT_FAILED = "connect_failed"
    TIMEOUT = "timeout"
    NOT_SMTP = "not_smtp"  # the first bytes are no SMTP reply (HTTP, SSH, garbage)
    PROTOCOL_ERROR = "protocol_error"  # SMTP, but oversized or malformed replies, or garbage
    CLOSED = "closed"  # the server closed the connection mid-dialogue
    SKIPPED = "skipped"  # not run: the answer was known or the address gave up


class AddressStatus(StrEnum):
    """Whether an address could be tested, and if not, why (never "no STARTTLS")."""

    OK = "ok"
    CONNECT_FAILED = "connect_failed"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    TEMPORARY_FAILURE = "temporary_failure"
    REJECTED = "rejected"
    NOT_SMTP = "not_smtp"
    PROTOCOL_ERROR = "protocol_error"
    CONNECTION_CLOSED = "connection_closed"
    TLS_FAILED = "tls_failed"


class ReplyClass(StrEnum):
    """What an SMTP error reply means for a tester."""

    RATE_LIMITED = "rate_limited"  # 421 / "too many connections": try later, not a TLS fact
    TEMPORARY = "temporary"  # other 4xx
    REJECTED = "rejected"  # 5xx: policy, blocklist, relay denied
    UNEXPECTED = "unexpected"  # a success code where it makes no sense


@dataclass(frozen=True)
class ProbeResult:
    """One connection: what was offered, what happened, and the replies that mattered."""

    kind: ProbeKind
    outcome: ProbeOutcome
    handshake: TlsHandshake | None = None
    stage: SmtpStage | None = None  # where a failure happened
    reason: str | None = None  # human-readable cause (exception text, classified reply)
    failure_reply: SmtpReply | None = None
    reply_class: ReplyClass | None = None
    exchanges: tuple[SmtpExchange, ...] = ()
    chain_der: tuple[bytes, ...] = ()
    elapsed_seconds: float = 0.0


@dataclass(frozen=True)
class AddressObservation:
    """Everything the probe plan saw on one endpoint, before any judgement."""

    endpoint: Endpoint
    probes: tuple[ProbeResult, ...]
    started_at: datetime
    elapsed_seconds: float
    deadline_hit: bool = False

    @property
    def connections(self) -> int:
        return sum(1 for p in self.probes if p.outcome is not ProbeOutcome.SKIPPED)


# --- Findings and verdicts ---------------------------------------------------------------------


class FindingCode(StrEnum):
    """Stable codes that monitoring and reports key on; documented in the README.

    Severities and titles live in ``mailtls.policy.codes``. Never rename a member: add new ones.
    """

    # what the server offers
    STARTTLS_MISSING = "STARTTLS_MISSING"
    STARTTLS_REFUSED = "STARTTLS_REFUSED"
    TLS_HANDSHAKE_FAILED = "TLS_HANDSHAKE_FAILED"
    TLS12_UNSUPPORTED = "TLS12_UNSUPPORTED"
    TLS13_UNSUPPORTED = "TLS13_UNSUPPORTED"
    TLS10_ENABLED = "TLS10_ENABLED"
    TLS11_ENABLED = "TLS11_ENABLED"
    EXO_CIPHERS_UNSUPPORTED = "EXO_CIPHERS_UNSUPPORTED"
    PROBES_INCOMPLETE = "PROBES_INCOMPLETE"
    # certificate
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_EXPIRES_SOON = "CERT_EXPIRES_SOON"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    CERT_NAME_MISMATCH = "CERT_NAME_MISMATCH"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_SELF_SIGNED = "CERT_SELF_SIGNED"
    CERT_SHA1_SIGNATURE = "CERT_SHA1_SIGNATURE"
    CERT_SHA512_SIGNATURE = "CERT_SHA512_SIGNATURE"
    CERT_WEAK_KEY = "CERT_WEAK_KEY"
    CERT_UNPARSEABLE = "CERT_UNPARSEABLE"
    # DNS
    NULL_MX = "NULL_MX"
    NULL_MX_MIXED = "NULL_MX_MIXED"
    IMPLICIT_MX = "IMPLICIT_MX"
    NO_MAIL_HOST = "NO_MAIL_HOST"
    MX_UNRESOLVABLE = "MX_UNRESOLVABLE"
    NO_ADDRESS_IN_FAMILY = "NO_ADDRESS_IN_FAMILY"
    DOMAIN_NXDOMAIN = "DOMAIN_NXDOMAIN"
    DNS_SERVFAIL = "DNS_SERVFAIL"
    DNS_TIMEOUT = "DNS_TIMEOUT"
    DNS_ERROR = "DNS_ERROR"
    # reaching the server
    CONNECT_FAILED = "CONNECT_FAILED"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"
    SMTP_TEMPORARY_FAILURE = "SMTP_TEMPORARY_FAILURE"
    SMTP_REJECTED = "SMTP_REJECTED"
    NOT_SMTP = "NOT_SMTP"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    CONNECTION_CLOSED = "CONNECTION_CLOSED"
    # DNSSEC and DANE (RFC 7672)
    DNSSEC_BOGUS = "DNSSEC_BOGUS"
    RESOLVER_NOT_VALIDATING = "RESOLVER_NOT_VALIDATING"
    DANE_VALID = "DANE_VALID"
    DANE_MISMATCH = "DANE_MISMATCH"
    DANE_NOT_SECURE = "DANE_NOT_SECURE"
    DANE_UNUSABLE_RECORDS = "DANE_UNUSABLE_RECORDS"
    DANE_MX_NOT_SECURE = "DANE_MX_NOT_SECURE"
    DANE_PARTIAL = "DANE_PARTIAL"
    # MTA-STS (RFC 8461)
    MTA_STS_ENFORCED = "MTA_STS_ENFORCED"
    MTA_STS_TESTING = "MTA_STS_TESTING"
    MTA_STS_RECORD_INVALID = "MTA_STS_RECORD_INVALID"
    MTA_STS_POLICY_UNREACHABLE = "MTA_STS_POLICY_UNREACHABLE"
    MTA_STS_POLICY_INVALID = "MTA_STS_POLICY_INVALID"
    MTA_STS_MX_NOT_COVERED = "MTA_STS_MX_NOT_COVERED"
    MTA_STS_CERT_INVALID = "MTA_STS_CERT_INVALID"
    MTA_STS_MAX_AGE_SMALL = "MTA_STS_MAX_AGE_SMALL"
    # TLS-RPT (RFC 8460)
    TLSRPT_MISSING = "TLSRPT_MISSING"
    TLSRPT_INVALID = "TLSRPT_INVALID"


@dataclass(frozen=True)
class Remedy:
    """What to install or change so that a finding goes away (``mailtls.knowledge``).

    Specific to the recognised product where ``product`` is set, generic otherwise. ``steps``
    are ordered and concrete (an update to install, a setting with its value, a config line, a
    .reg snippet); every remedy names the sources its facts come from.
    """

    summary: str
    steps: tuple[str, ...]
    product: str | None  # a products.toml id; None for the generic advice
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    remedy: Remedy | None = None  # None where nothing needs doing or no advice is known


class ExoInbound(StrEnum):
    """Mail from Exchange Online to this server (Exchange Online as the SMTP client)."""

    TLS12 = "tls12"  # a TLS 1.2 handshake with Exchange Online's suites succeeds
    PLAINTEXT_FALLBACK = "plaintext_fallback"  # opportunistic: plaintext; forced TLS: fails
    NOT_TESTED = "not_tested"


class ExoOutbound(StrEnum):
    """Mail from this server to Exchange Online: inferred from the server's own TLS stack."""

    LIKELY_TLS12 = "likely_tls12"
    LIKELY_PLAINTEXT_OR_FAIL = "likely_plaintext_or_fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ExoVerdict:
    inbound: ExoInbound
    outbound: ExoOutbound
    summary: str


class Confidence(StrEnum):
    """How sure a product guess is."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True)
class ProductGuess:
    """Which mail server software an address runs, as far as banner, EHLO, certificate and host
    name tell (``mailtls.knowledge.fingerprint``)."""

    product: str | None  # a products.toml id; None when nothing matched
    name: str
    version: str | None
    confidence: Confidence
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class AddressReport:
    endpoint: Endpoint
    mx_host: str | None
    status: AddressStatus
    status_detail: str | None
    starttls: bool | None  # None: could not be told
    tls_versions: dict[TlsVersion, VersionSupport]
    exo_ciphers: VersionSupport
    negotiated: TlsHandshake | None
    certificate: CertificateReport | None
    banner: SmtpReply | None
    ehlo_keywords: tuple[str, ...]
    replies: tuple[SmtpExchange, ...]
    probes: tuple[ProbeResult, ...]
    findings: tuple[Finding, ...]
    verdict: ExoVerdict
    connections: int
    elapsed_seconds: float
    product: ProductGuess


# --- DANE, MTA-STS, TLS-RPT (RFC 7672, 8461, 8460) -----------------------------------------


@dataclass(frozen=True)
class TlsaRecord:
    """One TLSA record (RFC 6698): what the certificate association data is compared with."""

    usage: int  # 0 PKIX-TA, 1 PKIX-EE (unusable for SMTP, RFC 7672 3.1.3), 2 DANE-TA, 3 DANE-EE
    selector: int  # 0 the whole certificate, 1 its SubjectPublicKeyInfo
    matching_type: int  # 0 exact, 1 SHA-256, 2 SHA-512
    data: str  # the association data, lower-case hex


class DaneState(StrEnum):
    """DANE for an MX host, an address of it, or a whole domain."""

    VALID = "valid"  # DNSSEC-secure TLSA records, and a usable one matches the chain presented
    MISMATCH = "mismatch"  # usable records, none matches: DANE senders will not deliver
    NOT_CONFIGURED = "not_configured"  # no TLSA records (DANE senders use opportunistic TLS)
    NOT_SECURE = "not_secure"  # TLSA records exist, but not DNSSEC-secure: senders ignore them
    UNUSABLE = "unusable"  # only records SMTP cannot use (PKIX usages, unknown parameters)
    BOGUS = "bogus"  # DNSSEC validation failed: DANE senders defer mail
    NOT_TESTED = "not_tested"  # no chain to compare (no STARTTLS, no handshake), or lookup failed


@dataclass(frozen=True)
class DaneAddressResult:
    """The TLSA records of an MX host against the chain one of its addresses presented."""

    endpoint: Endpoint
    state: DaneState
    matched: tuple[int, ...]  # positions in DaneReport.records that match this chain
    detail: str | None


@dataclass(frozen=True)
class DaneReport:
    """DANE for one MX host: the TLSA lookup at ``_25._tcp.<host>`` and every address's match."""

    tlsa: DnsOutcome
    host_dnssec: DnssecStatus | None  # of the host's address records (DANE needs them secure)
    records: tuple[TlsaRecord, ...]
    addresses: tuple[DaneAddressResult, ...]
    state: DaneState


class MtaStsMode(StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True)
class MtaStsPolicy:
    """A parsed policy file (RFC 8461 3.2)."""

    version: str
    mode: MtaStsMode
    mx: tuple[str, ...]  # patterns as written: "mail.example.com", "*.example.net"
    max_age: int  # seconds


class MtaStsFetch(StrEnum):
    """How fetching https://mta-sts.<domain>/.well-known/mta-sts.txt went."""

    OK = "ok"
    NOT_FETCHED = "not_fetched"  # no valid TXT record: senders do not look for a policy
    NOT_FOUND = "not_found"  # HTTP 404
    HTTP_ERROR = "http_error"  # another status than 200 (redirects included: never followed)
    TLS_ERROR = "tls_error"  # the HTTPS certificate is not valid for mta-sts.<domain>
    CONNECT_FAILED = "connect_failed"  # no address, refused, unreachable
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"  # more than the size limit
    WRONG_TYPE = "wrong_type"  # not text/plain


class MtaStsState(StrEnum):
    NOT_CONFIGURED = "not_configured"  # no _mta-sts TXT record
    ENFORCED = "enforced"  # enforce mode, every MX covered and with a valid certificate
    TESTING = "testing"  # testing mode: failures are only reported (TLS-RPT), mail flows
    NONE = "none"  # mode none: the domain withdraws its policy
    INVALID = "invalid"  # TXT record or policy broken: senders treat it as absent
    UNREACHABLE = "unreachable"  # TXT record, but the policy cannot be fetched
    FAILING = "failing"  # enforce mode, but an MX is not covered or its certificate invalid


@dataclass(frozen=True)
class MtaStsMxCheck:
    host: str
    covered: bool  # a policy "mx" pattern matches the host name
    certificate_valid: bool | None  # trusted and naming the host on every tested address


@dataclass(frozen=True)
class MtaStsReport:
    txt: DnsOutcome  # _mta-sts.<domain> TXT
    record_id: str | None  # the "id" of the one valid v=STSv1 record
    record_problem: str | None
    policy_url: str
    fetch: MtaStsFetch
    fetch_detail: str | None
    policy: MtaStsPolicy | None
    policy_problems: tuple[str, ...]
    mx: tuple[MtaStsMxCheck, ...]
    state: MtaStsState


@dataclass(frozen=True)
class TlsRptReport:
    """The TLS reporting record at _smtp._tls.<domain> (RFC 8460 3)."""

    txt: DnsOutcome
    record: str | None  # the v=TLSRPTv1 record, when exactly one
    valid: bool
    rua: tuple[str, ...]  # mailto: and https: report destinations
    problem: str | None


@dataclass(frozen=True)
class MxHostReport:
    host: str
    preference: int | None  # None for bracketed targets
    implicit: bool  # RFC 5321 5.1 implicit MX (the domain's own A/AAAA)
    dns: tuple[DnsOutcome, ...]
    addresses: tuple[AddressReport, ...]
    findings: tuple[Finding, ...] = ()
    dane: DaneReport | None = None  # None: not looked up (--no-dane, or an address target)


@dataclass(frozen=True)
class DomainReport:
    target: Target
    dns: tuple[DnsOutcome, ...]
    mx_hosts: tuple[MxHostReport, ...]
    findings: tuple[Finding, ...]
    verdict: ExoVerdict
    tested_addresses: int
    started_at: datetime
    elapsed_seconds: float
    dane: DaneState | None = None  # the domain's DANE, from its MX hosts'; None: not checked
    mta_sts: MtaStsReport | None = None  # None: not checked (--no-mta-sts, or not a domain)
    tls_rpt: TlsRptReport | None = None


@dataclass(frozen=True)
class CheckReport:
    schema_version: str
    tool_version: str
    generated_at: datetime
    domains: tuple[DomainReport, ...]
    exit_code: int
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    """One ``mailtls scan`` run as the store keeps it."""

    run_id: int
    label: str  # where the list came from: a file name, "-" for stdin
    started_at: datetime
    finished_at: datetime | None  # None while running, or when interrupted and not resumed
    tool_version: str
    options: dict[str, str]
    targets: int  # domains in the run's list, after duplicates and invalid lines
    completed: int  # domains with a stored result


# --- Observed sessions (logs now, the receiver later) ------------------------------------------


class Direction(StrEnum):
    INBOUND = "inbound"  # a peer delivered to us (our smtpd / receive connector)
    OUTBOUND = "outbound"  # we delivered to a peer (our smtp client / send connector)


class PeerRole(StrEnum):
    """Who the peer is: another mail server, or a user's client submitting with SMTP AUTH."""

    MTA = "mta"
    SUBMISSION = "submission"


class LogFormat(StrEnum):
    POSTFIX = "postfix"
    EXIM = "exim"
    SENDMAIL = "sendmail"
    OPENSMTPD = "opensmtpd"
    EXCHANGE = "exchange"


class SessionObservation(NamedTuple):
    """One SMTP session as a log (or the receiver) saw it: who, which way, with what TLS.

    ``tls_version`` is None for a plaintext session. ``version_ambiguous`` marks logs that cannot
    tell TLS versions apart (old Sendmail's generic ``TLSv1/SSLv3``): such a session used TLS, but
    which version is unknown, and it must not be counted as TLS 1.0.

    A named tuple rather than a frozen dataclass: a log of millions of lines makes one per
    session, and a tuple is made in a fifth of the time (change fields with ``_replace``).
    """

    source: LogFormat
    direction: Direction
    timestamp: datetime | None
    peer_ip: str | None
    peer_host: str | None  # as logged: a reverse name, a relay name, or None ("unknown")
    tls_version: TlsVersion | None
    cipher: str | None = None
    role: PeerRole = PeerRole.MTA
    version_ambiguous: bool = False
    origin: str | None = None  # "file:line" of the line that completed the observation
    # The mail domain the session was for, where the log names it: for outbound sessions the
    # recipient's domain (a relay host often serves many domains; the domain is who to call).
    peer_domain: str | None = None

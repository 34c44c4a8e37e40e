"""TLSA records (RFC 6698) as SMTP senders use them (RFC 7671, RFC 7672): parse, judge, match.

Everything here is pure: a record and the DER chain a server presented in, a verdict out. What a
match means, per usage:

* DANE-EE (3): only the leaf is compared, as its whole DER certificate (selector 0) or its
  SubjectPublicKeyInfo (selector 1), exactly (matching type 0) or as SHA-256 (1) or SHA-512 (2)
  digest. No name, no dates, no chain (RFC 7672 3.1.1, 3.2.1): the DNSSEC-signed record is the
  binding, and its signature's lifetime is the certificate's.
* DANE-TA (2): the record names a trust anchor. It must match a certificate the server presented
  *after* the leaf: RFC 7672 3.1.2 requires servers to send it, and OpenSSL's DANE code, which
  Postfix uses, never matches a trust-anchor record against the leaf. A full certificate in the
  record (``2 0 0``) serves as the anchor even when the server leaves it out (RFC 7671 5.2).
  Then, as a verifying sender does (RFC 7672 3.2.2, 3.2.3; Postfix checks "nexthop, hostname"):

  - the leaf must chain to the anchor through the presented certificates, every signature
    checked, every issuer allowed to sign certificates (basicConstraints CA and keyCertSign,
    where the certificate carries those extensions);
  - every certificate on that path, the anchor included, must be valid at ``now``;
  - the leaf must name one of the reference names: the MX host (the TLSA base domain) and, when
    the MX records were DNSSEC-secure, the mail domain. DNS-IDs are compared, the subject CN only
    when there is none; a wildcard counts only as the whole left-most label and stands for one
    label (``mailtls.tls.names``, RFC 6125 as RFC 7672 3.2.3 narrows it).

  Not checked: name constraints, path lengths, policies, extended key usages, and a bare public
  key as anchor (``2 1 0``) that the server did not send; RFC 7672 3.1.2 discourages both Full(0)
  forms and requires the anchor in the chain anyway.
* PKIX-TA (0), PKIX-EE (1), undefined usages, selectors and matching types, and digests of the
  wrong length are unusable for SMTP (RFC 7672 3.1.3; Postfix: "unsupported parameters or
  malformed data"). They never match; :func:`unusable_reason` says why.
* Digest agility (RFC 7671 9): when the records of one usage and selector carry both SHA-256 and
  SHA-512 digests, a sender that supports SHA-512 uses only those (Postfix 3.2 and later always
  does); :func:`superseded_records` names the SHA-256 records such senders ignore.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

from mailtls.models import TlsaRecord
from mailtls.tls.names import host_name_matches

PKIX_TA: Final = 0
PKIX_EE: Final = 1
DANE_TA: Final = 2
DANE_EE: Final = 3
SELECTOR_CERT: Final = 0
SELECTOR_SPKI: Final = 1
MATCH_FULL: Final = 0
MATCH_SHA256: Final = 1
MATCH_SHA512: Final = 2

USAGE_NAMES: Final = {
    PKIX_TA: "PKIX-TA",
    PKIX_EE: "PKIX-EE",
    DANE_TA: "DANE-TA",
    DANE_EE: "DANE-EE",
}
SELECTOR_NAMES: Final = {SELECTOR_CERT: "Cert", SELECTOR_SPKI: "SPKI"}
MATCHING_NAMES: Final = {MATCH_FULL: "Full", MATCH_SHA256: "SHA2-256", MATCH_SHA512: "SHA2-512"}

_DIGESTS: Final[dict[int, Callable[[bytes], hashlib._Hash]]] = {
    MATCH_SHA256: hashlib.sha256,
    MATCH_SHA512: hashlib.sha512,
}
_DIGEST_BYTES: Final = {MATCH_SHA256: 32, MATCH_SHA512: 64}

_NUMBER = re.compile(r"[0-9]{1,3}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SHOWN_CHARACTERS = 60  # of a malformed record, quoted in the error
# A chain longer than this is not searched further: real ones have two to four certificates,
# and every extra one costs signature checks.
_MAX_CHAIN = 10

# What cryptography raises for a certificate it parsed but cannot fully read.
_UNREADABLE: Final = (
    ValueError,
    TypeError,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)


# --- the record --------------------------------------------------------------------------------


def parse_tlsa(text: str) -> TlsaRecord:
    """A TLSA record from its presentation form, as dnspython writes it: ``3 1 1 ABCD...``.

    The association data may be split by white space (dnspython breaks it into chunks). Usage,
    selector and matching type are numbers from 0 to 255, the data an even number of hex digits.
    Values no SMTP sender uses are parsed all the same (see :func:`unusable_reason`); only text
    that is no TLSA record raises ``ValueError``.
    """
    fields = text.split()
    if len(fields) < 4:
        raise ValueError(
            "a TLSA record is usage, selector, matching type and data; "
            f"got {len(fields)} field(s) in {_shown(text)!r}"
        )
    numbers: list[int] = []
    for label, field in zip(("usage", "selector", "matching type"), fields[:3], strict=True):
        if not _NUMBER.fullmatch(field) or int(field) > 255:
            raise ValueError(f"TLSA {label} {_shown(field)!r} is not a number from 0 to 255")
        numbers.append(int(field))
    data = "".join(fields[3:])
    if not _HEX.fullmatch(data):
        raise ValueError(f"TLSA association data {_shown(data)!r} is not hexadecimal")
    if len(data) % 2:
        raise ValueError(f"TLSA association data has an odd number of hex digits ({len(data)})")
    usage, selector, matching_type = numbers
    return TlsaRecord(
        usage=usage, selector=selector, matching_type=matching_type, data=data.lower()
    )


def record_text(record: TlsaRecord, *, limit: int = 128) -> str:
    """The record as an administrator writes it; association data longer than ``limit`` hex
    digits (a full certificate) is cut, as digests are what one compares by eye."""
    data = record.data if len(record.data) <= limit else f"{record.data[:limit]}…"
    return f"{record.usage} {record.selector} {record.matching_type} {data}"


def describe(record: TlsaRecord) -> str:
    """``DANE-EE(3) SPKI(1) SHA2-256(1)``: the parameters by their RFC 7218 names."""
    parts = (
        (USAGE_NAMES, record.usage),
        (SELECTOR_NAMES, record.selector),
        (MATCHING_NAMES, record.matching_type),
    )
    return " ".join(f"{names.get(value, 'unknown')}({value})" for names, value in parts)


def unusable_reason(record: TlsaRecord) -> str | None:
    """Why an SMTP sender cannot use ``record``, or ``None`` if it can."""
    if record.usage in (PKIX_TA, PKIX_EE):
        return (
            f"{USAGE_NAMES[record.usage]}({record.usage}) relies on public CAs, which SMTP "
            "senders do not use with DANE (RFC 7672 3.1.3)"
        )
    if record.usage not in (DANE_TA, DANE_EE):
        return f"certificate usage {record.usage} is not defined"
    if record.selector not in SELECTOR_NAMES:
        return f"selector {record.selector} is not defined"
    if record.matching_type not in MATCHING_NAMES:
        return f"matching type {record.matching_type} is not defined"
    expected = _DIGEST_BYTES.get(record.matching_type)
    if expected is not None and len(record.data) // 2 != expected:
        return (
            f"a {MATCHING_NAMES[record.matching_type]} digest has {expected} bytes, "
            f"this one {len(record.data) // 2}"
        )
    return None


def superseded_records(records: Sequence[TlsaRecord]) -> frozenset[int]:
    """Positions of usable records that digest-agile senders ignore (RFC 7671 9).

    Among the usable records of one usage and selector, only the strongest digest published
    counts: a SHA-256 record beside a SHA-512 one of the same kind is not used by a sender that
    supports SHA-512. Full (0) records are never superseded.
    """
    usable = [(position, r) for position, r in enumerate(records) if unusable_reason(r) is None]
    strongest: dict[tuple[int, int], int] = {}
    for _, record in usable:
        if record.matching_type in _DIGESTS:
            kind = (record.usage, record.selector)
            strongest[kind] = max(strongest.get(kind, 0), record.matching_type)
    return frozenset(
        position
        for position, record in usable
        if record.matching_type in _DIGESTS
        and record.matching_type < strongest[(record.usage, record.selector)]
    )


# --- what a certificate contributes --------------------------------------------------------------


def association_data(certificate_der: bytes, selector: int, matching_type: int) -> bytes | None:
    """What a record with this selector and matching type holds for this certificate.

    ``None`` when it cannot be computed: an undefined selector or matching type, or (selector 1)
    a certificate whose SubjectPublicKeyInfo cannot be found. The SubjectPublicKeyInfo is taken
    from the certificate's DER as it is, not re-encoded, so the value is what the server's key
    really hashes to.
    """
    if selector == SELECTOR_CERT:
        content: bytes | None = certificate_der
    elif selector == SELECTOR_SPKI:
        content = subject_public_key_info(certificate_der)
    else:
        return None
    if content is None:
        return None
    if matching_type == MATCH_FULL:
        return content
    digest = _DIGESTS.get(matching_type)
    return digest(content).digest() if digest is not None else None


def subject_public_key_info(certificate_der: bytes) -> bytes | None:
    """The DER SubjectPublicKeyInfo of a certificate, read from its own encoding (RFC 5280 4.1).

    Certificate = SEQUENCE { tbsCertificate, ... }; tbsCertificate = SEQUENCE { [0] version
    (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... }.
    """
    outer = _tlv(certificate_der, 0)
    if outer is None or outer[0] != 0x30:
        return None
    tbs = _tlv(certificate_der, outer[1])
    if tbs is None or tbs[0] != 0x30:
        return None
    offset, tbs_end = tbs[1], tbs[2]
    first = _tlv(certificate_der, offset)
    if first is None:
        return None
    if first[0] == 0xA0:  # the explicit version tag
        offset = first[2]
    for _ in range(5):  # serialNumber, signature, issuer, validity, subject
        element = _tlv(certificate_der, offset)
        if element is None or element[2] > tbs_end:
            return None
        offset = element[2]
    spki = _tlv(certificate_der, offset)
    if spki is None or spki[0] != 0x30 or spki[2] > tbs_end:
        return None
    return certificate_der[offset : spki[2]]


def _tlv(data: bytes, offset: int) -> tuple[int, int, int] | None:
    """(tag, start of the contents, end) of the DER element at ``offset``; ``None`` if malformed."""
    if offset < 0 or offset + 2 > len(data):
        return None
    tag = data[offset]
    if tag & 0x1F == 0x1F:  # multi-byte tags: none occur where we read
        return None
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):  # 0: indefinite, not DER
            return None
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        return None
    return tag, start, end


# --- matching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsaMatch:
    """Whether a record matches a presented chain, and if not, what went wrong."""

    matched: bool
    reason: str | None = None  # for a mismatch: short, to follow the record in a message


def tlsa_matches(
    record: TlsaRecord,
    chain_der: Sequence[bytes],
    *,
    reference_names: Sequence[str] = (),
    now: datetime | None = None,
) -> bool:
    """Whether a sender that verifies with ``record`` accepts the chain (see :func:`match_tlsa`)."""
    return match_tlsa(record, chain_der, reference_names=reference_names, now=now).matched


def match_tlsa(
    record: TlsaRecord,
    chain_der: Sequence[bytes],
    *,
    reference_names: Sequence[str] = (),
    now: datetime | None = None,
) -> TlsaMatch:
    """Match one record against the chain a server presented (DER, leaf first).

    ``reference_names`` and ``now`` matter for DANE-TA records only: the names the leaf must
    carry (the MX host, and the mail domain when the MX lookup was DNSSEC-secure) and the moment
    the path must be valid at (default: the current time). An unusable record never matches.
    """
    reason = unusable_reason(record)
    if reason is not None:
        return TlsaMatch(False, f"unusable: {reason}")
    if not chain_der:
        return TlsaMatch(False, "no certificate was presented")
    wanted = bytes.fromhex(record.data)
    if record.usage == DANE_EE:
        value = association_data(chain_der[0], record.selector, record.matching_type)
        if value is None:
            return TlsaMatch(False, "the leaf's public key cannot be read")
        if value != wanted:
            return TlsaMatch(False, "it does not match the leaf certificate")
        return TlsaMatch(True)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return _match_trust_anchor(record, wanted, chain_der[:_MAX_CHAIN], reference_names, moment)


def _match_trust_anchor(
    record: TlsaRecord,
    wanted: bytes,
    chain_der: Sequence[bytes],
    reference_names: Sequence[str],
    now: datetime,
) -> TlsaMatch:
    anchors = [
        der
        for der in chain_der[1:]
        if association_data(der, record.selector, record.matching_type) == wanted
    ]
    if record.selector == SELECTOR_CERT and record.matching_type == MATCH_FULL:
        anchors.append(wanted)  # the record holds the anchor itself
    if not anchors:
        if association_data(chain_der[0], record.selector, record.matching_type) == wanted:
            return TlsaMatch(
                False,
                "it matches the leaf itself, but a DANE-TA(2) record must match an issuing CA "
                "certificate sent after the leaf (for the leaf, publish it with usage 3)",
            )
        return TlsaMatch(
            False,
            "no certificate presented after the leaf matches it (the server must send the "
            "trust anchor, RFC 7672 3.1.2)",
        )
    leaf = _load(chain_der[0])
    if leaf is None:
        return TlsaMatch(False, "the leaf certificate cannot be parsed")
    issuers = [cert for cert in (_load(der) for der in chain_der[1:]) if cert is not None]
    # Report the failure of the anchor that got furthest: chain, then dates, then names.
    best: tuple[int, str] = (0, "the trust anchor cannot be parsed")
    for anchor_der in anchors:
        anchor = _load(anchor_der)
        if anchor is None:
            continue
        path = _issuing_path(leaf, anchor, issuers)
        if path is None:
            best = max(best, (1, f"the leaf does not chain to the trust anchor {_subject(anchor)}"))
            continue
        stale = [cert for cert in (leaf, *path) if not _valid_at(cert, now)]
        if stale:
            best = max(best, (2, "; ".join(_validity_problem(cert, now) for cert in stale)))
            continue
        if not any(_names_host(leaf, name) for name in reference_names):
            wanted_names = " or ".join(reference_names) or "(no name given)"
            best = max(
                best,
                (3, f"the leaf is for {_leaf_names(leaf)}, not {wanted_names} (RFC 7672 3.2.2)"),
            )
            continue
        return TlsaMatch(True)
    return TlsaMatch(False, best[1])


def _issuing_path(
    leaf: x509.Certificate, anchor: x509.Certificate, issuers: Sequence[x509.Certificate]
) -> list[x509.Certificate] | None:
    """The certificates from the leaf's issuer up to the anchor, each signing the one before;
    ``None`` if the presented certificates lead from the leaf to no such path."""
    # Breadth first over "was issued by": the shortest path, each certificate visited once.
    parent: dict[int, int | None] = {-1: None}  # -1: the leaf; i: issuers[i]
    frontier = [-1]
    while frontier:
        following: list[int] = []
        for node in frontier:
            current = leaf if node == -1 else issuers[node]
            if _issued_by(current, anchor):
                path = [anchor]
                step: int | None = node
                while step is not None and step != -1:
                    path.insert(0, issuers[step])
                    step = parent[step]
                return path
            for index, candidate in enumerate(issuers):
                if index not in parent and candidate != anchor and _issued_by(current, candidate):
                    parent[index] = node
                    following.append(index)
        frontier = following
    return None


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    if not _may_sign_certificates(issuer):
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, *_UNREADABLE):
        return False
    return True


def _may_sign_certificates(certificate: x509.Certificate) -> bool:
    """A CA certificate by its extensions; one without them (an X.509v1 root) is given the
    benefit of the doubt, as OpenSSL gives it to a trust anchor."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        if not constraints.value.ca:
            return False
    except x509.ExtensionNotFound:
        pass
    except _UNREADABLE:
        return False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        return True
    except _UNREADABLE:
        return False
    return usage.value.key_cert_sign


def _valid_at(certificate: x509.Certificate, moment: datetime) -> bool:
    return certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc


def _validity_problem(certificate: x509.Certificate, moment: datetime) -> str:
    if moment < certificate.not_valid_before_utc:
        start = certificate.not_valid_before_utc
        return f"{_subject(certificate)} is valid only from {start:%Y-%m-%d}"
    return f"{_subject(certificate)} expired on {certificate.not_valid_after_utc:%Y-%m-%d}"


def _names_host(certificate: x509.Certificate, name: str) -> bool:
    try:
        return host_name_matches(certificate, name)
    except _UNREADABLE:
        return False


def _leaf_names(certificate: x509.Certificate) -> str:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names: Iterable[str] = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    except _UNREADABLE:
        return "names that cannot be read"
    shown = ", ".join(names)
    return shown or _subject(certificate)


def _subject(certificate: x509.Certificate) -> str:
    try:
        common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if common_names:
            value = common_names[0].value
            return f"CN={value if isinstance(value, str) else value.decode('utf-8', 'replace')}"
        return certificate.subject.rfc4514_string() or "(empty subject)"
    except _UNREADABLE:
        return "(unreadable subject)"


def _load(der: bytes) -> x509.Certificate | None:
    with warnings.catch_warnings():
        # Old certificates (negative serial numbers and the like) parse with a deprecation
        # warning; they are the server's business, not an error here.
        warnings.simplefilter("ignore")
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError:
            return None


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARACTERS else f"{text[:_SHOWN_CHARACTERS]}…"

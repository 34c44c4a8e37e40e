"""Judge the certificate chain a mail server presented: describe it, check trust, check the name.

The prober connects with verification off, because it must see every server, broken ones
included, and hands over the presented chain as DER (leaf first). Everything here is pure apart
from reading a CA bundle once per run: the same chain, trust store and moment give the same
``CertificateReport``.

Each problem is reported once, by the part that owns it. Whether the leaf names the host is
``name_matches``; whether it has expired is ``days_left`` and the dates in ``chain``; weak keys and
broken signature hashes are the predicates at the end of this module. ``trusted`` answers one
question only: does the chain lead to a root in the trust store under the Web PKI rules
``cryptography`` implements?
"""

from __future__ import annotations

import functools
import ipaddress
import re
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    Subject,
    VerificationError,
)

from mailtls.errors import MailtlsError, UsageError
from mailtls.models import CertificateInfo, CertificateReport
from mailtls.tls.names import host_name_matches

# Where a system keeps its CA bundle when Python's own defaults name nothing that exists.
DEBIAN_CA_BUNDLE: Final = Path("/etc/ssl/certs/ca-certificates.crt")

# Signature hashes for which collisions can be computed: a certificate signed with one of them can
# be forged. Judged for the leaf and intermediates only (see ``issued_certificates``).
BROKEN_SIGNATURE_HASHES: Final = frozenset({"md2", "md4", "md5", "sha1"})

MINIMUM_RSA_DSA_BITS: Final = 2048
MINIMUM_EC_BITS: Final = 224

# What cryptography raises for certificates it parsed but cannot fully read (bad extensions,
# unknown name types, unknown key algorithms); callers record such chains as unreadable.
_UNREADABLE_CERTIFICATE_ERRORS: Final = (
    ValueError,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL
)


# --- Trust store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustStore:
    """The roots a chain must lead to, and the file they came from (named in messages)."""

    store: Store = field(compare=False, repr=False)
    source: Path
    size: int
    anchor_fingerprints: frozenset[bytes] = field(repr=False)

    @classmethod
    def from_certificates(
        cls, certificates: Sequence[x509.Certificate], source: Path
    ) -> TrustStore:
        if not certificates:
            raise ValueError(f"a trust store needs at least one certificate ({source})")
        return cls(
            store=Store(list(certificates)),
            source=source,
            size=len(certificates),
            anchor_fingerprints=frozenset(_sha256(cert) for cert in certificates),
        )

    def holds(self, certificate: x509.Certificate) -> bool:
        """Whether this very certificate is one of the trust anchors."""
        return _sha256(certificate) in self.anchor_fingerprints


def load_trust_store(ca_file: Path | None = None) -> TrustStore:
    """The certificates of ``ca_file`` (PEM, or a single DER certificate), else the system bundle.

    A ``ca_file`` is the user's word: an unreadable file, a file without certificates or a
    certificate that does not parse is a ``UsageError``. In the system bundle a certificate this
    version of ``cryptography`` cannot parse is skipped, as OpenSSL skips what it cannot use.
    Each file is read once per run (again only if it changes).
    """
    if ca_file is not None:
        try:
            status = ca_file.stat()
        except OSError as error:
            raise UsageError(f"cannot read CA file {ca_file}: {error.strerror}") from error
        return _load_bundle(ca_file, status.st_mtime_ns, status.st_size, strict=True)
    bundle = system_ca_bundle()
    status = bundle.stat()
    return _load_bundle(bundle, status.st_mtime_ns, status.st_size, strict=False)


def system_ca_bundle() -> Path:
    """Python's default CA file (which honours SSL_CERT_FILE), OpenSSL's, then Debian's."""
    defaults = ssl.get_default_verify_paths()
    configured = [Path(name) for name in (defaults.cafile, defaults.openssl_cafile) if name]
    candidates = [*configured, DEBIAN_CA_BUNDLE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked_in = ", ".join(str(candidate) for candidate in dict.fromkeys(candidates))
    raise MailtlsError(f"no system CA bundle found (looked in {looked_in}); pass --ca-file")


@functools.lru_cache(maxsize=8)
def _load_bundle(path: Path, mtime_ns: int, size: int, *, strict: bool) -> TrustStore:
    # mtime_ns and size are only part of the cache key: a long-running process sees a new bundle.
    del mtime_ns, size
    try:
        data = path.read_bytes()
    except OSError as error:
        message = f"cannot read CA file {path}: {error.strerror}"
        raise (UsageError(message) if strict else MailtlsError(message)) from error
    certificates = _certificates_in_bundle(data, path, strict=strict)
    if not certificates:
        message = f"CA file {path} holds no certificate (expected PEM 'BEGIN CERTIFICATE' blocks)"
        raise UsageError(message) if strict else MailtlsError(message)
    return TrustStore.from_certificates(certificates, path)


def _certificates_in_bundle(data: bytes, path: Path, *, strict: bool) -> list[x509.Certificate]:
    blocks = _PEM_CERTIFICATE.findall(data)
    if not blocks and data and b"-----BEGIN" not in data:
        try:
            return [_quietly(x509.load_der_x509_certificate, data)]
        except ValueError as error:
            if strict:
                raise UsageError(f"CA file {path} is neither PEM nor a DER certificate") from error
            return []
    certificates: list[x509.Certificate] = []
    for number, block in enumerate(blocks, start=1):
        try:
            certificates.append(_quietly(x509.load_pem_x509_certificate, block))
        except ValueError as error:
            if strict:
                raise UsageError(
                    f"CA file {path}: certificate #{number} cannot be parsed ({error})"
                ) from error
    return certificates


def _quietly(load: Callable[[bytes], x509.Certificate], data: bytes) -> x509.Certificate:
    # Real bundles and real servers carry certificates with RFC 5280 flaws (a negative serial
    # number, for one) that cryptography still parses but warns about. Judging such certificates
    # is this module's job; the warning would only be noise on the user's terminal.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return load(data)


# --- Describing one certificate ----------------------------------------------------------------


def describe_certificate(certificate: x509.Certificate) -> CertificateInfo:
    """The facts about one certificate that reports, findings and the JSON output use."""
    san = _subject_alternative_name(certificate)
    key_type, key_bits = _key_type_and_bits(certificate)
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        dns_names=tuple(san.get_values_for_type(x509.DNSName)) if san else (),
        ip_addresses=tuple(str(address) for address in _san_ip_addresses(san)),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        signature_algorithm=_oid_name(certificate.signature_algorithm_oid),
        signature_hash=_signature_hash(certificate),
        key_type=key_type,
        key_bits=key_bits,
        self_signed=is_self_signed(certificate),
        sha256_fingerprint=_sha256(certificate).hex(":").upper(),
        serial=format(certificate.serial_number, "X"),
    )


def is_self_signed(certificate: x509.Certificate) -> bool:
    """Issuer equals subject *and* the certificate's own key verifies its signature.

    Equal names alone are not enough: a CA may issue a certificate whose subject repeats its own
    name, and that certificate is not self-signed.
    """
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _sha256(certificate: x509.Certificate) -> bytes:
    return certificate.fingerprint(hashes.SHA256())


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = oid._name  # cryptography's table of well-known names; no public accessor exists
    return oid.dotted_string if name == "Unknown OID" else name


_HASH_IN_ALGORITHM_NAME = re.compile(r"^(md2|md4|md5|sha1|sha224|sha256|sha384|sha512)with", re.I)


def _signature_hash(certificate: x509.Certificate) -> str | None:
    try:
        algorithm = certificate.signature_hash_algorithm
    except UnsupportedAlgorithm:
        # md2/md4 and other hashes cryptography cannot compute: the algorithm's name still says
        # which hash was used, and those are exactly the ones worth flagging.
        found = _HASH_IN_ALGORITHM_NAME.match(_oid_name(certificate.signature_algorithm_oid))
        return found.group(1).lower() if found else None
    return algorithm.name.lower() if algorithm is not None else None


def _key_type_and_bits(certificate: x509.Certificate) -> tuple[str, int]:
    try:
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return _oid_name(certificate.public_key_algorithm_oid), 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519", 256
    if isinstance(key, x448.X448PublicKey):
        return "X448", 448
    return _oid_name(certificate.public_key_algorithm_oid), 0


def _subject_alternative_name(certificate: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _san_ip_addresses(
    san: x509.SubjectAlternativeName | None,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    if san is None:
        return []
    return [
        address
        for address in san.get_values_for_type(x509.IPAddress)
        if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    ]


# --- Analysing a presented chain ---------------------------------------------------------------


def parse_chain(chain_der: Sequence[bytes]) -> tuple[x509.Certificate, ...]:
    """The presented chain as certificates; ``ValueError`` naming the first that does not parse."""
    if not chain_der:
        raise ValueError("the server presented no certificate")
    certificates = []
    for position, der in enumerate(chain_der):
        try:
            certificates.append(_quietly(x509.load_der_x509_certificate, der))
        except ValueError as error:
            raise ValueError(
                f"{_position_name(position)} of the presented chain is not a DER certificate "
                f"({len(der)} bytes): {error}"
            ) from error
    return tuple(certificates)


def analyse_chain(
    chain_der: Sequence[bytes], *, host_name: str | None, trust: TrustStore, now: datetime
) -> CertificateReport:
    """Describe the presented chain and judge trust and name at ``now`` (timezone-aware).

    Raises ``ValueError`` for an empty chain or one holding something that is not a readable
    certificate; the caller records that as the server's fault.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    certificates = parse_chain(chain_der)
    try:
        chain = tuple(describe_certificate(certificate) for certificate in certificates)
        name_matches = None if host_name is None else host_name_matches(certificates[0], host_name)
    except _UNREADABLE_CERTIFICATE_ERRORS as error:
        raise ValueError(f"the presented chain holds an unreadable certificate: {error}") from error
    trusted, trust_error = _judge_trust(certificates, trust=trust, now=now)
    leaf = chain[0]
    return CertificateReport(
        leaf=leaf,
        chain=chain,
        checked_at=now,
        days_left=(leaf.not_after - now) // timedelta(days=1),
        trusted=trusted,
        trust_error=trust_error,
        name_checked=host_name,
        name_matches=name_matches,
    )


def _judge_trust(
    certificates: Sequence[x509.Certificate], *, trust: TrustStore, now: datetime
) -> tuple[bool, str | None]:
    """Whether the chain leads to a trust anchor, and if not, why (short, human-readable).

    Neither the host name nor the validity dates at ``now`` (aware, UTC) decide this: both are
    reported on their own, and a chain that is fine apart from them must not be called untrusted
    as well.
    """
    leaf = certificates[0]
    if trust.holds(leaf):
        # The user put this very certificate into --ca-file (a pinned self-signed certificate,
        # typically): it is trusted as it is, as OpenSSL trusts a certificate found in its store.
        return True, None
    if is_self_signed(leaf):
        return False, f"self-signed certificate not in the trust store ({trust.source})"
    subjects = _verification_subjects(leaf, trust)
    if not subjects:
        if _subject_alternative_name(leaf) is None:
            return False, (
                "cannot be validated as a server certificate: it has no subjectAltName "
                "(the name is only in the subject CN)"
            )
        return False, (
            "cannot be validated as a server certificate: its subjectAltName holds no usable "
            "DNS name or IP address"
        )
    # Servers often send their root along. A self-signed certificate can only end a path, and
    # only as a trust anchor from the store (which carries the same name and key if it is the
    # same root), so it is no use as an intermediate; offered as one, cryptography keeps choosing
    # it as its own issuer until it gives up with "exceeds max depth", hiding the real reason.
    intermediates = [cert for cert in certificates[1:] if not is_self_signed(cert)]

    failure = _verify(leaf, intermediates, subjects, trust, now)
    if failure is None:
        return True, None
    failed_at = now
    # Expiry is reported through days_left and the chain's dates. If a certificate offered to
    # the verifier is outside its validity window now, that alone makes verification at ``now``
    # fail, so verify again at the moment closest to ``now`` at which all of them are valid: that
    # answers whether the chain itself is sound. If their windows do not overlap there is no
    # such moment, and the failure at ``now`` stands.
    offered = [leaf, *intermediates]
    if not all(_valid_at(certificate, now) for certificate in offered):
        moment = _common_validity_moment(offered, near=now)
        if moment is not None:
            failure = _verify(leaf, intermediates, subjects, trust, moment)
            if failure is None:
                return True, None
            failed_at = moment
    return False, _explain_failure(failure, certificates, trust, failed_at)


def _verification_subjects(leaf: x509.Certificate, trust: TrustStore) -> list[Subject]:
    """Names the leaf itself carries, usable as the verifier's server name, best first.

    cryptography's server verifier always checks a name. The name is judged separately
    (``name_matches``), so the chain is verified for a name the leaf does carry; the choice of
    name changes nothing else, because name constraints are checked against every SAN entry.
    A wildcard entry stands in for any name in its domain, so one concrete label replaces "*".
    """
    san = _subject_alternative_name(leaf)
    if san is None:
        return []
    subjects: list[Subject] = []
    for dns_name in san.get_values_for_type(x509.DNSName):
        concrete = f"mailtls{dns_name[1:]}" if dns_name.startswith("*.") else dns_name
        if _usable_server_name(x509.DNSName(concrete), trust):
            subjects.append(x509.DNSName(concrete))
    subjects.extend(x509.IPAddress(address) for address in _san_ip_addresses(san))
    return subjects


def _usable_server_name(subject: Subject, trust: TrustStore) -> bool:
    try:
        PolicyBuilder().store(trust.store).build_server_verifier(subject)
    except ValueError:  # not a name cryptography accepts ("m*.example.com", "a_b.example")
        return False
    return True


_NO_MATCHING_NAME = "no matching subjectAltName"


def _verify(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    subjects: Sequence[Subject],
    trust: TrustStore,
    moment: datetime,
) -> str | None:
    """``None`` if the chain verifies at ``moment`` for one of ``subjects``, else the error."""
    failure = ""
    for subject in subjects:
        verifier = (
            PolicyBuilder()
            .store(trust.store)
            .time(moment)
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_EE_POLICY
            )
            .build_server_verifier(subject)
        )
        try:
            verifier.verify(leaf, intermediates)
        except VerificationError as error:
            failure = str(error)
            # A SAN entry cryptography reads differently from RFC 6125 ("*.com", say): the name
            # is not this function's question, so try the leaf's next name.
            if _NO_MATCHING_NAME in failure:
                continue
            return failure
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            return f"cannot be validated: {error}"
        return None
    return failure


# The Web PKI profile requires an authorityKeyIdentifier in a leaf. OpenSSL, SChannel and NSS,
# which the mail servers on both ends of a connection use, build chains by name without it, and
# many private-CA and "openssl x509 -req" leaves lack it: requiring it here would call chains
# untrusted that every MTA accepts.
_EE_POLICY: Final = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.AuthorityKeyIdentifier, Criticality.AGNOSTIC, None
)


def _valid_at(certificate: x509.Certificate, moment: datetime) -> bool:
    return certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc


def _common_validity_moment(
    certificates: Sequence[x509.Certificate], *, near: datetime
) -> datetime | None:
    latest_start = max(certificate.not_valid_before_utc for certificate in certificates)
    earliest_end = min(certificate.not_valid_after_utc for certificate in certificates)
    if latest_start > earliest_end:
        return None
    return min(max(near, latest_start), earliest_end)


# --- Explaining a verification failure ---------------------------------------------------------

_ENCOUNTERED = re.compile(
    r"\s*\(encountered processing <Certificate\(subject=(?P<subject>.*), \.\.\.\)>\)$"
)
_NO_ISSUER = "all candidates exhausted with no interior errors"
_FORBIDDEN_ALGORITHM = "forbidden signature algorithm"
_HASH_IN_RUST_NAME = re.compile(r"With(Sha\d+|Md\d)\b", re.I)
_DOTTED_OID = re.compile(r"\b\d+(?:\.\d+){2,}\b")
_MAX_REASON_LENGTH = 240


def _explain_failure(
    message: str, certificates: Sequence[x509.Certificate], trust: TrustStore, moment: datetime
) -> str:
    """cryptography's words, made short and pointed at the certificate concerned."""
    text = message.strip()
    for prefix in ("validation failed: ", "candidates exhausted: "):
        text = text.removeprefix(prefix)
    encountered = _ENCOUNTERED.search(text)
    about = _certificate_named(encountered.group("subject"), certificates) if encountered else None
    if encountered:
        text = text[: encountered.start()]
    lowered = text.lower()

    if _NO_ISSUER in lowered:
        return _missing_issuer(certificates, trust)
    if _FORBIDDEN_ALGORITHM in lowered:
        found = _HASH_IN_RUST_NAME.search(text)
        hash_name = found.group(1).lower() if found else None
        culprit = about or _first_broken_signature(certificates)
        reason = "signature algorithm not allowed" + (f": {hash_name}" if hash_name else "")
        return reason + (f" ({culprit})" if culprit else "")
    if "not valid at validation time" in lowered:
        outside = [
            position
            for position, cert in enumerate(certificates)
            if not _valid_at(cert, moment) and (position == 0 or not is_self_signed(cert))
        ]
        culprit = about or (_describe_position(outside[0], certificates) if outside else None)
        return "certificate outside its validity period: " + (
            culprit or "an issuing CA certificate in the trust store"
        )
    if "rsa key is too weak" in lowered:
        return f"RSA key below {MINIMUM_RSA_DSA_BITS} bits on an issuing CA certificate"

    text = _DOTTED_OID.sub(lambda match: _oid_name(x509.ObjectIdentifier(match.group())), text)
    if "{" in text:  # internal structures printed by the library say nothing to an operator
        text = text[: text.index("{")].rstrip(" :")
    if about:
        text = f"{text} ({about})"
    return text[:_MAX_REASON_LENGTH]


def _missing_issuer(certificates: Sequence[x509.Certificate], trust: TrustStore) -> str:
    top = _top_of_presented_path(certificates)
    if is_self_signed(top):
        return (
            f"root {top.subject.rfc4514_string()} sent by the server is not in the trust store "
            f"({trust.source})"
        )
    return (
        f"issuer not found in trust store ({trust.source}): {top.issuer.rfc4514_string()} "
        "(neither presented by the server nor a trusted root)"
    )


def _top_of_presented_path(certificates: Sequence[x509.Certificate]) -> x509.Certificate:
    """Follow issuer names from the leaf through the presented certificates as far as they go."""
    current, used = certificates[0], {0}
    while not is_self_signed(current):
        following = next(
            (
                position
                for position, candidate in enumerate(certificates)
                if position not in used and candidate.subject == current.issuer
            ),
            None,
        )
        if following is None:
            break
        used.add(following)
        current = certificates[following]
    return current


def _certificate_named(subject_repr: str, certificates: Sequence[x509.Certificate]) -> str | None:
    for position, certificate in enumerate(certificates):
        if repr(certificate.subject) == subject_repr:
            return _describe_position(position, certificates)
    return None


def _first_broken_signature(certificates: Sequence[x509.Certificate]) -> str | None:
    for position, certificate in enumerate(certificates):
        if position > 0 and is_self_signed(certificate):
            continue
        if _signature_hash(certificate) in BROKEN_SIGNATURE_HASHES:
            return _describe_position(position, certificates)
    return None


def _describe_position(position: int, certificates: Sequence[x509.Certificate]) -> str:
    if position == 0:
        return "leaf"
    return f"{_position_name(position)} {certificates[position].subject.rfc4514_string()}"


def _position_name(position: int) -> str:
    return "leaf" if position == 0 else f"certificate #{position + 1}"


# --- Predicates for the policy layer -----------------------------------------------------------


def weak_key(info: CertificateInfo) -> bool:
    """RSA or DSA under 2048 bits, or an elliptic curve under 224 bits.

    Keys of unknown type (size 0) are not called weak: nothing is known about them.
    """
    if info.key_type in ("RSA", "DSA"):
        return 0 < info.key_bits < MINIMUM_RSA_DSA_BITS
    if info.key_type == "EC":
        return 0 < info.key_bits < MINIMUM_EC_BITS
    return False


def broken_signature(info: CertificateInfo) -> bool:
    """Signed with a hash that admits collisions (MD5, SHA-1, ...)."""
    return info.signature_hash in BROKEN_SIGNATURE_HASHES


def issued_certificates(report: CertificateReport) -> tuple[CertificateInfo, ...]:
    """The leaf and the intermediates: the presented certificates whose signatures a client checks.

    A self-signed root sent along with the chain is a trust anchor; nobody relies on its own
    signature, so its hash says nothing (many trusted roots are SHA-1 self-signed).
    """
    return (report.leaf, *(info for info in report.chain[1:] if not info.self_signed))


def broken_signatures(report: CertificateReport) -> tuple[CertificateInfo, ...]:
    return tuple(info for info in issued_certificates(report) if broken_signature(info))


def weak_keys(report: CertificateReport) -> tuple[CertificateInfo, ...]:
    """Presented certificates with a weak key, roots included (a weak root key is forgeable)."""
    return tuple(info for info in report.chain if weak_key(info))


def outside_validity(info: CertificateInfo, moment: datetime) -> bool:
    """Expired or not yet valid at ``moment``."""
    return not info.not_before <= moment <= info.not_after

"""Certificate description, chain trust and the policy predicates, with real certificates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from mailtls.errors import MailtlsError, UsageError
from mailtls.models import CertificateReport
from mailtls.tls.certificates import (
    BROKEN_SIGNATURE_HASHES,
    TrustStore,
    analyse_chain,
    broken_signature,
    broken_signatures,
    describe_certificate,
    issued_certificates,
    load_trust_store,
    outside_validity,
    weak_key,
    weak_keys,
)
from mailtls.tls.issuing import (
    Issued,
    PrivateKey,
    issue,
    issue_sha1_signed,
    make_ca,
    new_key,
    write_ca_bundle,
)

# Whole seconds: certificates store their dates in seconds, so days_left is exact.
NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)
HOST = "mx.example.com"
OTHER_ROOT_NOT_FOUND = (
    r"issuer not found in trust store \(.*roots\.pem\): CN=mailtls other root,O=mailtls test .*"
)


@dataclass(frozen=True)
class Pki:
    root: Issued
    other_root: Issued
    intermediate: Issued
    leaf_key: PrivateKey
    trust: TrustStore
    bundle: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    # Roots and the intermediate cover a year either side of NOW, so that leaves valid in the past
    # or the future still have a moment at which the whole chain is valid.
    root = make_ca("mailtls test root", now=NOW - 365 * DAY, days=3 * 365)
    other_root = make_ca("mailtls other root", now=NOW - 365 * DAY, days=3 * 365)
    intermediate = issue(
        (),
        issuer=root,
        common_name="mailtls test intermediate",
        intermediate=True,
        not_before=NOW - 365 * DAY,
        not_after=NOW + 365 * DAY,
    )
    bundle = write_ca_bundle(tmp_path_factory.mktemp("trust") / "roots.pem", root)
    return Pki(root, other_root, intermediate, new_key(), load_trust_store(bundle), bundle)


def der(*certificates: x509.Certificate) -> tuple[bytes, ...]:
    return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in certificates)


def chain_der(issued: Issued) -> tuple[bytes, ...]:
    return der(*issued.chain)


def leaf(
    pki: Pki,
    names: tuple[str, ...] = (HOST,),
    *,
    issuer: Issued | None = None,
    valid_from: datetime = NOW - 10 * DAY,
    valid_until: datetime = NOW + 80 * DAY,
    **options: object,
) -> Issued:
    return issue(
        names,
        issuer=issuer,
        key=options.pop("key", pki.leaf_key),  # type: ignore[arg-type]
        not_before=valid_from,
        not_after=valid_until,
        **options,  # type: ignore[arg-type]
    )


def analyse(
    pki: Pki,
    chain: tuple[bytes, ...],
    host_name: str | None = HOST,
    trust: TrustStore | None = None,
) -> CertificateReport:
    return analyse_chain(chain, host_name=host_name, trust=trust or pki.trust, now=NOW)


# --- Chains: trust, expiry, names ----------------------------------------------------------------


@dataclass(frozen=True)
class ChainCase:
    """A presented chain and what the analysis must say about it."""

    build: Callable[[Pki], tuple[bytes, ...]]
    trusted: bool
    trust_error: str | None  # a regular expression the whole error must match (None: no error)
    days_left: int
    name_matches: bool | None = True
    host_name: str | None = HOST


def _sha1_leaf(pki: Pki) -> tuple[bytes, ...]:
    return chain_der(issue_sha1_signed((HOST,), issuer=pki.root))


def _leaf_without_authority_key_identifier(pki: Pki) -> tuple[bytes, ...]:
    # What "openssl x509 -req" without extensions makes: no AKI, no EKU, no basicConstraints.
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, HOST)]))
        .issuer_name(pki.root.certificate.subject)
        .public_key(pki.leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 10 * DAY)
        .not_valid_after(NOW + 80 * DAY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(pki.root.key, hashes.SHA256())
    )
    return der(certificate)


CHAIN_CASES = {
    "valid chain with intermediate": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.intermediate)),
        trusted=True,
        trust_error=None,
        days_left=80,
    ),
    "valid leaf issued by the root": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.root)), True, None, 80
    ),
    "root sent along with the chain": ChainCase(
        lambda pki: (*chain_der(leaf(pki, issuer=pki.intermediate)), *der(pki.root.certificate)),
        True,
        None,
        80,
    ),
    "expired root sent along: ignored, as clients ignore it": ChainCase(
        lambda pki: (
            *chain_der(leaf(pki, issuer=pki.intermediate)),
            *der(make_ca("mailtls retired root", now=NOW - 3000 * DAY, days=100).certificate),
        ),
        True,
        None,
        80,
    ),
    "expired leaf: the chain is still trusted": ChainCase(
        lambda pki: chain_der(
            leaf(
                pki, issuer=pki.intermediate, valid_from=NOW - 100 * DAY, valid_until=NOW - 10 * DAY
            )
        ),
        True,
        None,
        -10,
    ),
    "expired one second ago": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.root, valid_until=NOW - timedelta(seconds=1))),
        True,
        None,
        -1,
    ),
    "not yet valid leaf: the chain is still trusted": ChainCase(
        lambda pki: chain_der(
            leaf(
                pki, issuer=pki.intermediate, valid_from=NOW + 10 * DAY, valid_until=NOW + 100 * DAY
            )
        ),
        True,
        None,
        100,
    ),
    "expired intermediate, valid leaf: expiry left to the dates": ChainCase(
        lambda pki: chain_der(
            leaf(
                pki,
                issuer=issue(
                    (),
                    issuer=pki.root,
                    common_name="mailtls expired intermediate",
                    intermediate=True,
                    not_before=NOW - 200 * DAY,
                    not_after=NOW - DAY,
                ),
                valid_from=NOW - 30 * DAY,
            )
        ),
        True,
        None,
        80,
    ),
    "expired leaf whose window never meets the intermediate's": ChainCase(
        lambda pki: chain_der(
            leaf(
                pki,
                issuer=pki.intermediate,
                valid_from=NOW - 500 * DAY,
                valid_until=NOW - 400 * DAY,
            )
        ),
        False,
        r"certificate outside its validity period: leaf",
        -400,
    ),
    "expired leaf from an unknown CA: the CA is the problem, not the date": ChainCase(
        lambda pki: chain_der(
            leaf(pki, issuer=pki.other_root, valid_from=NOW - 100 * DAY, valid_until=NOW - DAY)
        ),
        False,
        OTHER_ROOT_NOT_FOUND,
        -1,
    ),
    "wrong name: still trusted": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.intermediate)),
        True,
        None,
        80,
        name_matches=False,
        host_name="mail.example.net",
    ),
    "no host name to compare (IP-only target)": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.intermediate)),
        True,
        None,
        80,
        name_matches=None,
        host_name=None,
    ),
    "IP address certificate": ChainCase(
        lambda pki: chain_der(leaf(pki, ("127.0.0.25",), issuer=pki.root)),
        True,
        None,
        80,
        host_name="127.0.0.25",
    ),
    "wildcard certificate": ChainCase(
        lambda pki: chain_der(leaf(pki, ("*.example.com",), issuer=pki.root)), True, None, 80
    ),
    "self-signed": ChainCase(
        lambda pki: chain_der(leaf(pki)),
        False,
        r"self-signed certificate not in the trust store \(.*roots\.pem\)",
        80,
    ),
    "unknown issuer": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.other_root)),
        False,
        OTHER_ROOT_NOT_FOUND,
        80,
    ),
    "intermediate not sent": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.intermediate))[:1],
        False,
        r"issuer not found in trust store \(.*\): CN=mailtls test intermediate,O=mailtls test .*",
        80,
    ),
    "untrusted root sent along": ChainCase(
        lambda pki: (
            *chain_der(leaf(pki, issuer=pki.other_root)),
            *der(pki.other_root.certificate),
        ),
        False,
        r"root CN=mailtls other root,O=mailtls test sent by the server is not in the trust store "
        r"\(.*roots\.pem\)",
        80,
    ),
    "SHA-1 signed leaf": ChainCase(
        _sha1_leaf, False, r"signature algorithm not allowed: sha1 \(leaf\)", 90
    ),
    "SHA-512 signed leaf": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.root, signature_hash=hashes.SHA512())),
        True,
        None,
        80,
    ),
    "RSA 1024 leaf: trusted, the weak key is judged apart": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.root, key=new_key("rsa", 1024))),
        True,
        None,
        80,
    ),
    "RSA 1024 intermediate": ChainCase(
        lambda pki: chain_der(
            leaf(
                pki,
                issuer=issue(
                    (),
                    issuer=pki.root,
                    common_name="mailtls weak intermediate",
                    key=new_key("rsa", 1024),
                    intermediate=True,
                ),
            )
        ),
        False,
        r"RSA key below 2048 bits on an issuing CA certificate",
        80,
    ),
    "EC P-256 leaf": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.intermediate, key=new_key("ec", 256))),
        True,
        None,
        80,
    ),
    "no subjectAltName: name in the CN only": ChainCase(
        lambda pki: chain_der(leaf(pki, (), issuer=pki.root, common_name=HOST)),
        False,
        r"cannot be validated as a server certificate: it has no subjectAltName .*",
        80,
    ),
    "CA certificate presented as the leaf": ChainCase(
        lambda pki: chain_der(leaf(pki, issuer=pki.root, intermediate=True)),
        False,
        r"basicConstraints\.cA must not be asserted in an EE certificate \(leaf\)",
        80,
    ),
    "leaf without authorityKeyIdentifier, as MTAs accept it": ChainCase(
        _leaf_without_authority_key_identifier, True, None, 80
    ),
}


@pytest.mark.parametrize("case", CHAIN_CASES.values(), ids=CHAIN_CASES.keys())
def test_analyse_chain(pki: Pki, case: ChainCase) -> None:
    presented = case.build(pki)
    report = analyse(pki, presented, case.host_name)

    assert (report.trusted, report.days_left, report.name_matches) == (
        case.trusted,
        case.days_left,
        case.name_matches,
    ), report.trust_error
    if case.trust_error is None:
        assert report.trust_error is None
    else:
        assert report.trust_error is not None
        assert re.fullmatch(case.trust_error, report.trust_error), report.trust_error
    assert report.name_checked == case.host_name
    assert report.checked_at == NOW
    assert len(report.chain) == len(presented)
    assert report.leaf == report.chain[0]
    assert report.leaf == describe_certificate(x509.load_der_x509_certificate(presented[0]))


def test_self_signed_certificate_in_ca_file_is_trusted(pki: Pki, tmp_path: Path) -> None:
    pinned = leaf(pki)
    trust = load_trust_store(write_ca_bundle(tmp_path / "pinned.pem", pinned))

    report = analyse(pki, chain_der(pinned), trust=trust)

    assert (report.trusted, report.trust_error) == (True, None)
    assert report.leaf.self_signed


def test_sha1_leaf_is_described_as_broken(pki: Pki) -> None:
    report = analyse(pki, _sha1_leaf(pki))

    assert report.leaf.signature_hash == "sha1"
    assert report.leaf.signature_algorithm == "sha1WithRSAEncryption"
    assert broken_signature(report.leaf)
    assert broken_signatures(report) == (report.leaf,)


def test_sha512_leaf_is_not_broken(pki: Pki) -> None:
    report = analyse(pki, chain_der(leaf(pki, issuer=pki.root, signature_hash=hashes.SHA512())))

    assert report.leaf.signature_hash == "sha512"
    assert report.leaf.signature_algorithm == "sha512WithRSAEncryption"
    assert not broken_signature(report.leaf)
    assert broken_signatures(report) == ()


def test_rsa_1024_leaf_is_a_weak_key(pki: Pki) -> None:
    report = analyse(pki, chain_der(leaf(pki, issuer=pki.root, key=new_key("rsa", 1024))))

    assert (report.leaf.key_type, report.leaf.key_bits) == ("RSA", 1024)
    assert weak_key(report.leaf)
    assert weak_keys(report) == (report.leaf,)


def test_ec_p256_leaf(pki: Pki) -> None:
    report = analyse(pki, chain_der(leaf(pki, issuer=pki.intermediate, key=new_key("ec", 256))))

    assert (report.leaf.key_type, report.leaf.key_bits) == ("EC", 256)
    assert report.leaf.signature_algorithm == "sha256WithRSAEncryption"  # signed by an RSA CA
    assert not weak_key(report.leaf)
    assert weak_keys(report) == ()


def test_ec_signed_certificate_names_ecdsa() -> None:
    ca = make_ca("mailtls ec root", key=new_key("ec", 384))
    info = describe_certificate(issue((HOST,), issuer=ca, key=new_key("ec", 256)).certificate)

    assert (info.signature_algorithm, info.signature_hash) == ("ecdsa-with-SHA256", "sha256")


def test_expiry_is_visible_in_the_dates_not_in_trust(pki: Pki) -> None:
    expired = leaf(pki, issuer=pki.intermediate, valid_from=NOW - 100 * DAY, valid_until=NOW - DAY)

    report = analyse(pki, chain_der(expired))

    assert report.trusted
    assert outside_validity(report.leaf, NOW)
    assert not outside_validity(report.chain[1], NOW)


def test_presented_root_is_not_judged_for_its_signature(pki: Pki) -> None:
    presented = (*chain_der(leaf(pki, issuer=pki.intermediate)), *der(pki.root.certificate))

    report = analyse(pki, presented)

    assert report.chain[2].self_signed
    assert issued_certificates(report) == report.chain[:2]


# --- describe_certificate ------------------------------------------------------------------------


def test_describe_certificate_fields(pki: Pki) -> None:
    issued = leaf(pki, (HOST, "mx2.example.com", "127.0.0.25", "::1"), issuer=pki.intermediate)
    certificate = issued.certificate

    info = describe_certificate(certificate)

    assert info.subject == f"CN={HOST},O=mailtls test"
    assert info.issuer == "CN=mailtls test intermediate,O=mailtls test"
    assert info.dns_names == (HOST, "mx2.example.com")
    assert info.ip_addresses == ("127.0.0.25", "::1")
    assert (info.not_before, info.not_after) == (NOW - 10 * DAY, NOW + 80 * DAY)
    assert info.not_before.utcoffset() == timedelta(0)  # aware, in UTC
    assert (info.signature_algorithm, info.signature_hash) == ("sha256WithRSAEncryption", "sha256")
    assert (info.key_type, info.key_bits) == ("RSA", 2048)
    assert not info.self_signed
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", info.sha256_fingerprint)
    assert (
        info.sha256_fingerprint.replace(":", "")
        == certificate.fingerprint(hashes.SHA256()).hex().upper()
    )
    assert int(info.serial, 16) == certificate.serial_number


def test_self_signed_needs_a_matching_signature_not_only_equal_names(pki: Pki) -> None:
    # Issued by the root to a subject that repeats the root's own name: issuer == subject, but
    # the root's key made the signature, not the certificate's own.
    look_alike = leaf(pki, issuer=pki.root, common_name="mailtls test root").certificate
    assert look_alike.issuer == look_alike.subject

    assert not describe_certificate(look_alike).self_signed
    assert describe_certificate(pki.root.certificate).self_signed


def test_ed25519_certificate() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, HOST)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + DAY)
        .sign(key, None)
    )

    info = describe_certificate(certificate)

    assert (info.key_type, info.key_bits) == ("Ed25519", 256)
    assert (info.signature_algorithm, info.signature_hash) == ("ed25519", None)
    assert info.self_signed
    assert not weak_key(info)
    assert not broken_signature(info)


# --- Unreadable input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ((), "the server presented no certificate"),
        (
            (b"not a certificate",),
            r"leaf of the presented chain is not a DER certificate \(17 bytes\)",
        ),
        ((b"",), "leaf of the presented chain is not a DER certificate"),
        ((None, b"\x30\x03\x02\x01\x00"), r"certificate #2 of the presented chain is not a DER"),
    ],
    ids=["empty chain", "garbage leaf", "empty leaf", "garbage intermediate"],
)
def test_garbage_der_is_a_value_error(
    pki: Pki, chain: tuple[bytes | None, ...], message: str
) -> None:
    valid = chain_der(leaf(pki, issuer=pki.root))[0]
    presented = tuple(valid if part is None else part for part in chain)

    with pytest.raises(ValueError, match=message):
        analyse(pki, presented)


def test_now_must_be_timezone_aware(pki: Pki) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        analyse_chain(
            chain_der(leaf(pki, issuer=pki.root)),
            host_name=HOST,
            trust=pki.trust,
            now=NOW.replace(tzinfo=None),
        )


# --- Trust store loading -----------------------------------------------------------------------


def test_ca_file_is_loaded_and_cached(pki: Pki, tmp_path: Path) -> None:
    bundle = write_ca_bundle(tmp_path / "two.pem", pki.root, pki.other_root)

    trust = load_trust_store(bundle)

    assert (trust.source, trust.size) == (bundle, 2)
    assert trust.holds(pki.other_root.certificate)
    assert not trust.holds(pki.intermediate.certificate)
    assert load_trust_store(bundle) is trust
    write_ca_bundle(bundle, pki.root)  # a changed file is read again
    assert load_trust_store(bundle).size == 1


def test_ca_file_in_der_form(pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "root.der"
    path.write_bytes(pki.root.certificate.public_bytes(serialization.Encoding.DER))

    trust = load_trust_store(path)

    assert trust.size == 1
    assert analyse(pki, chain_der(leaf(pki, issuer=pki.root)), trust=trust).trusted


def test_ca_file_trust_decides(pki: Pki, tmp_path: Path) -> None:
    other = load_trust_store(write_ca_bundle(tmp_path / "other.pem", pki.other_root))

    report = analyse(pki, chain_der(leaf(pki, issuer=pki.root)), trust=other)

    assert not report.trusted
    assert str(tmp_path / "other.pem") in str(report.trust_error)


def _corrupt_pem(pki: Pki) -> bytes:
    pem = pki.root.certificate_pem
    return pem.replace(pem.splitlines()[3], b"A" * len(pem.splitlines()[3]))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read CA file .*missing.pem: No such file or directory"),
        (b"", "holds no certificate"),
        (b"# just a comment\n", "is neither PEM nor a DER certificate"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "holds no certificate"),
        (_corrupt_pem, "certificate #1 cannot be parsed"),
    ],
    ids=["missing", "empty", "text", "key only", "corrupt certificate"],
)
def test_ca_file_errors(
    pki: Pki, tmp_path: Path, content: bytes | Callable[[Pki], bytes] | None, message: str
) -> None:
    path = tmp_path / "missing.pem"
    if content is not None:
        path.write_bytes(content(pki) if callable(content) else content)

    with pytest.raises(UsageError, match=message):
        load_trust_store(path)


def test_ca_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read CA file"):
        load_trust_store(tmp_path)


def test_system_bundle_honours_ssl_cert_file(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.bundle))

    trust = load_trust_store()

    assert trust.source == pki.bundle
    assert trust.holds(pki.root.certificate)


def test_system_bundle_skips_what_it_cannot_parse(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "system.pem"
    bundle.write_bytes(_corrupt_pem(pki) + pki.other_root.certificate_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    trust = load_trust_store()

    assert (trust.source, trust.size) == (bundle, 1)


def test_system_bundle_with_no_usable_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "system.pem"
    bundle.write_bytes(b"")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    with pytest.raises(MailtlsError, match="holds no certificate") as raised:
        load_trust_store()
    assert not isinstance(raised.value, UsageError)  # not the user's argument


# --- Predicates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "key_bits", "weak"),
    [
        ("RSA", 1024, True),
        ("RSA", 2047, True),
        ("RSA", 2048, False),
        ("RSA", 4096, False),
        ("DSA", 1024, True),
        ("DSA", 2048, False),
        ("EC", 192, True),
        ("EC", 224, False),
        ("EC", 256, False),
        ("Ed25519", 256, False),
        ("Ed448", 456, False),
        ("1.2.643.2.2.19", 0, False),  # unknown key type: nothing known, nothing claimed
    ],
)
def test_weak_key(pki: Pki, key_type: str, key_bits: int, weak: bool) -> None:
    info = describe_certificate(pki.root.certificate)
    assert weak_key(replace(info, key_type=key_type, key_bits=key_bits)) is weak


@pytest.mark.parametrize(
    ("signature_hash", "broken"),
    [
        ("md5", True),
        ("sha1", True),
        ("md2", True),
        ("sha224", False),
        ("sha256", False),
        (None, False),
    ],
)
def test_broken_signature(pki: Pki, signature_hash: str | None, broken: bool) -> None:
    info = describe_certificate(pki.root.certificate)
    assert broken_signature(replace(info, signature_hash=signature_hash)) is broken
    assert (signature_hash in BROKEN_SIGNATURE_HASHES) is broken

"""Make certificates for local test servers: the demo's and the test suite's.

Real-world postures need real certificates: a private CA with leaves that are valid, expired,
not yet valid, for the wrong name, self-signed, SHA-1 signed or with a weak key. Nothing here is
meant for production use.
"""

from __future__ import annotations

import ipaddress
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key and the chain a server should present."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...]  # leaf first, then intermediates (never the root)

    @property
    def chain_pem(self) -> bytes:
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in self.chain)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.crt`` (the chain) and ``stem.key``; return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{stem}.crt"
        key_path = directory / f"{stem}.key"
        cert_path.write_bytes(self.chain_pem)
        key_path.write_bytes(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


# What a certificate authority's key may do: sign certificates and CRLs.
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def new_key(kind: str = "rsa", bits: int = 2048) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if kind == "ec":
        curve = {256: ec.SECP256R1(), 384: ec.SECP384R1()}[bits]
        return ec.generate_private_key(curve)
    raise ValueError(f"unknown key kind {kind!r}")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailtls test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(
    common_name: str = "mailtls test root",
    *,
    key: PrivateKey | None = None,
    now: datetime | None = None,
    days: int = 3650,
) -> Issued:
    key = key or new_key()
    # Start long ago: a root predates the leaves it signs, including test leaves that expired
    # months ago; a root younger than its leaf would make their chain fail for the wrong reason.
    start = (now or datetime.now(UTC)) - timedelta(days=days // 2)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            _CA_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate=certificate, key=key, chain=(certificate,))


def _subject_alternative_names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def issue(
    names: tuple[str, ...],
    *,
    issuer: Issued | None = None,
    common_name: str | None = None,
    key: PrivateKey | None = None,
    signature_hash: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    intermediate: bool = False,
) -> Issued:
    """Issue a server (or, with ``intermediate``, a CA) certificate.

    Without ``issuer`` the certificate signs itself. ``names`` go into the subjectAltName (host
    names and IP addresses); an empty tuple leaves the name only in the common name, as very old
    certificates did.
    """
    key = key or new_key()
    now = datetime.now(UTC)
    # Intermediates span years, like real ones, so that they cover any test leaf's validity.
    span = timedelta(days=1825) if intermediate else timedelta(days=1)
    start = not_before or now - span
    end = not_after or now + (span if intermediate else timedelta(days=90))
    subject = _name(common_name or (names[0] if names else "mailtls test"))
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.certificate.subject if issuer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=intermediate, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if intermediate:
        builder = builder.add_extension(
            _CA_KEY_USAGE,
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_subject_alternative_names(names)), critical=False
        )
    certificate = builder.sign(signer_key, signature_hash or hashes.SHA256())
    chain: tuple[x509.Certificate, ...] = (certificate,)
    if issuer is not None and issuer.chain[0].issuer != issuer.chain[0].subject:
        chain = (certificate, *issuer.chain)  # the issuer is an intermediate: present it too
    return Issued(certificate=certificate, key=key, chain=chain)


def issue_sha1_signed(names: tuple[str, ...], *, issuer: Issued, days: int = 90) -> Issued:
    """A leaf signed with SHA-1 by ``issuer``.

    The ``cryptography`` package refuses to sign with SHA-1, so this asks the ``openssl`` command
    (present on every Debian machine) to sign a request made here.
    """
    key = new_key()
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(names[0]))
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names(names)), False)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory(prefix="mailtls-sha1-") as work:
        folder = Path(work)
        ca_cert, ca_key = issuer.write(folder, "issuer")
        (folder / "leaf.csr").write_bytes(request.public_bytes(serialization.Encoding.PEM))
        subprocess.run(
            ["openssl", "x509", "-req", "-in", str(folder / "leaf.csr"), "-CA", str(ca_cert),
             "-CAkey", str(ca_key), "-sha1", "-days", str(days), "-copy_extensions", "copy",
             "-out", str(folder / "leaf.crt")],
            check=True, capture_output=True,
        )  # fmt: skip
        certificate = x509.load_pem_x509_certificate((folder / "leaf.crt").read_bytes())
    return Issued(certificate=certificate, key=key, chain=(certificate,))


def write_ca_bundle(path: Path, *authorities: Issued) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"".join(ca.certificate.public_bytes(serialization.Encoding.PEM) for ca in authorities)
    )
    return path

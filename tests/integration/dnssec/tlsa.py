"""TLSA record data computed from the certificate chain a fleet listener serves (pure).

RFC 6698 section 2.1 (https://www.rfc-editor.org/rfc/rfc6698#section-2.1): the selector picks
the whole certificate (0) or its SubjectPublicKeyInfo (1), the matching type compares it
exactly (0) or by SHA-256 (1) or SHA-512 (2) digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .layout import Source, TlsaSpec


@dataclass(frozen=True)
class ServedChain:
    """What a listener presents: its leaf, then the intermediate it sends along (None for a
    self-signed leaf, sent alone)."""

    leaf: x509.Certificate
    intermediate: x509.Certificate | None

    @classmethod
    def from_pem(cls, pem: bytes) -> ServedChain:
        """From a PEM file holding the leaf first, then the intermediate (keys are skipped)."""
        certificates = x509.load_pem_x509_certificates(pem)
        return cls(leaf=certificates[0], intermediate=certificates[1] if certificates[1:] else None)


def _selected(certificate: x509.Certificate, selector: int) -> bytes:
    if selector == 1:
        return certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    # 0, and any undefined selector: the whole certificate.
    return certificate.public_bytes(serialization.Encoding.DER)


def _matched(data: bytes, matching_type: int) -> bytes:
    if matching_type == 0:
        return data
    if matching_type == 2:
        return hashlib.sha512(data).digest()
    # 1, and any undefined matching type: SHA-256.
    return hashlib.sha256(data).digest()


def association_data(spec: TlsaSpec, chain: ServedChain | None, label: str) -> str:
    """The record's data in lower-case hex. ``label`` seeds the data of a record that must
    match nothing (a different one per host, stable from run to run)."""
    if spec.source is Source.NOTHING:
        return _matched(f"matches no certificate: {label}".encode(), spec.matching_type).hex()
    if chain is None:
        raise ValueError(f"{label}: a {spec.source} record needs a certificate chain")
    certificate = chain.leaf if spec.source is Source.LEAF else chain.intermediate
    if certificate is None:
        raise ValueError(f"{label}: the listener sends no intermediate to match")
    return _matched(_selected(certificate, spec.selector), spec.matching_type).hex()


def tlsa_rdata(spec: TlsaSpec, chain: ServedChain | None, label: str) -> str:
    """The record as zone file data: ``usage selector matching_type hex``."""
    data = association_data(spec, chain, label)
    return f"{spec.usage} {spec.selector} {spec.matching_type} {data}"


def tlsa_rdatas(specs: Sequence[TlsaSpec], chain: ServedChain | None, label: str) -> list[str]:
    # Each record of a host gets its own label, so that two non-matching records differ.
    return [tlsa_rdata(spec, chain, f"{label}#{index}") for index, spec in enumerate(specs)]

"""The fleet's private CA and one certificate per listener, written where Postfix reads them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailtls.tls.issuing import Issued, issue, issue_sha1_signed, make_ca, write_ca_bundle

from .layout import CertificateKind, Listener, Posture


@dataclass(frozen=True)
class FleetCertificates:
    ca_file: Path  # the root only: what a client trusts
    intermediate_file: Path
    chain_files: Mapping[Posture, Path]  # private key, leaf, then intermediates, in one PEM file


def _leaf(listener: Listener, root: Issued, intermediate: Issued) -> Issued:
    names = listener.certificate_names
    kind = listener.certificate
    if kind in {CertificateKind.TRUSTED, CertificateKind.WRONG_NAME}:
        return issue(names, issuer=intermediate)
    if kind is CertificateKind.EXPIRED:
        now = datetime.now(UTC)
        return issue(
            names,
            issuer=intermediate,
            not_before=now - timedelta(days=400),
            not_after=now - timedelta(days=30),
        )
    if kind is CertificateKind.SELF_SIGNED:
        return issue(names)
    if kind is CertificateKind.SHA1_SIGNED:
        leaf = issue_sha1_signed(names, issuer=intermediate)
        # The SHA-1 helper returns the bare leaf; send the intermediate too, as a real
        # server would, so that the hash is the only fault.
        return dataclasses.replace(leaf, chain=(*leaf.chain, *intermediate.chain))
    raise ValueError(f"{listener.posture}: no certificate for kind {kind}")


def build_certificates(directory: Path, listeners: tuple[Listener, ...]) -> FleetCertificates:
    """Create the root, an intermediate and every listener's leaf under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    root = make_ca("mailtls test root")
    intermediate = issue(
        (), issuer=root, common_name="mailtls test intermediate", intermediate=True
    )
    chain_files: dict[Posture, Path] = {}
    for listener in listeners:
        if listener.certificate is CertificateKind.NONE:
            continue
        leaf = _leaf(listener, root, intermediate)
        path = directory / f"{listener.posture.value}.pem"
        # Key first, then the chain: the layout smtpd_tls_chain_files reads from one file.
        path.write_bytes(leaf.key_pem + leaf.chain_pem)
        path.chmod(0o600)
        chain_files[listener.posture] = path
    return FleetCertificates(
        ca_file=write_ca_bundle(directory / "ca.pem", root),
        intermediate_file=write_ca_bundle(directory / "intermediate.pem", intermediate),
        chain_files=chain_files,
    )

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import CertificateReport, FindingCode
from mailtls.policy.certificate import certificate_findings
from mailtls.tls import issuing
from mailtls.tls.certificates import TrustStore, analyse_chain

EXO = load_exchange_online_policy()
NOW = datetime.now(UTC)
HOST = "mx.example.net"


@pytest.fixture(scope="module")
def root() -> issuing.Issued:
    return issuing.make_ca()


@pytest.fixture(scope="module")
def trust(root: issuing.Issued) -> TrustStore:
    return TrustStore.from_certificates([root.certificate], source=Path("test-root.pem"))


def judge(leaf: issuing.Issued, trust: TrustStore, host: str = HOST) -> CertificateReport:
    chain = [cert.public_bytes(serialization.Encoding.DER) for cert in leaf.chain]
    return analyse_chain(chain, host_name=host, trust=trust, now=NOW)


def codes(report: CertificateReport) -> set[FindingCode]:
    return {f.code for f in certificate_findings(report, EXO)}


def test_a_good_certificate_has_no_findings(root: issuing.Issued, trust: TrustStore) -> None:
    assert codes(judge(issuing.issue((HOST,), issuer=root), trust)) == set()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda root: issuing.issue(
                (HOST,), issuer=root, not_before=NOW - timedelta(days=100),
                not_after=NOW - timedelta(days=10),
            ),
            {FindingCode.CERT_EXPIRED},  # expiry alone: the chain itself is trusted
        ),
        (
            lambda root: issuing.issue((HOST,), issuer=root, not_after=NOW + timedelta(days=5)),
            {FindingCode.CERT_EXPIRES_SOON},
        ),
        (
            lambda root: issuing.issue(
                (HOST,), issuer=root, not_before=NOW + timedelta(days=3),
                not_after=NOW + timedelta(days=90),
            ),
            {FindingCode.CERT_NOT_YET_VALID},
        ),
        (
            lambda root: issuing.issue(("other.example.org",), issuer=root),
            {FindingCode.CERT_NAME_MISMATCH},
        ),
        (lambda root: issuing.issue((HOST,)), {FindingCode.CERT_SELF_SIGNED}),
        (
            lambda root: issuing.issue((HOST,), issuer=issuing.make_ca("another root")),
            {FindingCode.CERT_UNTRUSTED},
        ),
        (
            lambda root: issuing.issue((HOST,), issuer=root, signature_hash=hashes.SHA512()),
            {FindingCode.CERT_SHA512_SIGNATURE},
        ),
        (
            lambda root: issuing.issue((HOST,), issuer=root, key=issuing.new_key("rsa", 1024)),
            {FindingCode.CERT_WEAK_KEY},
        ),
    ],
)  # fmt: skip
def test_each_certificate_problem_has_its_finding(
    root: issuing.Issued,
    trust: TrustStore,
    make,
    expected: set[FindingCode],  # type: ignore[no-untyped-def]
) -> None:
    assert codes(judge(make(root), trust)) == expected


def test_sha1_signature_is_flagged_with_exchange_online_refusal(
    root: issuing.Issued, trust: TrustStore
) -> None:
    report = judge(issuing.issue_sha1_signed((HOST,), issuer=root), trust)
    findings = {f.code: f.message for f in certificate_findings(report, EXO)}
    assert FindingCode.CERT_SHA1_SIGNATURE in findings
    assert "Exchange Online accepts no SHA-1" in findings[FindingCode.CERT_SHA1_SIGNATURE]


def test_sha512_finding_names_the_windows_update(root: issuing.Issued, trust: TrustStore) -> None:
    report = judge(issuing.issue((HOST,), issuer=root, signature_hash=hashes.SHA512()), trust)
    (message,) = [f.message for f in certificate_findings(report, EXO)]
    assert EXO.windows_sha512_kb in message

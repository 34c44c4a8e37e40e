"""DANE verdicts per MX host and per domain, with real certificates and every DNSSEC precondition."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.models import (
    DaneReport,
    DaneState,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    Endpoint,
    Finding,
    FindingCode,
    MxHostReport,
    Severity,
)
from mailtls.policy.dane import judge_dane_domain, judge_dane_host
from mailtls.tls import issuing

F = FindingCode
S = DaneState
SECURE, INSECURE, BOGUS = DnssecStatus.SECURE, DnssecStatus.INSECURE, DnssecStatus.BOGUS
UNVALIDATED, INDETERMINATE = DnssecStatus.UNVALIDATED, DnssecStatus.INDETERMINATE
HOST = "mx.example.com"
DOMAIN = "example.com"
TLSA_NAME = f"_25._tcp.{HOST}"
V4 = Endpoint("192.0.2.25", 25)
V6 = Endpoint("2001:db8::25", 25)
NOW = datetime.now(UTC)


def der(issued: issuing.Issued) -> bytes:
    return issued.certificate.public_bytes(serialization.Encoding.DER)


def spki_sha256(issued: issuing.Issued) -> str:
    spki = issued.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


@dataclass(frozen=True)
class Certs:
    root: issuing.Issued
    leaf: issuing.Issued  # for HOST, issued by root
    other: issuing.Issued  # self-signed, for HOST: "the certificate after a renewal"
    chain: tuple[bytes, ...]  # leaf + root, as a DANE-TA server sends it

    @property
    def r311(self) -> str:
        return f"3 1 1 {spki_sha256(self.leaf)}"

    @property
    def r201(self) -> str:
        return f"2 0 1 {hashlib.sha256(der(self.root)).hexdigest()}"


@pytest.fixture(scope="module")
def certs() -> Certs:
    root = issuing.make_ca("dane policy root")
    leaf = issuing.issue((HOST,), issuer=root)
    other = issuing.issue((HOST,))
    return Certs(root, leaf, other, (der(leaf), der(root)))


def tlsa(
    *records: str,
    dnssec: DnssecStatus | None = SECURE,
    status: DnsStatus = DnsStatus.OK,
    detail: str | None = None,
) -> DnsOutcome:
    return DnsOutcome(TLSA_NAME, "TLSA", status, tuple(records), detail=detail, dnssec=dnssec)


def judge(
    answer: DnsOutcome,
    chains: dict[Endpoint, tuple[bytes, ...]],
    *,
    mx: DnssecStatus | None = SECURE,
    addresses: DnssecStatus | None = SECURE,
    next_hop: str | None = None,
    now: datetime = NOW,
) -> tuple[DaneReport, list[Finding]]:
    return judge_dane_host(
        HOST,
        answer,
        mx_dnssec=mx,
        host_dnssec=addresses,
        chains=chains,
        next_hop=next_hop,
        now=now,
    )


def codes(findings: list[Finding]) -> list[FindingCode]:
    return [found.code for found in findings]


def message(findings: list[Finding], code: FindingCode) -> str:
    return next(found.message for found in findings if found.code is code)


# --- records honoured: everything DNSSEC-secure --------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        "r311",
        "3 0 1 {leaf_cert}",
        "3 1 2 {leaf_spki_512}",
        "3 1 0 {leaf_spki}",
        "r201",
        "2 1 1 {root_spki}",
    ],
)
def test_a_matching_usable_record_makes_the_host_valid(certs: Certs, record: str) -> None:
    spki = certs.leaf.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = (
        getattr(certs, record)
        if record.startswith("r")
        else record.format(
            leaf_cert=hashlib.sha256(der(certs.leaf)).hexdigest(),
            leaf_spki_512=hashlib.sha512(spki).hexdigest(),
            leaf_spki=spki.hex(),
            root_spki=spki_sha256(certs.root),
        )
    )
    report, findings = judge(tlsa(text), {V4: certs.chain, V6: certs.chain})
    assert report.state is S.VALID
    assert [(r.endpoint, r.state, r.matched) for r in report.addresses] == [
        (V4, S.VALID, (0,)),
        (V6, S.VALID, (0,)),
    ]
    assert codes(findings) == [F.DANE_VALID]
    assert findings[0].severity is Severity.INFO
    assert HOST in findings[0].message
    assert "2 address(es)" in findings[0].message


def test_a_mismatch_names_the_address_and_the_value_the_admin_should_publish(
    certs: Certs,
) -> None:
    report, findings = judge(tlsa(f"3 1 1 {spki_sha256(certs.other)}"), {V4: certs.chain})
    assert report.state is S.MISMATCH
    assert report.addresses[0].state is S.MISMATCH
    assert report.addresses[0].matched == ()
    assert codes(findings) == [F.DANE_MISMATCH]
    text = message(findings, F.DANE_MISMATCH)
    assert findings[0].severity is Severity.CRITICAL
    assert str(V4) in text
    assert f"Published: 3 1 1 {spki_sha256(certs.other)}" in text
    assert f"presented leaf: {certs.r311}" in text  # the value to compare with, or to publish
    assert "Exchange Online" in text
    assert "4.7.323" in text


def test_the_presented_values_follow_the_kinds_of_record_published(certs: Certs) -> None:
    wrong = "00" * 64
    report, _ = judge(tlsa(f"3 0 2 {wrong}"), {V4: certs.chain})
    expected = hashlib.sha512(der(certs.leaf)).hexdigest()
    assert report.addresses[0].detail == f"presented leaf: 3 0 2 {expected}"


def test_one_address_out_of_two_presenting_another_certificate_is_a_mismatch(
    certs: Certs,
) -> None:
    report, findings = judge(tlsa(certs.r311), {V4: certs.chain, V6: (der(certs.other),)})
    assert report.state is S.MISMATCH
    assert [r.state for r in report.addresses] == [S.VALID, S.MISMATCH]
    text = message(findings, F.DANE_MISMATCH)
    assert str(V6) in text
    assert f"{V4}," not in text
    assert f"3 1 1 {spki_sha256(certs.other)}" in text  # what V6 presents


def test_rollover_two_records_the_current_one_matches(certs: Certs) -> None:
    next_key = f"3 1 1 {spki_sha256(certs.other)}"
    report, findings = judge(tlsa(next_key, certs.r311), {V4: certs.chain})
    assert report.state is S.VALID
    assert report.addresses[0].matched == (1,)
    assert codes(findings) == [F.DANE_VALID]


def test_digest_agility_a_stronger_wrong_digest_hides_the_right_one(certs: Certs) -> None:
    report, findings = judge(tlsa(certs.r311, f"3 1 2 {'00' * 64}"), {V4: certs.chain})
    assert report.state is S.MISMATCH
    detail = report.addresses[0].detail
    assert detail is not None
    assert f"{certs.r311} matches, but a SHA2-512 record" in detail
    assert "RFC 7671 9" in message(findings, F.DANE_MISMATCH)


@pytest.mark.parametrize(
    ("records", "unusable"),
    [
        (["1 1 1 {leaf}"], "PKIX-EE(1)"),
        (["0 0 1 {root}"], "PKIX-TA(0)"),
        (["4 1 1 {leaf}"], "certificate usage 4 is not defined"),
        (["3 1 1 abcd"], "this one 2"),
        (["3 1 1 zz"], "'3 1 1 zz': TLSA association data 'zz' is not hexadecimal"),
    ],
)
def test_only_unusable_records_mean_tls_without_authentication(
    certs: Certs, records: list[str], unusable: str
) -> None:
    texts = [
        r.format(leaf=spki_sha256(certs.leaf), root=hashlib.sha256(der(certs.root)).hexdigest())
        for r in records
    ]
    report, findings = judge(tlsa(*texts), {V4: certs.chain})
    assert report.state is S.UNUSABLE
    assert report.addresses[0].state is S.UNUSABLE
    assert codes(findings) == [F.DANE_UNUSABLE_RECORDS]
    text = findings[0].message
    assert unusable in text
    assert "insist on TLS" in text


def test_unusable_records_beside_a_usable_one_are_a_warning(certs: Certs) -> None:
    report, findings = judge(
        tlsa(f"1 1 1 {spki_sha256(certs.leaf)}", certs.r311), {V4: certs.chain}
    )
    assert report.state is S.VALID
    assert report.addresses[0].matched == (1,)
    assert codes(findings) == [F.DANE_UNUSABLE_RECORDS, F.DANE_VALID]
    assert "the usable records decide" in findings[0].message


def test_an_address_without_a_chain_is_not_tested(certs: Certs) -> None:
    report, findings = judge(tlsa(certs.r311), {V4: certs.chain, V6: ()})
    assert report.state is S.VALID
    assert [r.state for r in report.addresses] == [S.VALID, S.NOT_TESTED]
    assert f"{V6} not tested" in message(findings, F.DANE_VALID)
    report, findings = judge(tlsa(certs.r311), {V4: (), V6: ()})
    assert report.state is S.NOT_TESTED
    assert findings == []


def test_dane_ta_names_the_next_hop_only_after_a_secure_mx_lookup(certs: Certs) -> None:
    leaf = issuing.issue((DOMAIN,), issuer=certs.root)  # names the mail domain, not the host
    chains = {V4: (der(leaf), der(certs.root))}
    report, _ = judge(tlsa(certs.r201), chains, next_hop=DOMAIN)
    assert report.state is S.VALID
    report, findings = judge(tlsa(certs.r201), chains, next_hop=DOMAIN, mx=INSECURE)
    assert report.state is S.MISMATCH
    assert f"the leaf is for {DOMAIN}, not {HOST}" in message(findings, F.DANE_MISMATCH)


def test_dane_ta_checks_dates_dane_ee_does_not(certs: Certs) -> None:
    later = NOW + timedelta(days=200)  # the leaf expired by then
    report, findings = judge(tlsa(certs.r201), {V4: certs.chain}, now=later)
    assert report.state is S.MISMATCH
    assert "expired on" in message(findings, F.DANE_MISMATCH)
    report, _ = judge(tlsa(certs.r311), {V4: certs.chain}, now=later)
    assert report.state is S.VALID


# --- preconditions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    tlsa_dnssec: DnssecStatus | None = SECURE
    mx: DnssecStatus | None = SECURE
    addresses: DnssecStatus | None = SECURE
    matching: bool = True
    state: DaneState = S.VALID
    codes: list[FindingCode] = field(default_factory=list)


PRECONDITIONS = [
    Case("all secure", codes=[F.DANE_VALID]),
    Case("host given directly: no MX answer", mx=None, codes=[F.DANE_VALID]),
    Case("TLSA insecure", tlsa_dnssec=INSECURE, state=S.NOT_SECURE, codes=[F.DANE_NOT_SECURE]),
    Case(
        "TLSA insecure, mismatching",
        tlsa_dnssec=INSECURE,
        matching=False,
        state=S.NOT_SECURE,
        codes=[F.DANE_NOT_SECURE],
    ),
    Case(
        "TLSA and MX insecure",
        tlsa_dnssec=INSECURE,
        mx=INSECURE,
        state=S.NOT_SECURE,
        codes=[F.DANE_NOT_SECURE],
    ),
    Case(
        "addresses insecure", addresses=INSECURE, state=S.NOT_SECURE, codes=[F.DANE_MX_NOT_SECURE]
    ),
    Case(
        "MX insecure, records match", mx=INSECURE, state=S.NOT_SECURE, codes=[F.DANE_MX_NOT_SECURE]
    ),
    # Postfix still authenticates with secure TLSA records after an insecure MX lookup
    Case(
        "MX insecure, mismatching",
        mx=INSECURE,
        matching=False,
        state=S.MISMATCH,
        codes=[F.DANE_MX_NOT_SECURE, F.DANE_MISMATCH],
    ),
    Case("resolver does not validate", tlsa_dnssec=UNVALIDATED, state=S.NOT_TESTED),
    Case("MX unvalidated", mx=UNVALIDATED, matching=False, state=S.NOT_TESTED),
    Case("addresses indeterminate", addresses=INDETERMINATE, state=S.NOT_TESTED),
    Case("TLSA not judged", tlsa_dnssec=None, state=S.NOT_TESTED),
    Case("addresses not judged", addresses=None, matching=False, state=S.NOT_TESTED),
    Case("MX bogus", mx=BOGUS, state=S.BOGUS),  # reported once per domain by dnssec_findings
    Case("addresses bogus", addresses=BOGUS, matching=False, state=S.BOGUS),
]


@pytest.mark.parametrize("case", PRECONDITIONS, ids=lambda case: case.name)
def test_records_count_only_when_every_answer_is_secure(certs: Certs, case: Case) -> None:
    record = certs.r311 if case.matching else f"3 1 1 {spki_sha256(certs.other)}"
    report, findings = judge(
        tlsa(record, dnssec=case.tlsa_dnssec),
        {V4: certs.chain},
        mx=case.mx,
        addresses=case.addresses,
    )
    assert report.state is case.state
    assert codes(findings) == case.codes
    assert report.host_dnssec is case.addresses
    # whatever the verdict, the address says whether its chain matches
    assert report.addresses[0].state is (S.VALID if case.matching else S.MISMATCH)


def test_the_insecure_mx_messages_say_who_still_uses_the_records(certs: Certs) -> None:
    _, findings = judge(tlsa(f"3 1 1 {spki_sha256(certs.other)}"), {V4: certs.chain}, mx=INSECURE)
    assert "Postfix" in message(findings, F.DANE_MX_NOT_SECURE)
    assert "Exchange Online" in message(findings, F.DANE_MX_NOT_SECURE)
    assert message(findings, F.DANE_MISMATCH).count("Postfix") == 1
    _, findings = judge(tlsa(certs.r311, dnssec=INSECURE), {V4: certs.chain})
    assert "they match 1 of 1 tested address(es)" in message(findings, F.DANE_NOT_SECURE)


def test_a_bogus_tlsa_answer_defers_mail_for_dane_senders(certs: Certs) -> None:
    answer = tlsa(status=DnsStatus.SERVFAIL, dnssec=BOGUS, detail="SERVFAIL")
    report, findings = judge(answer, {V4: certs.chain})
    assert report.state is S.BOGUS
    assert report.addresses == ()
    assert codes(findings) == [F.DNSSEC_BOGUS]
    assert findings[0].severity is Severity.CRITICAL
    assert TLSA_NAME in findings[0].message


@pytest.mark.parametrize("status", [DnsStatus.NXDOMAIN, DnsStatus.NO_DATA])
@pytest.mark.parametrize("dnssec", [SECURE, INSECURE, None])
def test_no_tlsa_records_is_not_configured(
    certs: Certs, status: DnsStatus, dnssec: DnssecStatus | None
) -> None:
    report, findings = judge(tlsa(status=status, dnssec=dnssec), {V4: certs.chain})
    assert (report.state, report.records, report.addresses, findings) == (
        S.NOT_CONFIGURED,
        (),
        (),
        [],
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (DnsStatus.SERVFAIL, F.DNS_SERVFAIL),
        (DnsStatus.TIMEOUT, F.DNS_TIMEOUT),
        (DnsStatus.ERROR, F.DNS_ERROR),
    ],
)
def test_a_failed_tlsa_lookup_makes_the_host_unreachable_for_dane_senders(
    certs: Certs, status: DnsStatus, code: FindingCode
) -> None:
    answer = tlsa(status=status, dnssec=INDETERMINATE, detail="the resolver's words")
    report, findings = judge(answer, {V4: certs.chain})
    assert report.state is S.NOT_TESTED
    assert codes(findings) == [code]
    assert "the resolver's words" in findings[0].message
    assert "unreachable" in findings[0].message
    # senders do not ask for TLSA records of a host whose addresses are in an unsigned zone
    _, findings = judge(answer, {V4: certs.chain}, addresses=INSECURE)
    assert findings == []


# --- the domain ----------------------------------------------------------------------------------


def mx_host(name: str, state: DaneState | None) -> MxHostReport:
    dane = None
    if state is not None:
        answer = DnsOutcome(f"_25._tcp.{name}", "TLSA", DnsStatus.OK, dnssec=SECURE)
        dane = DaneReport(answer, SECURE, (), (), state)
    return MxHostReport(name, 10, False, (), (), dane=dane)


@pytest.mark.parametrize(
    ("states", "domain_state", "partial"),
    [
        ([None, None], None, False),
        ([S.VALID, S.VALID], S.VALID, False),
        ([S.VALID, None], S.VALID, False),  # a host not looked at is not "without DANE"
        ([S.VALID, S.NOT_CONFIGURED], S.VALID, True),
        ([S.VALID, S.NOT_SECURE], S.VALID, True),
        ([S.VALID, S.NOT_TESTED], S.VALID, False),
        ([S.MISMATCH, S.VALID], S.MISMATCH, False),
        ([S.MISMATCH, S.NOT_CONFIGURED], S.MISMATCH, True),
        ([S.UNUSABLE, S.NOT_CONFIGURED], S.UNUSABLE, True),
        ([S.BOGUS, S.MISMATCH], S.BOGUS, False),
        ([S.NOT_SECURE, S.NOT_CONFIGURED], S.NOT_SECURE, False),
        ([S.NOT_TESTED, S.NOT_CONFIGURED], S.NOT_TESTED, False),
        ([S.NOT_CONFIGURED, S.NOT_CONFIGURED], S.NOT_CONFIGURED, False),
    ],
)
def test_the_domain_verdict(
    states: list[DaneState | None], domain_state: DaneState | None, partial: bool
) -> None:
    hosts = [mx_host(f"mx{i}.example.com", state) for i, state in enumerate(states, 1)]
    state, findings = judge_dane_domain(hosts)
    assert state is domain_state
    assert codes(findings) == ([F.DANE_PARTIAL] if partial else [])


def test_partial_dane_names_both_sides() -> None:
    hosts = [mx_host("mx1.example.com", S.VALID), mx_host("mx2.example.com", S.NOT_CONFIGURED)]
    _, findings = judge_dane_domain(hosts)
    assert findings[0].severity is Severity.INFO
    assert findings[0].message.startswith("mx1.example.com has DNSSEC-secure TLSA records, ")
    assert "mx2.example.com has none" in findings[0].message


@given(
    records=st.lists(st.text(max_size=100), min_size=1, max_size=4),
    dnssec=st.sampled_from([*DnssecStatus, None]),
    mx=st.sampled_from([*DnssecStatus, None]),
    chain=st.lists(st.binary(max_size=200), max_size=3),
)
@settings(max_examples=150)
def test_any_tlsa_answer_yields_a_verdict(
    records: list[str], dnssec: DnssecStatus | None, mx: DnssecStatus | None, chain: list[bytes]
) -> None:
    report, findings = judge(tlsa(*records, dnssec=dnssec), {V4: tuple(chain)}, mx=mx)
    assert report.state in DaneState
    assert len(report.addresses) <= 1
    assert all(found.message for found in findings)

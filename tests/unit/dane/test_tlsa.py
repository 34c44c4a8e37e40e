"""TLSA records: parsing, usability, digest agility, and matching against real certificate chains."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.dane.tlsa import (
    association_data,
    describe,
    match_tlsa,
    parse_tlsa,
    record_text,
    subject_public_key_info,
    superseded_records,
    tlsa_matches,
    unusable_reason,
)
from mailtls.models import TlsaRecord
from mailtls.tls import issuing

HOST = "mx.example.com"
DOMAIN = "example.com"
NOW = datetime.now(UTC)


def der(issued: issuing.Issued) -> bytes:
    return issued.certificate.public_bytes(serialization.Encoding.DER)


def spki(issued: issuing.Issued) -> bytes:
    return issued.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


@dataclass(frozen=True)
class Pki:
    root: issuing.Issued
    intermediate: issuing.Issued
    leaf: issuing.Issued  # for HOST, issued by the intermediate
    stranger: issuing.Issued  # another root, in no chain
    chain: tuple[bytes, ...]  # leaf, intermediate, root: what a DANE-TA server sends


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = issuing.make_ca("dane test root")
    intermediate = issuing.issue(
        ("ca.example.com",), issuer=root, intermediate=True, common_name="dane test intermediate"
    )
    leaf = issuing.issue((HOST,), issuer=intermediate)
    stranger = issuing.make_ca("another root")
    return Pki(root, intermediate, leaf, stranger, (der(leaf), der(intermediate), der(root)))


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 1 1 ABCDEF01", TlsaRecord(3, 1, 1, "abcdef01")),
        ("3 1 1 abcd ef01", TlsaRecord(3, 1, 1, "abcdef01")),  # dnspython splits long data
        ("  2 0 1\tAB  CD \n", TlsaRecord(2, 0, 1, "abcd")),
        ("255 255 255 00", TlsaRecord(255, 255, 255, "00")),
        ("4 1 1 00", TlsaRecord(4, 1, 1, "00")),  # undefined usage: parsed, judged unusable
        ("003 01 1 00", TlsaRecord(3, 1, 1, "00")),
    ],
)
def test_the_presentation_form_parses(text: str, expected: TlsaRecord) -> None:
    assert parse_tlsa(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "got 0 field"),
        ("3 1 1", "got 3 field"),
        ("3 1 x 00", "matching type 'x' is not a number"),
        ("256 1 1 00", "usage '256' is not a number from 0 to 255"),
        ("-1 1 1 00", "usage '-1'"),
        ("3 ² 1 00", "selector '²'"),
        ("3 1 1 abcg", "not hexadecimal"),
        ("3 1 1 abc", "odd number of hex digits"),
        ("3 1 1 ab c", "odd number of hex digits"),
        ("\\# 4 0301 0100", "TLSA usage .* is not a number"),  # RFC 3597 generic form
        ("3 1 1 " + "z" * 500, "…"),  # quoted, but cut
    ],
)
def test_malformed_records_raise_a_clear_value_error(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_tlsa(text)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_random_text_parses_or_raises_value_error_only(text: str) -> None:
    try:
        record = parse_tlsa(text)
    except ValueError:
        return
    assert 0 <= record.usage <= 255
    assert record.data == record.data.lower()
    assert len(record.data) % 2 == 0


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(min_size=1, max_size=80),
    st.integers(1, 40),
)
def test_a_record_survives_its_presentation_form(
    usage: int, selector: int, matching: int, data: bytes, chunk: int
) -> None:
    hexed = data.hex().upper()
    chunks = " ".join(hexed[i : i + chunk * 2] for i in range(0, len(hexed), chunk * 2))
    record = parse_tlsa(f"{usage} {selector} {matching} {chunks}")
    assert record == TlsaRecord(usage, selector, matching, data.hex())
    assert parse_tlsa(record_text(record, limit=10_000)) == record


# --- usability and agility ---------------------------------------------------------------------

DIGEST = "00" * 32


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (TlsaRecord(3, 1, 1, DIGEST), None),
        (TlsaRecord(2, 0, 1, DIGEST), None),
        (TlsaRecord(3, 1, 2, "00" * 64), None),
        (TlsaRecord(3, 0, 0, "3082"), None),
        (TlsaRecord(0, 0, 1, DIGEST), "PKIX-TA(0) relies on public CAs"),
        (TlsaRecord(1, 1, 1, DIGEST), "PKIX-EE(1) relies on public CAs"),
        (TlsaRecord(4, 1, 1, DIGEST), "certificate usage 4 is not defined"),
        (TlsaRecord(3, 2, 1, DIGEST), "selector 2 is not defined"),
        (TlsaRecord(3, 1, 3, DIGEST), "matching type 3 is not defined"),
        (TlsaRecord(3, 1, 1, "00" * 31), "SHA2-256 digest has 32 bytes, this one 31"),
        (TlsaRecord(3, 1, 2, DIGEST), "SHA2-512 digest has 64 bytes, this one 32"),
    ],
)
def test_records_smtp_cannot_use_say_why(record: TlsaRecord, reason: str | None) -> None:
    found = unusable_reason(record)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_records_read_by_their_rfc_7218_names() -> None:
    assert describe(TlsaRecord(3, 1, 1, DIGEST)) == "DANE-EE(3) SPKI(1) SHA2-256(1)"
    assert describe(TlsaRecord(9, 0, 7, DIGEST)) == "unknown(9) Cert(0) unknown(7)"
    assert record_text(TlsaRecord(3, 0, 0, "ab" * 100), limit=8) == "3 0 0 abababab…"


@pytest.mark.parametrize(
    ("records", "superseded"),
    [
        # RFC 7671 9: with "3 1 1" and "3 1 2" published, SHA-512 capable senders use only the latter
        ([TlsaRecord(3, 1, 1, DIGEST), TlsaRecord(3, 1, 2, "00" * 64)], {0}),
        # ... but a Full record is never superseded, and other kinds are judged on their own
        ([TlsaRecord(3, 1, 0, "3082"), TlsaRecord(3, 1, 2, "00" * 64)], set()),
        ([TlsaRecord(3, 1, 1, DIGEST), TlsaRecord(3, 0, 2, "00" * 64)], set()),
        ([TlsaRecord(3, 1, 1, DIGEST), TlsaRecord(2, 1, 2, "00" * 64)], set()),
        # an unusable SHA-512 record (wrong length) supersedes nothing
        ([TlsaRecord(3, 1, 1, DIGEST), TlsaRecord(3, 1, 2, DIGEST)], set()),
        ([TlsaRecord(3, 1, 1, DIGEST), TlsaRecord(3, 1, 1, "11" * 32)], set()),
    ],
)
def test_digest_agility(records: list[TlsaRecord], superseded: set[int]) -> None:
    assert superseded_records(records) == superseded


# --- what a certificate contributes ------------------------------------------------------------


@pytest.mark.parametrize(("kind", "bits"), [("rsa", 2048), ("ec", 256), ("ec", 384)])
def test_the_spki_is_read_from_the_certificate_as_cryptography_encodes_it(
    kind: str, bits: int
) -> None:
    leaf = issuing.issue((HOST,), key=issuing.new_key(kind, bits))
    assert subject_public_key_info(der(leaf)) == spki(leaf)
    assert association_data(der(leaf), 1, 1) == hashlib.sha256(spki(leaf)).digest()
    assert association_data(der(leaf), 0, 2) == hashlib.sha512(der(leaf)).digest()
    assert association_data(der(leaf), 0, 0) == der(leaf)


@pytest.mark.parametrize(
    "garbage", [b"", b"\x30", b"\x30\x80\x00\x00", b"\x30\x03\x30\x01", b"junk" * 10]
)
def test_no_spki_in_what_is_no_certificate(garbage: bytes) -> None:
    assert subject_public_key_info(garbage) is None
    assert association_data(garbage, 1, 1) is None
    assert association_data(garbage, 0, 1) == hashlib.sha256(garbage).digest()
    assert association_data(garbage, 2, 1) is None


# --- matching ----------------------------------------------------------------------------------


def test_dane_ee_matches_the_leaf_in_every_selector_and_matching_type(pki: Pki) -> None:
    leaf = pki.chain[0]
    records = [
        f"3 1 1 {sha256(spki(pki.leaf))}",
        f"3 0 1 {sha256(leaf)}",
        f"3 1 2 {sha512(spki(pki.leaf))}",
        f"3 0 2 {sha512(leaf)}",
        f"3 1 0 {spki(pki.leaf).hex()}",
        f"3 0 0 {leaf.hex()}",
    ]
    for text in records:
        assert tlsa_matches(parse_tlsa(text), pki.chain), text
        assert tlsa_matches(parse_tlsa(text), pki.chain[:1]), text  # the chain does not matter


@pytest.mark.parametrize(
    "text",
    [
        "3 1 1 {other_spki}",
        "3 0 1 {intermediate}",  # an issuer's hash is no DANE-EE match
        "3 1 2 {leaf_spki_sha256_as_512}",
    ],
)
def test_dane_ee_mismatches(pki: Pki, text: str) -> None:
    other = issuing.issue((HOST,))
    record = parse_tlsa(
        text.format(
            other_spki=sha256(spki(other)),
            intermediate=sha256(pki.chain[1]),
            leaf_spki_sha256_as_512=sha256(spki(pki.leaf)) * 2,
        )
    )
    found = match_tlsa(record, pki.chain)
    assert not found.matched
    assert found.reason == "it does not match the leaf certificate"


def test_dane_ee_ignores_names_and_dates(pki: Pki) -> None:
    # RFC 7672 3.1.1: a self-signed, expired leaf for another name still matches its record.
    expired = issuing.issue(
        ("elsewhere.example.net",),
        not_before=NOW - timedelta(days=400),
        not_after=NOW - timedelta(days=30),
    )
    record = parse_tlsa(f"3 1 1 {sha256(spki(expired))}")
    assert tlsa_matches(record, (der(expired),), reference_names=(HOST,), now=NOW)


@pytest.mark.parametrize(
    ("template", "anchor"),
    [
        ("2 0 1 {cert}", "root"),
        ("2 1 1 {spki}", "root"),
        ("2 0 1 {cert}", "intermediate"),
        ("2 1 1 {spki}", "intermediate"),
        ("2 0 2 {cert512}", "intermediate"),
        ("2 1 0 {spki_full}", "root"),
    ],
)
def test_dane_ta_matches_an_issuer_in_the_chain(pki: Pki, template: str, anchor: str) -> None:
    issued = pki.root if anchor == "root" else pki.intermediate
    record = parse_tlsa(
        template.format(
            cert=sha256(der(issued)),
            spki=sha256(spki(issued)),
            cert512=sha512(der(issued)),
            spki_full=spki(issued).hex(),
        )
    )
    assert match_tlsa(record, pki.chain, reference_names=(HOST,), now=NOW).matched


def test_dane_ta_finds_the_path_whatever_the_order_of_the_chain(pki: Pki) -> None:
    record = parse_tlsa(f"2 0 1 {sha256(der(pki.root))}")
    shuffled = (pki.chain[0], pki.chain[2], pki.chain[1])
    assert tlsa_matches(record, shuffled, reference_names=(HOST,), now=NOW)


def test_dane_ta_accepts_the_mail_domain_and_wildcards(pki: Pki) -> None:
    for names in [("*.example.com",), (DOMAIN,)]:
        leaf = issuing.issue(names, issuer=pki.intermediate)
        chain = (der(leaf), pki.chain[1], pki.chain[2])
        record = parse_tlsa(f"2 0 1 {sha256(der(pki.root))}")
        # "*.example.com" names mx.example.com; "example.com" is the next-hop domain
        assert tlsa_matches(record, chain, reference_names=(HOST, DOMAIN), now=NOW), names


@dataclass(frozen=True)
class TaCase:
    name: str
    leaf_names: tuple[str, ...]
    reference_names: tuple[str, ...]
    reason: str


@pytest.mark.parametrize(
    "case",
    [
        TaCase(
            "another name",
            ("other.example.net",),
            (HOST,),
            "the leaf is for other.example.net, not mx.example.com",
        ),
        # a wildcard stands for one label only, and never for the domain itself
        TaCase("deep wildcard", ("*.example.com",), ("a.mx.example.com",), "not a.mx.example.com"),
        TaCase("wildcard for the domain", ("*.example.com",), (DOMAIN,), "not example.com"),
        TaCase("no reference name", (HOST,), (), "not (no name given)"),
    ],
    ids=lambda case: case.name,
)
def test_dane_ta_checks_the_leaf_names(pki: Pki, case: TaCase) -> None:
    leaf = issuing.issue(case.leaf_names, issuer=pki.intermediate)
    chain = (der(leaf), pki.chain[1], pki.chain[2])
    found = match_tlsa(
        parse_tlsa(f"2 0 1 {sha256(der(pki.root))}"),
        chain,
        reference_names=case.reference_names,
        now=NOW,
    )
    assert not found.matched
    assert found.reason is not None
    assert case.reason in found.reason


def test_dane_ta_needs_the_anchor_in_the_chain(pki: Pki) -> None:
    record = parse_tlsa(f"2 0 1 {sha256(der(pki.root))}")
    found = match_tlsa(record, pki.chain[:2], reference_names=(HOST,), now=NOW)
    assert not found.matched
    assert found.reason is not None
    assert "must send the trust anchor" in found.reason


def test_a_full_certificate_record_is_its_own_anchor(pki: Pki) -> None:
    # RFC 7671 5.2.2: "2 0 0" carries the anchor, so the server need not send it.
    record = parse_tlsa(f"2 0 0 {der(pki.root).hex()}")
    assert tlsa_matches(record, pki.chain[:2], reference_names=(HOST,), now=NOW)


def test_dane_ta_never_matches_the_leaf_itself() -> None:
    leaf = issuing.issue((HOST,))  # self-signed
    found = match_tlsa(
        parse_tlsa(f"2 1 1 {sha256(spki(leaf))}"), (der(leaf),), reference_names=(HOST,), now=NOW
    )
    assert not found.matched
    assert found.reason is not None
    assert "matches the leaf itself" in found.reason
    assert "usage 3" in found.reason


def test_dane_ta_needs_the_leaf_to_chain_to_the_anchor(pki: Pki) -> None:
    # The stranger root is presented and matches the record, but did not issue anything here.
    chain = (pki.chain[0], pki.chain[1], der(pki.stranger))
    found = match_tlsa(
        parse_tlsa(f"2 0 1 {sha256(der(pki.stranger))}"), chain, reference_names=(HOST,), now=NOW
    )
    assert not found.matched
    assert found.reason == "the leaf does not chain to the trust anchor CN=another root"


def test_dane_ta_needs_each_issuer_to_be_a_ca(pki: Pki) -> None:
    # A leaf certificate (CA:FALSE) "issuing" another leaf is no trust path.
    not_a_ca = issuing.issue(("ca.example.com",), issuer=pki.root)
    below = issuing.issue((HOST,), issuer=not_a_ca)
    chain = (der(below), der(not_a_ca), pki.chain[2])
    found = match_tlsa(
        parse_tlsa(f"2 0 1 {sha256(der(not_a_ca))}"), chain, reference_names=(HOST,), now=NOW
    )
    assert not found.matched
    assert found.reason is not None
    assert "does not chain" in found.reason


@pytest.mark.parametrize(
    ("shift", "problem"),
    [(timedelta(days=120), "expired on"), (timedelta(days=-3), "is valid only from")],
)
def test_dane_ta_checks_the_dates_on_the_path(pki: Pki, shift: timedelta, problem: str) -> None:
    record = parse_tlsa(f"2 0 1 {sha256(der(pki.root))}")
    found = match_tlsa(record, pki.chain, reference_names=(HOST,), now=NOW + shift)
    assert not found.matched
    assert found.reason is not None
    assert problem in found.reason
    assert f"CN={HOST}" in found.reason


def test_dane_ta_reports_the_failure_of_the_anchor_that_got_furthest(pki: Pki) -> None:
    # Two presented certificates match "2 0 1" (the same root twice would too): the second one
    # chains, so its name failure is reported, not the first one's missing path.
    leaf = issuing.issue(("other.example.net",), issuer=pki.intermediate)
    chain = (der(leaf), der(pki.stranger), pki.chain[1], pki.chain[2])
    records = [
        TlsaRecord(2, 0, 1, sha256(der(pki.stranger))),
        TlsaRecord(2, 0, 1, sha256(der(pki.root))),
    ]
    reasons = [match_tlsa(r, chain, reference_names=(HOST,), now=NOW).reason for r in records]
    assert reasons[0] is not None
    assert "does not chain" in reasons[0]
    assert reasons[1] is not None
    assert "the leaf is for other.example.net" in reasons[1]


@pytest.mark.parametrize(
    "text", ["1 1 1 {spki}", "0 0 1 {root}", "4 1 1 {spki}", "3 2 1 {spki}", "3 1 7 {spki}"]
)
def test_unusable_records_never_match_even_with_the_right_data(pki: Pki, text: str) -> None:
    record = parse_tlsa(text.format(spki=sha256(spki(pki.leaf)), root=sha256(der(pki.root))))
    found = match_tlsa(record, pki.chain, reference_names=(HOST,), now=NOW)
    assert not found.matched
    assert found.reason is not None
    assert found.reason.startswith("unusable: ")


def test_no_chain_no_match(pki: Pki) -> None:
    found = match_tlsa(parse_tlsa(f"3 1 1 {sha256(spki(pki.leaf))}"), ())
    assert found == match_tlsa(parse_tlsa(f"2 0 1 {sha256(der(pki.root))}"), ())
    assert found.reason == "no certificate was presented"


def test_an_unparseable_leaf_still_matches_by_its_bytes(pki: Pki) -> None:
    garbage = b"not a certificate at all"
    assert tlsa_matches(parse_tlsa(f"3 0 1 {sha256(garbage)}"), (garbage,))
    found = match_tlsa(parse_tlsa(f"3 1 1 {sha256(spki(pki.leaf))}"), (garbage,))
    assert found.reason == "the leaf's public key cannot be read"
    ta = match_tlsa(
        parse_tlsa(f"2 0 1 {sha256(der(pki.root))}"),
        (garbage, der(pki.root)),
        reference_names=(HOST,),
    )
    assert ta.reason == "the leaf certificate cannot be parsed"


@given(
    record=st.builds(
        TlsaRecord,
        st.sampled_from([0, 1, 2, 3, 4, 255]),
        st.sampled_from([0, 1, 2]),
        st.sampled_from([0, 1, 2, 3]),
        st.binary(min_size=1, max_size=70).map(bytes.hex),
    ),
    chain=st.lists(st.binary(max_size=300), max_size=4),
    names=st.lists(st.text(max_size=30), max_size=2),
)
@settings(max_examples=200)
def test_matching_anything_never_raises(
    record: TlsaRecord, chain: list[bytes], names: list[str]
) -> None:
    found = match_tlsa(record, chain, reference_names=names, now=NOW)
    assert found.matched in (True, False)
    assert found.matched or found.reason

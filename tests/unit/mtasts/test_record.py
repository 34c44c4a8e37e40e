"""The _mta-sts TXT record: RFC 8461 3.1's grammar and the choice among several TXT records."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.mtasts.record import (
    StsRecord,
    StsRecordLookup,
    parse_sts_record,
    select_sts_record,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=STSv1; id=20160831085700Z;", StsRecord("20160831085700Z")),  # RFC 8461 3.1's example
        ("v=STSv1; id=20160831085700Z", StsRecord("20160831085700Z")),
        ("v=STSv1;id=1", StsRecord("1")),
        ("v=STSv1 ;\tid=abc ; ", StsRecord("abc")),  # sts-sep = *WSP ";" *WSP
        ("v=STSv1; id=" + "a" * 32, StsRecord("a" * 32)),
        ("v=STSv1; id=1; x-ext=va:l/ue", StsRecord("1", (("x-ext", "va:l/ue"),))),
        ("v=STSv1; ext.1=a; id=2", StsRecord("2", (("ext.1", "a"),))),
        ("v=STSv1; id=first; id=second", StsRecord("first")),  # the first counts
    ],
)
def test_valid_records(text: str, expected: StsRecord) -> None:
    assert parse_sts_record(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v=STSv1", "no fields after the version"),
        ("v=STSv1;", "no fields after the version"),
        ("v=STSv1 id=1", "must be followed by ';'"),
        ("v=STSv1; id=", "1 to 32 letters or digits, not ''"),
        ("v=STSv1; id=" + "a" * 33, "1 to 32 letters or digits"),
        ("v=STSv1; id=2024-01-01", "1 to 32 letters or digits, not '2024-01-01'"),
        ("v=STSv1; id = 1", "not name=value: 'id = 1'"),
        ("v=STSv1; ID=1", "no id field (field names are case-sensitive: 'id')"),
        ("v=STSv1; ext=1", "no id field"),
        ("v=STSv1; id=1;; x=2", "field 2 is empty"),
        ("v=STSv1; id=1; x=a b", "without ';', '=' or spaces: 'a b'"),
        ("v=STSv1; id=1; x=a=b", "must be visible ASCII without ';', '='"),
        ("v=STSv1; id=1; _x=1", "not name=value"),
        ("v=STSv1; id=1; x=é", "must be visible ASCII"),
        ("v=STSv10; id=1", "must be followed by ';', not '0'"),
        ("v=STSv2; id=1", "does not begin with 'v=STSv1'"),
        ("V=STSv1; id=1", "does not begin with 'v=STSv1'"),
    ],
)
def test_invalid_records_say_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_sts_record(text)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], StsRecordLookup(None, None)),
        (["v=spf1 -all"], StsRecordLookup(None, None)),
        (["v=spf1 -all", "v=STSv1; id=1"], StsRecordLookup(StsRecord("1"), None)),
        # a near miss among real records is discarded silently, as senders do
        (["v=STSv1; id=1", "V=STSV1; id=2"], StsRecordLookup(StsRecord("1"), None)),
    ],
)
def test_senders_discard_records_of_other_kinds(
    records: list[str], expected: StsRecordLookup
) -> None:
    assert select_sts_record(records) == expected


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        (["v=STSv1; id=1", "v=STSv1; id=2"], "2 TXT records begin with 'v=STSv1'"),
        (["v=STSv1; id=1", "v=STSv1; id=1"], "2 TXT records"),
        (["v=STSv1 id=1"], "does not begin with 'v=STSv1' followed by ';'"),
        (["v=stsv1; id=1"], "the version is case-sensitive"),
        (["v=STSv1; id=x-y"], "1 to 32 letters or digits"),
    ],
)
def test_a_record_senders_cannot_use_is_a_problem(records: list[str], problem: str) -> None:
    found = select_sts_record(records)
    assert found.record is None
    assert found.problem is not None
    assert problem in found.problem


@given(st.lists(st.text(max_size=120), max_size=4))
def test_random_txt_records_never_raise(records: list[str]) -> None:
    found = select_sts_record(records)
    assert found.record is None or found.problem is None
    if found.record is not None:
        assert 1 <= len(found.record.id) <= 32


@given(st.text(max_size=200))
def test_random_text_parses_or_raises_value_error(text: str) -> None:
    try:
        record = parse_sts_record("v=STSv1;" + text)
    except ValueError:
        return
    assert record.id.isascii()
    assert record.id.isalnum()


def test_a_huge_record_is_judged_quickly() -> None:
    text = "v=STSv1; id=1; " + "; ".join(f"x{i}=v" for i in range(20_000))
    assert parse_sts_record(text).id == "1"
    assert select_sts_record(["v=STSv1; id=" + "9" * 100_000]).problem is not None

"""Reading a scan's list: plain lines and CSV columns, problems with their line numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.errors import UsageError
from mailtls.models import TargetKind
from mailtls.scan.listing import ColumnChoice, InputProblem, read_csv_list, read_plain_list
from mailtls.store import ListedTarget


def split(entries: list[ListedTarget | InputProblem]) -> tuple[list[tuple[int, str]], list[int]]:
    targets = [(e.line, e.target.name) for e in entries if isinstance(e, ListedTarget)]
    problems = [e.line for e in entries if isinstance(e, InputProblem)]
    return targets, problems


def test_plain_lists_skip_comments_and_blanks_and_normalise_names() -> None:
    lines = [
        "# partners\n",
        "Example.COM.\n",
        "\n",
        "bücher.example  # IDN, with a comment\n",
        "[mx.example.net]:2525\n",
        "192.0.2.7\n",
        "two words\n",
        "bad_label-.example\n",
        "   \n",
    ]
    entries = list(read_plain_list(lines))
    targets, problems = split(entries)
    assert targets == [
        (2, "example.com"),
        (4, "xn--bcher-kva.example"),
        (5, "mx.example.net"),
        (6, "192.0.2.7"),
    ]
    assert problems == [7, 8]
    kinds = [e.target.kind for e in entries if isinstance(e, ListedTarget)]
    assert kinds == [TargetKind.DOMAIN, TargetKind.DOMAIN, TargetKind.HOST, TargetKind.ADDRESS]
    port = next(e for e in entries if isinstance(e, ListedTarget) and e.line == 5)
    assert port.target.port == 2525
    reasons = [e.reason for e in entries if isinstance(e, InputProblem)]
    assert reasons[0] == "more than one word on the line"
    assert "not a valid domain name" in reasons[1]


def test_a_named_csv_column_is_found_in_the_header() -> None:
    lines = ["Rank,Domain,Note\n", '1,example.com,"first, really"\n', "2,,empty\n", "3\n"]
    targets, problems = split(list(read_csv_list(lines, ColumnChoice.parse("domain"))))
    assert targets == [(2, "example.com")]
    assert problems == [3, 4]


def test_a_csv_column_by_position_needs_no_header() -> None:
    lines = ["1,example.com\n", "2,example.org\n", "# a comment row\n", "3,example.net\n"]
    targets, problems = split(list(read_csv_list(lines, ColumnChoice.parse("2"))))
    assert targets == [(1, "example.com"), (2, "example.org"), (4, "example.net")]
    assert problems == []


def test_a_missing_column_is_a_usage_error_naming_the_header() -> None:
    with pytest.raises(UsageError, match=r"no column 'host'.*'rank', 'domain'"):
        list(read_csv_list(["rank,domain\n", "1,example.com\n"], ColumnChoice.parse("host")))


@pytest.mark.parametrize("text", ["0", "", "  "])
def test_bad_column_choices_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        ColumnChoice.parse(text)


@given(st.lists(st.text(max_size=300), max_size=30))
def test_no_line_makes_the_readers_raise(lines: list[str]) -> None:
    for entry in read_plain_list(lines):
        assert isinstance(entry, ListedTarget | InputProblem)
    for entry in read_csv_list(lines, ColumnChoice(position=1)):
        assert isinstance(entry, ListedTarget | InputProblem)


def test_long_bad_lines_are_shortened_in_their_problem() -> None:
    (problem,) = list(read_plain_list(["x" * 500 + " y\n"]))
    assert isinstance(problem, InputProblem)
    assert len(problem.text) == 80
    assert problem.text.endswith("...")

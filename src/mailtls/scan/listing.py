"""A scan's list of targets: one per line, or one column of a CSV file (pure, streaming).

Blank lines and ``#`` comments are ignored; domains are normalised like ``check``'s targets
(IDN to A-labels, lower case, no trailing dot). A line that is not a target becomes an
:class:`InputProblem` with its line number and the run goes on. Duplicates are dropped by the
store when the run is created, so the list is never held in memory here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from mailtls.errors import UsageError
from mailtls.store import ListedTarget
from mailtls.targets import parse_target

_SHOWN_TEXT = 80  # characters of a bad line repeated in its problem


@dataclass(frozen=True)
class InputProblem:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class ColumnChoice:
    """Which CSV column holds the targets: by header name, or by 1-based position."""

    name: str | None = None
    position: int | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnChoice:
        if text.isdigit():
            if int(text) < 1:
                raise UsageError("--column: positions start at 1")
            return cls(position=int(text))
        if not text.strip():
            raise UsageError("--column is empty: give a header name or a position (1, 2, ...)")
        return cls(name=text.strip())


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _SHOWN_TEXT else text[: _SHOWN_TEXT - 3] + "..."


def _entry(text: str, line: int, default_port: int) -> ListedTarget | InputProblem:
    try:
        return ListedTarget(line, parse_target(text, default_port=default_port))
    except UsageError as problem:
        return InputProblem(line, _shown(text), str(problem))


def read_plain_list(
    lines: Iterable[str], *, default_port: int = 25
) -> Iterator[ListedTarget | InputProblem]:
    """Targets from a list with one per line."""
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        if len(text.split()) > 1:
            yield InputProblem(number, _shown(raw), "more than one word on the line")
            continue
        yield _entry(text, number, default_port)


def read_csv_list(
    lines: Iterable[str], column: ColumnChoice, *, default_port: int = 25
) -> Iterator[ListedTarget | InputProblem]:
    """Targets from one column of a CSV file; a named column needs a header row."""
    reader = csv.reader(lines)
    index = None if column.name else (column.position or 1) - 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # A stray carriage return or NUL byte: this line is lost, the reader goes on.
            yield InputProblem(reader.line_num, "", f"not readable as CSV: {error}")
            continue
        number = reader.line_num
        if index is None:
            if not any(cell.strip() for cell in row):
                continue
            headers = [cell.strip().lower() for cell in row]
            wanted = (column.name or "").lower()
            if wanted not in headers:
                raise UsageError(
                    f"line {number}: no column {column.name!r} in the header "
                    f"({', '.join(repr(h) for h in headers[:10])})"
                )
            index = headers.index(wanted)
            continue
        if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if index >= len(row):
            yield InputProblem(number, _shown(",".join(row)), f"no column {index + 1} on this line")
            continue
        text = row[index].strip()
        if not text:
            yield InputProblem(number, _shown(",".join(row)), "the target column is empty")
            continue
        yield _entry(text, number, default_port)

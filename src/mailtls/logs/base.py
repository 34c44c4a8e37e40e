"""What every log parser is: a pure, line-at-a-time machine from log lines to sessions.

Parsers may keep state (a Postfix smtpd process logs connect, TLS and disconnect on separate
lines), but only per open session, so memory follows the number of concurrent sessions, never
the size of the log. A parser never raises for what a line contains: a line it cannot read is
reported as UNPARSED and the batch goes on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mailtls.models import LogFormat, SessionObservation


class LineKind(StrEnum):
    USED = "used"  # the line carried session or TLS facts
    IGNORED = "ignored"  # a well-formed line with nothing for us (another program, a queue event)
    UNPARSED = "unparsed"  # fits no shape we know: garbage, truncated, another format


@dataclass(frozen=True)
class FeedResult:
    kind: LineKind
    observations: tuple[SessionObservation, ...] = ()


USED = FeedResult(LineKind.USED)
IGNORED = FeedResult(LineKind.IGNORED)
UNPARSED = FeedResult(LineKind.UNPARSED)


@dataclass(frozen=True)
class LinesResult:
    """What a run of consecutive lines gave: how many of each kind, and the sessions."""

    used: int
    ignored: int
    unparsed: tuple[int, ...]  # the indexes (in the run) of the UNPARSED lines
    observations: tuple[SessionObservation, ...]


class LogParser(ABC):
    """One log format. ``origin`` names the line ("mail.log:1234") for examples and reports."""

    format: LogFormat

    @abstractmethod
    def feed(self, line: str, origin: str) -> FeedResult:
        """Read one line (without its line ending); return what it completed."""

    def feed_lines(
        self, lines: Sequence[str], source: str, first_number: int, *, block: str | None = None
    ) -> LinesResult:
        """Read consecutive lines of ``source``, the first of them its line ``first_number``;
        ``block``, if given, is the same lines as one text, each ended by "\\n".

        The same as :meth:`feed` on each line with the origin ``"source:number"``. Parsers of
        logs with millions of lines override it to spell an origin out only where a session
        needs one, and to count lines without a result per line.
        """
        ignored = 0
        unparsed: list[int] = []
        observations: list[SessionObservation] = []
        for index, line in enumerate(lines):
            result = self.feed(line, f"{source}:{first_number + index}")
            if result.kind is LineKind.IGNORED:
                ignored += 1
            elif result.kind is LineKind.UNPARSED:
                unparsed.append(index)
            observations.extend(result.observations)
        used = len(lines) - ignored - len(unparsed)
        return LinesResult(used, ignored, tuple(unparsed), tuple(observations))

    def finish(self) -> tuple[SessionObservation, ...]:
        """Sessions still open at the end of input (e.g. connect seen, disconnect not yet)."""
        return ()

    def warnings(self) -> tuple[str, ...]:
        """What the log cannot show, and the setting that would make it show it."""
        return ()


def keep_first(kept: set[str], value: str, limit: int) -> None:
    """Add ``value`` to ``kept``, which holds at most ``limit`` values: the first in
    alphabetical order, so that what is kept does not depend on the order values come in (a log
    read in parts keeps what one pass keeps)."""
    if value in kept:
        return
    if len(kept) < limit:
        kept.add(value)
        return
    last = max(kept)
    if value < last:
        kept.discard(last)
        kept.add(value)

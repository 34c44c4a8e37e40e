"""Read the named logs, parse each with the parser of its format, and build the report.

Inputs are read in order (rotated sets oldest first), each detected on its first lines unless a
format is forced. One parser per format serves every input of that format, so a session that
spans a log rotation is still one session.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailtls import __version__
from mailtls.logs.aggregate import PeerAggregator, tls12_impact
from mailtls.logs.base import LinesResult, LogParser
from mailtls.logs.detect import detect_format, parser_for
from mailtls.logs.inputs import LineBatch, LineReader, Source, expand_sources
from mailtls.logs.report import BELOW_TLS12, LogsReport, SessionKind, SourceSummary
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import LOGS_SCHEMA_VERSION, LogFormat, SessionObservation

DETECTION_LINES = 200
UNPARSED_EXAMPLES = 5

EXIT_CLEAN = 0  # sessions found, none below TLS 1.2 and none in plaintext
EXIT_LEGACY_FOUND = 1  # sessions below TLS 1.2 or in plaintext
EXIT_NOTHING_FOUND = 3  # no session in any input


@dataclass
class _SourceTally:
    """Counts for one input while it is read (mutable; frozen into a SourceSummary after)."""

    name: str
    format: LogFormat | None = None
    lines: int = 0
    used: int = 0
    ignored: int = 0
    unparsed: int = 0
    too_long: int = 0
    sessions: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    examples: list[str] = field(default_factory=list)

    def count(self, lines: Sequence[str], first_number: int, result: LinesResult) -> None:
        """Count a run of lines by what the parser made of them."""
        self.lines += len(lines)
        self.used += result.used
        self.ignored += result.ignored
        self.unparsed += len(result.unparsed)
        for index in result.unparsed:
            self.example(lines[index], first_number + index)

    def count_unparsed(self, lines: Sequence[str], first_number: int, *, cut: bool) -> None:
        """Count a run of lines that no parser read (no format), or that were cut."""
        self.lines += len(lines)
        self.unparsed += len(lines)
        if cut:
            self.too_long += len(lines)
        for index, line in enumerate(lines[: UNPARSED_EXAMPLES - len(self.examples)]):
            self.example(line, first_number + index)

    def example(self, line: str, number: int) -> None:
        if len(self.examples) < UNPARSED_EXAMPLES:
            self.examples.append(f"{self.name}:{number}: {line[:200]}")

    def saw(self, observation: SessionObservation) -> None:
        self.sessions += 1
        moment = observation.timestamp
        if moment is not None:
            self.first_seen = moment if self.first_seen is None else min(self.first_seen, moment)
            self.last_seen = moment if self.last_seen is None else max(self.last_seen, moment)

    def summary(self, problems: tuple[str, ...]) -> SourceSummary:
        return SourceSummary(
            name=self.name,
            format=self.format,
            lines=self.lines,
            used=self.used,
            ignored=self.ignored,
            unparsed=self.unparsed,
            too_long=self.too_long,
            sessions=self.sessions,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            problems=problems,
            unparsed_examples=tuple(self.examples),
        )


class _Run:
    def __init__(self, log_format: LogFormat | None, year: int | None) -> None:
        self.forced_format = log_format
        self.years = YearGuesser(year)
        self.parsers: dict[LogFormat, LogParser] = {}
        self.peers = PeerAggregator()
        self.last_tally: dict[LogFormat, _SourceTally] = {}

    def parser(self, log_format: LogFormat) -> LogParser:
        if log_format not in self.parsers:
            self.parsers[log_format] = parser_for(log_format, self.years)
        return self.parsers[log_format]

    def read(self, source: Source) -> SourceSummary:
        reader = LineReader(source)
        batches = reader.batches()
        head: list[LineBatch] = []
        for batch in batches:
            head.append(batch)
            if batch.last_number >= DETECTION_LINES:
                break
        tally = _SourceTally(source.name)
        first_lines = [text for batch in head for text in batch.texts][:DETECTION_LINES]
        tally.format = self.forced_format or detect_format(first_lines)
        parser = None if tally.format is None else self.parser(tally.format)
        if tally.format is not None:
            self.last_tally[tally.format] = tally
        for batch in itertools.chain(head, batches):
            self.feed(parser, batch, tally)
        # The summary names the source already: say where in it, and what.
        problems = tuple(
            f"after line {p.line_number}: {p.message}" if p.line_number else p.message
            for p in reader.problems
        )
        if tally.format is None and tally.lines:
            problems += ("not a log format mailtls knows (use --format to force one)",)
        return tally.summary(problems)

    def feed(self, parser: LogParser | None, batch: LineBatch, tally: _SourceTally) -> None:
        """One batch of lines to the parser, in runs between the lines that were cut (most
        batches have none: one run)."""
        texts, first = batch.texts, batch.first_number
        start = 0
        for cut in sorted(number - first for number in batch.too_long):
            self.feed_run(parser, texts[start:cut], first + start, tally)
            self.feed_run(parser, texts[cut : cut + 1], first + cut, tally, cut=True)
            start = cut + 1
        self.feed_run(parser, texts[start:] if start else texts, first + start, tally)

    def feed_run(
        self,
        parser: LogParser | None,
        lines: Sequence[str],
        first_number: int,
        tally: _SourceTally,
        *,
        cut: bool = False,
    ) -> None:
        """A line that was cut still goes to the parser (it may open or end a session), but
        counts as unparsed whatever the parser made of it."""
        if not lines:
            return
        if parser is None:
            tally.count_unparsed(lines, first_number, cut=cut)
            return
        result = parser.feed_lines(lines, tally.name, first_number)
        add_to_peers, add_to_source = self.peers.add, tally.saw
        for observation in result.observations:
            add_to_peers(observation)
            add_to_source(observation)
        if cut:
            tally.count_unparsed(lines, first_number, cut=cut)
        else:
            tally.count(lines, first_number, result)

    def record(self, observation: SessionObservation, tally: _SourceTally) -> None:
        self.peers.add(observation)
        tally.saw(observation)

    def finish(self) -> tuple[str, ...]:
        """Close sessions still open at the end; collect what each parser warns about."""
        warnings: list[str] = []
        for log_format, parser in self.parsers.items():
            for observation in parser.finish():
                self.record(observation, self.last_tally[log_format])
            warnings.extend(parser.warnings())
        return tuple(warnings)


def exit_code_for(totals: dict[SessionKind, int]) -> int:
    if not any(totals.values()):
        return EXIT_NOTHING_FOUND
    weak = sum(totals[k] for k in BELOW_TLS12) + totals[SessionKind.PLAINTEXT]
    return EXIT_LEGACY_FOUND if weak else EXIT_CLEAN


def analyse_logs(
    names: Sequence[str],
    *,
    log_format: LogFormat | None = None,
    year: int | None = None,
    impact: bool = False,
) -> LogsReport:
    """Parse every named input; failures of inputs are in the report, never raised."""
    sources, problems = expand_sources(names)
    run = _Run(log_format, year)
    summaries = [run.read(source) for source in sources]
    # Sessions closed by finish() belong to the last input of their format; recount them there.
    warnings = run.finish()
    summaries = [
        run.last_tally[s.format].summary(s.problems)
        if s.format is not None and run.last_tally.get(s.format) is not None
        and run.last_tally[s.format].name == s.name
        else s
        for s in summaries
    ]  # fmt: skip
    summaries += [
        SourceSummary(str(p.source), None, 0, 0, 0, 0, 0, 0, None, None, (p.message,), ())
        for p in problems
    ]
    peers = run.peers.peers()
    totals = dict(run.peers.totals)
    return LogsReport(
        schema_version=LOGS_SCHEMA_VERSION,
        tool_version=__version__,
        generated_at=datetime.now(UTC),
        sources=tuple(summaries),
        peers=peers,
        totals=totals,
        warnings=warnings,
        impact=tls12_impact(peers) if impact else None,
        exit_code=exit_code_for(totals),
    )

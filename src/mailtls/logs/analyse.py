"""Read the named logs, parse each with the parser of its format, and build the report.

Inputs are read in order (rotated sets oldest first), each detected on its first lines unless a
format is forced. One parser per format serves every input of that format, so a session that
spans a log rotation is still one session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from mailtls import __version__
from mailtls.logs.aggregate import PeerAggregator, PeerRows, tls12_impact
from mailtls.logs.base import LineKind, LinesResult, LogParser
from mailtls.logs.detect import detect_format, parser_for
from mailtls.logs.inputs import InputProblem, LineBatch, LineReader, Source, expand_sources
from mailtls.logs.parts import MIN_PART_BYTES, byte_ranges, map_parts, part_count
from mailtls.logs.postfix import PostfixParser
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
    examples: list[tuple[int, str]] = field(default_factory=list)  # (line number, line)

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
            self.examples.append((number, line[:200]))

    def count_held(self, number: int | None, line: str, kind: LineKind | None) -> None:
        """A line a part held back (see PostfixParser.hold), now read; None: counted already."""
        if kind is LineKind.USED:
            self.used += 1
        elif kind is LineKind.IGNORED:
            self.ignored += 1
        elif kind is LineKind.UNPARSED:
            self.unparsed += 1
            if number is not None:
                self.add_examples([(number, line[:200])])

    def merge(self, part: _SourceTally, line_offset: int) -> None:
        """Add the counts of a part of this source whose lines start ``line_offset`` lines in."""
        self.lines += part.lines
        self.used += part.used
        self.ignored += part.ignored
        self.unparsed += part.unparsed
        self.too_long += part.too_long
        self.sessions += part.sessions
        for moment in (part.first_seen, part.last_seen):
            if moment is not None:
                self.widen(moment)
        self.add_examples([(number + line_offset, line) for number, line in part.examples])

    def add_examples(self, found: list[tuple[int, str]]) -> None:
        """Examples met out of order (a part's, a held line's): the first lines are kept."""
        self.examples = sorted(self.examples + found)[:UNPARSED_EXAMPLES]

    def saw(self, observation: SessionObservation) -> None:
        self.sessions += 1
        moment = observation.timestamp
        if moment is not None:
            self.widen(moment)

    def saw_all(self, observations: Sequence[SessionObservation]) -> None:
        """``saw`` each one: a run's sessions at once (their times span a few seconds)."""
        self.sessions += len(observations)
        moments = [o.timestamp for o in observations if o.timestamp is not None]
        if moments:
            self.widen(min(moments))
            self.widen(max(moments))

    def widen(self, moment: datetime) -> None:
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
            unparsed_examples=tuple(f"{self.name}:{n}: {line}" for n, line in self.examples),
        )


class _Run:
    def __init__(
        self,
        log_format: LogFormat | None,
        year: int | None,
        *,
        jobs: int = 1,
        min_part_bytes: int = MIN_PART_BYTES,
    ) -> None:
        self.forced_format = log_format
        self.years = YearGuesser(year)
        self.jobs = jobs
        self.min_part_bytes = min_part_bytes
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
        ranges = self.parts_of(source, reader, tally.format)
        read_problems: Sequence[InputProblem]
        if ranges:
            batches.close()
            read_problems = self.read_parts(source, ranges, tally)
        else:
            for batch in itertools.chain(head, batches):
                self.feed(parser, batch, tally)
            read_problems = reader.problems
        # The summary names the source already: say where in it, and what.
        problems = tuple(
            f"after line {p.line_number}: {p.message}" if p.line_number else p.message
            for p in read_problems
        )
        if tally.format is None and tally.lines:
            problems += ("not a log format mailtls knows (use --format to force one)",)
        return tally.summary(problems)

    def parts_of(
        self, source: Source, reader: LineReader, log_format: LogFormat | None
    ) -> list[tuple[int, int]]:
        """The byte ranges to read a source in, one process each; none: read it in one pass."""
        if (
            self.jobs < 2
            or log_format is not LogFormat.POSTFIX
            or source.path is None
            or reader.compression is not None
            or reader.encoding != "utf-8"
            or reader.byte_order_mark
        ):
            return []
        try:
            size = os.stat(source.path).st_size
        except OSError:
            return []  # gone since: the one-pass reader says so
        parts = part_count(size, self.jobs, self.min_part_bytes)
        ranges = byte_ranges(str(source.path), size, parts) if parts > 1 else []
        return ranges if len(ranges) > 1 else []

    def read_parts(
        self, source: Source, ranges: list[tuple[int, int]], tally: _SourceTally
    ) -> list[InputProblem]:
        """Read a Postfix log's byte ranges in processes of their own, then add them up in
        order, as if read in one pass (see mailtls.logs.parts)."""
        parser = self.parser(LogFormat.POSTFIX)
        assert isinstance(parser, PostfixParser)
        tasks = [
            _PartTask(source, part, self.years.year, self.years.last_month if not index else None)
            for index, part in enumerate(ranges)
        ]
        try:
            outcomes = map_parts(read_part, tasks, self.jobs)
        except (BrokenProcessPool, OSError):  # a process died, or none could start
            outcomes = [read_part(task) for task in tasks]  # read here instead
        problems: list[InputProblem] = []
        offset = 0
        for task, first_reading in zip(tasks, outcomes, strict=True):
            outcome = first_reading
            if task.last_month is None and not outcome.parser.years.carries_on_from(
                self.years, task.year
            ):
                # A new year began before this part: read it again knowing so.
                again = _PartTask(source, task.byte_range, self.years.year, self.years.last_month)
                outcome = read_part(again)
            emitted, held = parser.absorb(outcome.parser, offset)
            self.add_peers(outcome.peers)
            for observation in emitted:
                self.record(observation, tally)
            tally.merge(outcome.tally, offset)
            for number, line, kind in held:
                tally.count_held(number, line, kind)
            problems += [
                replace(p, line_number=p.line_number + offset) if p.line_number else p
                for p in outcome.problems
            ]
            offset += outcome.tally.lines
        return problems

    def add_peers(self, peers: PeerAggregator | PeerRows) -> None:
        """Add a part's peer table: taken over whole when nothing was read before it."""
        if not isinstance(peers, PeerAggregator):
            self.peers.merge_rows(peers)
        elif self.peers.is_empty:
            self.peers = peers
        else:
            self.peers.merge(peers)

    def feed(self, parser: LogParser | None, batch: LineBatch, tally: _SourceTally) -> None:
        """One batch of lines to the parser, in runs between the lines that were cut (most
        batches have none: one run)."""
        texts, first = batch.texts, batch.first_number
        start = 0
        for cut in sorted(number - first for number in batch.too_long):
            self.feed_run(parser, texts[start:cut], first + start, tally)
            self.feed_run(parser, texts[cut : cut + 1], first + cut, tally, cut=True)
            start = cut + 1
        if not start:  # no line was cut: the common case, with the lines as one text
            self.feed_run(parser, texts, first, tally, block=batch.block)
        else:
            self.feed_run(parser, texts[start:], first + start, tally)

    def feed_run(
        self,
        parser: LogParser | None,
        lines: Sequence[str],
        first_number: int,
        tally: _SourceTally,
        *,
        cut: bool = False,
        block: str | None = None,
    ) -> None:
        """A line that was cut still goes to the parser (it may open or end a session), but
        counts as unparsed whatever the parser made of it. ``block``: the lines as one text."""
        if not lines:
            return
        if parser is None:
            tally.count_unparsed(lines, first_number, cut=cut)
            return
        result = parser.feed_lines(lines, tally.name, first_number, block=block)
        observations = result.observations
        if observations:
            self.peers.add_all(observations)
            tally.saw_all(observations)
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


@dataclass(frozen=True)
class _PartTask:
    """A byte range of a Postfix log, and the year state to read its stamps with (no month:
    not known yet, see YearGuesser.carries_on_from)."""

    source: Source
    byte_range: tuple[int, int]
    year: int
    last_month: int | None


@dataclass(frozen=True)
class _PartOutcome:
    parser: PostfixParser  # in hold() mode: what it held, its state at the end, its counts
    # The part's peer table; as plain rows once it crossed from another process, where
    # building the tallies again only to merge them would cost a third of a second per part.
    peers: PeerAggregator | PeerRows
    tally: _SourceTally  # lines numbered from the part's first, held lines not counted
    problems: tuple[InputProblem, ...]

    def __getstate__(self) -> dict[str, object]:
        peers = self.peers.rows() if isinstance(self.peers, PeerAggregator) else self.peers
        return {**self.__dict__, "peers": peers}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)  # frozen: no assignment through __setattr__


class _PartRun(_Run):
    """A run over one part of a Postfix log (in a process of its own)."""

    def __init__(self, parser: PostfixParser) -> None:
        super().__init__(LogFormat.POSTFIX, None)
        self.postfix = parser

    def feed_run(
        self,
        parser: LogParser | None,
        lines: Sequence[str],
        first_number: int,
        tally: _SourceTally,
        *,
        cut: bool = False,
        block: str | None = None,
    ) -> None:
        held = self.postfix.held_lines
        super().feed_run(parser, lines, first_number, tally, cut=cut, block=block)
        if cut:  # counted as unparsed already: not again when the held line is read
            self.postfix.count_held_from(held)


def read_part(task: _PartTask) -> _PartOutcome:
    """Read one byte range of a Postfix log (what a process of map_parts does)."""
    parser = PostfixParser(YearGuesser(task.year, last_month=task.last_month))
    parser.hold()
    run = _PartRun(parser)
    tally = _SourceTally(task.source.name, LogFormat.POSTFIX)
    reader = LineReader(task.source, byte_range=task.byte_range)
    for batch in reader.batches():
        run.feed(parser, batch, tally)
    return _PartOutcome(parser, run.peers, tally, reader.problems)


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
    jobs: int = 1,
    min_part_bytes: int = MIN_PART_BYTES,
) -> LogsReport:
    """Parse every named input; failures of inputs are in the report, never raised.

    ``jobs`` > 1 reads large Postfix logs in parts, that many processes at a time (see
    mailtls.logs.parts); the report is the same.
    """
    sources, problems = expand_sources(names)
    run = _Run(log_format, year, jobs=jobs, min_part_bytes=min_part_bytes)
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

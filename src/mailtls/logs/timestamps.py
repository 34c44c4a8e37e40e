"""Time stamps at the start of log lines: RFC 3164 syslog (no year), ISO 8601 / RFC 5424, Exim.

RFC 3164 lines ("Nov 28 07:43:50 host prog[pid]: ...") carry no year. A :class:`YearGuesser`
supplies one: the year given by the user, or the current year, and it steps forward when the
month goes backwards (a log that runs from December into January), so a year-long rotated set
reads in order. Times without a zone are taken as UTC and reported as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}

# "Nov 28 07:43:50" or "Nov  3 07:43:50", optionally with fractions ("Nov 28 07:43:50.123").
_SYSLOG = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) "
    r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)(?:\.\d+)? "
)
# "2025-01-01T12:00:00.123456+01:00 ", "2025-01-01T12:00:00Z ", "2025-01-01 12:00:00 " (Exim),
# and RFC 5424 "<34>1 2025-01-01T12:00:00Z ".
_ISO_PREFIX = r"(?:<\d{1,3}>\d{1,2} )?"
_ISO_STAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_ISO = re.compile(rf"^{_ISO_PREFIX}(?P<stamp>{_ISO_STAMP})[ ,]")

# The shape of every stamp :func:`leading_timestamp` takes, with the separator after it, as one
# pattern without groups: for readers that find framed lines in a whole run of text at once.
# It accepts a few stamps that are no time ("Feb 30"): those readers parse the stamps of the
# lines they use with :func:`leading_timestamp`, which refuses them.
STAMP_SHAPE = (
    r"(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} "
    r"\d\d:\d\d:\d\d(?:\.\d+)? "
    rf"|{_ISO_PREFIX}{_ISO_STAMP}[ ,])"
)


@dataclass(frozen=True)
class Stamped:
    """A line split into its time (None if it has none we know) and the rest."""

    timestamp: datetime | None
    rest: str


class YearGuesser:
    """Years for RFC 3164 stamps, stepping forward when the month goes backwards."""

    def __init__(self, year: int | None = None, *, last_month: int | None = None) -> None:
        self._year = year if year is not None else datetime.now(UTC).year
        self._last_month = last_month
        self.first_month: int | None = None  # of the first stamp read: see carries_on_from()
        # Busy logs repeat the same second on many lines: remember the last stamp parsed.
        self.last_stamp: tuple[str, datetime] | None = None
        # ... and the same minute on many seconds: its text ("Nov  3 07:43:") and its time.
        self.last_minute: tuple[str, datetime] | None = None

    @property
    def year(self) -> int:
        return self._year

    @property
    def last_month(self) -> int | None:
        return self._last_month

    def year_for(self, month: int) -> int:
        if month != self._last_month:
            self.last_minute = None  # stamp_time's shortcut holds within one month only
        if self._last_month is not None and month < self._last_month - 6:
            self._year += 1  # December -> January: a new year, not a clock going back
        if self.first_month is None:
            self.first_month = month
        self._last_month = month
        return self._year

    def carries_on_from(self, before: YearGuesser, started_with: int) -> bool:
        """Whether this guesser, started with the year ``started_with`` and no month (to read a
        later part of a log), gave the years ``before`` would have given had it read on."""
        if self.first_month is None:
            return True  # it read no stamp
        expected = before.year
        if before.last_month is not None and self.first_month < before.last_month - 6:
            expected += 1
        return expected == started_with

    def carry_on_from(self, after: YearGuesser) -> None:
        """Take the state of a guesser that read on from where this one stopped."""
        if after.first_month is None:
            return
        self._year, self._last_month = after.year, after.last_month
        self.last_stamp, self.last_minute = after.last_stamp, after.last_minute


def parse_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def split_timestamp(line: str, years: YearGuesser) -> Stamped:
    """Take the time stamp off the front of ``line``, if there is one."""
    found = leading_timestamp(line, years)
    if found is None:
        return Stamped(None, line)
    moment, rest_at = found
    return Stamped(moment, line[rest_at:])


# timedelta(seconds=n) for a second of the minute: added to the minute's time, it spares a
# datetime built from its parts for every new second of a log.
_SECOND_OF = {f"{second:02}": timedelta(seconds=second) for second in range(60)}


def stamp_time(stamp: str, years: YearGuesser) -> datetime | None:
    """The time of a stamp of :data:`STAMP_SHAPE` (with its separator), as
    :func:`leading_timestamp` reads it; None for a stamp that names no time ("Feb 30")."""
    minute = years.last_minute
    # "Nov  3 07:43:50 ": the minute of the stamp before, and seconds that are a second.
    if minute is not None and stamp.startswith(minute[0]) and stamp[15:16] in (" ", "."):
        second = _SECOND_OF.get(stamp[13:15])
        if second is not None:
            return minute[1] + second
    found = leading_timestamp(stamp, years)
    if found is None:
        return None
    moment = found[0]
    # "Nov  3 07:43:" or "Nov 13 07:43:" (not "Nov 3 07:43:50"): serves the stamps after it.
    if stamp[12:13] == ":" and stamp[0].isalpha():
        years.last_minute = (stamp[:13], moment.replace(second=0))
    return moment


def leading_timestamp(line: str, years: YearGuesser) -> tuple[datetime, int] | None:
    """The time stamp at the front of ``line`` and where the rest of the line starts; None if
    the line starts with no stamp we know. Copies nothing: readers of millions of lines match
    the rest in place."""
    last = years.last_stamp
    if last is not None and line.startswith(last[0]):
        return last[1], len(last[0])
    syslog = _SYSLOG.match(line)
    if syslog:
        month_name, day, hour, minute, second = syslog.groups()
        month = _MONTHS.get(month_name)
        if month is None:
            return None
        try:
            moment = datetime(
                years.year_for(month),
                month,
                int(day),
                int(hour),
                int(minute),
                int(second),
                tzinfo=UTC,
            )
        except ValueError:  # "Feb 30", "25:61:00": not a time, so not a stamp
            return None
        years.last_stamp = (syslog.group(0), moment)
        return moment, syslog.end()
    iso = _ISO.match(line)  # no line matches both patterns: this one starts with a digit or "<"
    if iso:
        found = parse_iso(iso.group("stamp"))
        if found is not None:
            return found, iso.end()
    return None

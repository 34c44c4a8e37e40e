"""The syslog frame around Postfix, Sendmail and OpenSMTPD lines: time, host, program[pid]: text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from mailtls.logs.timestamps import YearGuesser, leading_timestamp

# "mx1 postfix/smtpd[1234]: text", "mx1 sm-mta[99]: text", "mx1 smtpd[7]: text"; the pid is
# optional ("mx1 postfix/postlogd: ..."). Program names may carry "/" and "-" (syslog_name).
# The program is matched greedily: no program character is "[" or ":", so it ends where the
# longest run does either way, and a lazy match (which tries the rest of the pattern after
# every character) costs twice the time of the whole frame. No "^": it is matched where the
# time stamp ends (``match(line, pos)``), so the line is not copied first.
FRAME = re.compile(r"(?P<host>\S+) (?P<program>[\w./-]+)(?:\[(?P<pid>\d{1,10})\])?: (?P<text>.*)$")


@dataclass(frozen=True)
class SyslogLine:
    timestamp: datetime
    host: str
    program: str
    pid: int | None
    text: str


def parse_syslog(line: str, years: YearGuesser) -> SyslogLine | None:
    """The frame of a syslog line, or None when the line has none (garbage, another format)."""
    framed = match_syslog(line, years)
    if framed is None:
        return None
    timestamp, frame = framed
    pid = frame.group("pid")
    return SyslogLine(
        timestamp=timestamp,
        host=frame.group("host"),
        program=frame.group("program"),
        pid=int(pid) if pid else None,
        text=frame.group("text"),
    )


def match_syslog(line: str, years: YearGuesser) -> tuple[datetime, re.Match[str]] | None:
    """The time and the frame's match (groups ``host``, ``program``, ``pid``, ``text``), or None.

    :func:`parse_syslog` without building a value: for parsers that read millions of lines and
    want only some of the groups.
    """
    stamped = leading_timestamp(line, years)
    if stamped is None:
        return None
    timestamp, rest_at = stamped
    frame = FRAME.match(line, rest_at)
    return None if frame is None else (timestamp, frame)


def address_domain(address: str) -> str | None:
    """The domain of a mail address as logged (``user@Example.COM`` -> ``example.com``)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain or len(domain) > 253 or " " in domain:
        return None
    return domain.rstrip(".").lower() or None

"""Which MTA wrote a log, from its first lines; and the parser for each format.

Each line votes for at most one format by a shape only that MTA writes: Exchange's ``#`` headers
and CSV rows, Postfix's ``postfix/<daemon>`` programs (``postfix-<name>/<daemon>`` with
``syslog_name``), Exim's ``<date> <message id> <=|=>`` lines, Sendmail's ``sendmail``/``sm-mta``
programs, OpenSMTPD's ``smtpd[pid]: <16 hex digits> smtp|mta`` lines. The format with the most
votes wins; no votes (garbage, empty input, another program's log) give None.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from mailtls.logs.base import LogParser
from mailtls.logs.exchange import ExchangeParser
from mailtls.logs.exim import EximParser
from mailtls.logs.opensmtpd import PROGRAMS as OPENSMTPD_PROGRAMS
from mailtls.logs.opensmtpd import OpenSmtpdParser
from mailtls.logs.postfix import PostfixParser
from mailtls.logs.sendmail import PROGRAM as SENDMAIL_PROGRAM
from mailtls.logs.sendmail import SendmailParser
from mailtls.logs.syslog import parse_syslog
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import LogFormat

SAMPLE_LINES = 200

_EXCHANGE_HEADER = re.compile(
    r"^#(?:Software: Microsoft Exchange|Log-type: SMTP (?:Receive|Send) Protocol Log"
    r"|Fields: date-time,connector-id,session-id)",
    re.IGNORECASE,
)
# 2025-01-11T16:00:01.010Z,EX01\Default Frontend EX01,08DB1A2B3C4D5E6F,7,...
_EXCHANGE_ROW = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z,[^,]*,[0-9A-Fa-f]{16},\d+,")
_EXIM_MESSAGE_ID = (
    r"[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{11}|[0-9A-Za-z]{6})-(?:[0-9A-Za-z]{4}|[0-9A-Za-z]{2}) "
    r"(?:<=|=>|->|>>|\*>|\*\*|==|Completed)"
)
_EXIM_MESSAGE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?(?: \[\d+\])? " + _EXIM_MESSAGE_ID
)
# Through syslog with syslog_timestamp = false, Exim's text starts with the message id.
_EXIM_SYSLOG_TEXT = re.compile(r"^(?:\[\d+\] )?" + _EXIM_MESSAGE_ID)
_POSTFIX_PROGRAM = re.compile(r"^postfix(?:-[\w.-]+)?(?:/[\w.-]+)+$")
_OPENSMTPD_TEXT = re.compile(r"^[0-9a-f]{16} (?:smtp|mta) ")


def detect_format(lines: Sequence[str]) -> LogFormat | None:
    """The format of a log, judged from its first non-empty lines (up to ``SAMPLE_LINES``)."""
    votes: Counter[LogFormat] = Counter()
    # The year does not matter for recognising a frame; a leap year keeps "Feb 29" a date.
    years = YearGuesser(2000)
    seen = 0
    for line in lines:
        if seen >= SAMPLE_LINES:
            break
        if not line.strip():
            continue
        seen += 1
        vote = _vote(line, years)
        if vote is not None:
            votes[vote] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def parser_for(log_format: LogFormat, years: YearGuesser) -> LogParser:
    """A fresh parser for ``log_format``; ``years`` completes syslog time stamps."""
    if log_format is LogFormat.POSTFIX:
        return PostfixParser(years)
    if log_format is LogFormat.EXIM:
        return EximParser(years)
    if log_format is LogFormat.SENDMAIL:
        return SendmailParser(years)
    if log_format is LogFormat.OPENSMTPD:
        return OpenSmtpdParser(years)
    return ExchangeParser()


def _vote(line: str, years: YearGuesser) -> LogFormat | None:
    if _EXCHANGE_HEADER.match(line) or _EXCHANGE_ROW.match(line):
        return LogFormat.EXCHANGE
    if _EXIM_MESSAGE.match(line):
        return LogFormat.EXIM
    frame = parse_syslog(line, years)
    if frame is None:
        return None
    program = frame.program
    if _POSTFIX_PROGRAM.match(program):
        return LogFormat.POSTFIX
    if SENDMAIL_PROGRAM.match(program):
        return LogFormat.SENDMAIL
    if program in OPENSMTPD_PROGRAMS and _OPENSMTPD_TEXT.match(frame.text):
        return LogFormat.OPENSMTPD
    if program.startswith("exim") and (
        _EXIM_MESSAGE.match(frame.text) or _EXIM_SYSLOG_TEXT.match(frame.text)
    ):
        return LogFormat.EXIM
    return None

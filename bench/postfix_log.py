"""Connections as the server saw them: the fleet's Postfix log, counted per listener.

Every tool is counted the same way, from the server's side: each smtpd session writes one
``connect from`` line when it starts and one ``disconnect from`` line when it ends, under the
listener's own syslog name (``postfix-modern/smtpd[pid]: connect from unknown[127.0.0.1]``).
Postfix logs through postlogd, a moment after the fact, so a count is read only once every
session that started has also ended and the log has been still for a while.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sessions:
    connects: int
    disconnects: int

    @property
    def finished(self) -> bool:
        return self.connects == self.disconnects


def count_sessions(log_text: str, syslog_name: str) -> Sessions:
    """Count one listener's session starts and ends in a piece of the Postfix log."""
    pattern = re.compile(rf" {re.escape(syslog_name)}/smtpd\[\d+\]: (connect|disconnect) from ")
    events = [match.group(1) for match in pattern.finditer(log_text)]
    return Sessions(connects=events.count("connect"), disconnects=events.count("disconnect"))


def log_end(log: Path) -> int:
    """Where the log ends now: count from here after a run."""
    try:
        return log.stat().st_size
    except FileNotFoundError:
        return 0


def _read_from(log: Path, offset: int) -> str:
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


@dataclass(frozen=True)
class SettledCount:
    sessions: Sessions
    settled: bool  # False: sessions were still open (or the log still moving) at the time limit


def wait_for_sessions(
    log: Path,
    offset: int,
    syslog_name: str,
    *,
    quiet_period: float = 0.25,
    time_limit: float = 20.0,
) -> SettledCount:
    """The sessions logged since ``offset``, once all have ended and the count stayed put."""
    deadline = time.monotonic() + time_limit
    last: Sessions | None = None
    still_since = time.monotonic()
    while True:
        now = time.monotonic()
        sessions = count_sessions(_read_from(log, offset), syslog_name)
        if sessions != last:
            last, still_since = sessions, now
        elif sessions.finished and now - still_since >= quiet_period:
            return SettledCount(sessions=sessions, settled=True)
        if now > deadline:
            return SettledCount(sessions=sessions, settled=False)
        time.sleep(0.02)

"""What the log tests get: the finished log files, and the peer table they must give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from mailtls.models import Direction, LogFormat, PeerRole, TlsVersion

from .plan import ExpectedPeer, Session


class MailLogsError(RuntimeError):
    """The logs could not be produced; the message says why and what to do."""


@dataclass(frozen=True)
class MailLogs:
    """Logs written by real Postfix and Exim instances that were sent ``sessions``.

    The servers have stopped and the files are complete when a test sees this value.
    ``expected`` is derived from ``sessions`` alone (``plan.expected_table``), one row per
    (format, direction, peer address), ordered by format, direction and address.
    """

    directory: Path
    postfix_log: Path  # Postfix's maillog_file: RFC 3164 time stamps, no year
    exim_log: Path  # Exim's mainlog: "YYYY-MM-DD HH:MM:SS" local time stamps
    sessions: tuple[Session, ...]
    expected: tuple[ExpectedPeer, ...]

    @property
    def logs(self) -> Mapping[LogFormat, Path]:
        return MappingProxyType(
            {LogFormat.POSTFIX: self.postfix_log, LogFormat.EXIM: self.exim_log}
        )

    def table(self) -> Mapping[tuple[LogFormat, Direction, str], ExpectedPeer]:
        return MappingProxyType({peer.key: peer for peer in self.expected})

    def peers(
        self,
        log_format: LogFormat,
        direction: Direction | None = None,
        role: PeerRole | None = None,
    ) -> tuple[ExpectedPeer, ...]:
        return tuple(
            peer
            for peer in self.expected
            if peer.source is log_format
            and (direction is None or peer.direction is direction)
            and (role is None or peer.role is role)
        )

    def peer(self, log_format: LogFormat, direction: Direction, peer_ip: str) -> ExpectedPeer:
        return self.table()[(log_format, direction, peer_ip)]

    def totals(
        self, log_format: LogFormat, direction: Direction
    ) -> Mapping[TlsVersion | None, int]:
        """Sessions per TLS version (None: plaintext) over all peers of one log and direction."""
        totals: dict[TlsVersion | None, int] = {}
        for peer in self.peers(log_format, direction):
            for version, count in peer.sessions.items():
                totals[version] = totals.get(version, 0) + count
        return MappingProxyType(totals)

"""OpenSMTPD through syslog: per-session lines keyed by a 16-hex-digit session id.

What OpenSMTPD 6.4 and later logs at the default verbosity (``log_info``; usr.sbin/smtpd/
smtp_session.c for the server side, mta_session.c for the client side, to.c for the values):

    <id> smtp connected address=192.0.2.10 host=mx.example.net     (IPv6 as [2001:db8::1])
    <id> smtp tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256        (to.c tls_to_text)
    <id> smtp authentication user=alice result=ok
    <id> smtp disconnected reason=quit                              (timeout, disconnect, io-error,
                                                                     tls-accept-failed)
    <id> mta connecting address=smtp+tls://192.0.2.20:25 host=mx.example.com
    <id> mta connected
    <id> mta tls ciphers=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256
    <id> mta disconnected reason=quit messages=1
    <id> mta error reason=...  /  smtp-out: Error on session <id> after 1 message sent: ...

OpenSMTPD 6.0 wrote the same events as ``smtp event=connected address=.. host=..``,
``smtp event=starttls address=.. host=.. ciphers="version=TLSv1.2, cipher=.., bits=256"``,
``smtp event=closed ... reason=quit`` and ``mta event=connecting|connected|starttls|closed|error``
(the ``event=`` word went away in 2018); both are read.

A session is connected -> (tls) -> disconnected: one observation, plaintext when no tls line came.
An outbound session counts once it connected; a session that retries in plaintext after a failed
opportunistic TLS handshake ("downgrading to plain") counts once, as the retry. Sessions that end
in a failed server-side TLS handshake are not counted: the log does not say what the client tried.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address

from mailtls.logs.base import IGNORED, UNPARSED, USED, FeedResult, LineKind, LogParser
from mailtls.logs.syslog import parse_syslog
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

PROGRAMS = frozenset({"smtpd", "opensmtpd"})
_SESSION = re.compile(
    r"^(?P<id>[0-9a-f]{16}) (?P<side>smtp|mta) (?:event=)?(?P<event>[\w-]+)(?P<rest>.*)$"
)
_CLIENT_ERROR = re.compile(
    r"^smtp-out: (?:TLS )?Error on session (?P<id>[0-9a-f]{16})(?P<rest>.*)$"
)
_ADDRESS = re.compile(r"(?:^| )address=(?P<value>\S+)")
_HOST = re.compile(r"(?:^| )host=(?P<value>\S+)")
_REASON = re.compile(r"(?:^| )reason=(?P<value>\S+)")
_RESULT = re.compile(r"(?:^| )result=(?P<value>\S+)")
# ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256 (6.4 on); ciphers="version=TLSv1.2, cipher=X, bits=256"
_CIPHERS_NEW = re.compile(r"(?:^| )ciphers=(?P<version>[^:\s\"]+):(?P<cipher>[^:\s]*)")
_CIPHERS_OLD = re.compile(
    r"(?:^| )ciphers=\"?version=(?P<version>[^,\s]+), cipher=(?P<cipher>[^,\s]*)"
)
# "smtp+tls://192.0.2.20:25", "smtp://[2001:db8::1]:25", "lmtp://..."
_DESTINATION = re.compile(r"^(?P<schema>[\w+]+)://(?:\[(?P<ip6>[^\]]+)\]|(?P<ip4>[^:/\s]+))")
_TLS_VERSIONS = {
    "TLSv1": TlsVersion.TLS1_0,
    "TLSv1.0": TlsVersion.TLS1_0,
    "TLSv1.1": TlsVersion.TLS1_1,
    "TLSv1.2": TlsVersion.TLS1_2,
    "TLSv1.3": TlsVersion.TLS1_3,
}
MAX_OPEN_SESSIONS = 100_000


@dataclass
class _Session:
    direction: Direction
    started: datetime
    peer_ip: str | None
    peer_host: str | None
    connected: bool  # outbound: the TCP connection was made (inbound sessions start connected)
    tls_version: TlsVersion | None = None
    cipher: str | None = None
    ambiguous: bool = False
    authenticated: bool = False

    def observation(self, origin: str) -> SessionObservation:
        return SessionObservation(
            source=LogFormat.OPENSMTPD,
            direction=self.direction,
            timestamp=self.started,
            peer_ip=self.peer_ip,
            peer_host=self.peer_host,
            tls_version=self.tls_version,
            cipher=self.cipher,
            role=PeerRole.SUBMISSION if self.authenticated else PeerRole.MTA,
            version_ambiguous=self.ambiguous,
            origin=origin,
        )


class OpenSmtpdParser(LogParser):
    format = LogFormat.OPENSMTPD

    def __init__(self, years: YearGuesser, *, max_open: int = MAX_OPEN_SESSIONS) -> None:
        self._years = years
        self._max_open = max(1, max_open)
        self._open: OrderedDict[tuple[str, str], _Session] = OrderedDict()
        self._last_origin: dict[tuple[str, str], str] = {}
        self.dropped = 0  # open sessions forgotten to keep memory bounded
        self._failed_handshakes = 0
        self._unknown_versions: set[str] = set()

    def feed(self, line: str, origin: str) -> FeedResult:
        frame = parse_syslog(line, self._years)
        if frame is None:
            return UNPARSED
        if frame.program not in PROGRAMS:
            return IGNORED
        session_line = _SESSION.match(frame.text)
        if session_line is not None:
            key = (session_line.group("side"), session_line.group("id"))
            event, rest = session_line.group("event"), session_line.group("rest")
            if key[0] == "smtp":
                return self._server(key, event, rest, frame.timestamp, origin)
            return self._client(key, event, rest, frame.timestamp, origin)
        client_error = _CLIENT_ERROR.match(frame.text)
        if client_error is not None:
            return self._client_error(
                ("mta", client_error.group("id")), client_error.group("rest"), origin
            )
        return IGNORED

    def finish(self) -> tuple[SessionObservation, ...]:
        """Sessions still open at the end: what they showed so far (their TLS came early)."""
        done = tuple(
            session.observation(self._last_origin.get(key, ""))
            for key, session in self._open.items()
            if session.connected
        )
        self._open.clear()
        self._last_origin.clear()
        return done

    def warnings(self) -> tuple[str, ...]:
        notes: list[str] = []
        if self._failed_handshakes:
            notes.append(
                f"{self._failed_handshakes} inbound OpenSMTPD session(s) ended in a failed TLS "
                "handshake (reason=tls-accept-failed) and are not counted: the log does not say "
                "which TLS version the client offered."
            )
        if self._unknown_versions:
            names = ", ".join(sorted(self._unknown_versions)[:5])
            notes.append(
                f"OpenSMTPD logged TLS versions this tool does not know ({names}); those sessions "
                "count as TLS of unknown version."
            )
        return tuple(notes)

    # --- the server side: a peer connected to us -------------------------------------------

    def _server(
        self, key: tuple[str, str], event: str, rest: str, timestamp: datetime, origin: str
    ) -> FeedResult:
        if event == "connected":
            address = _ADDRESS.search(rest)
            if address is None:
                return UNPARSED
            ip = _ip(address.group("value").strip("[]"))
            if ip is None:
                self._open.pop(key, None)
                return IGNORED  # address=local: the local enqueuer, no network peer
            self._start(key, _Session(Direction.INBOUND, timestamp, ip, _host(rest), True), origin)
            return USED
        session = self._open.get(key)
        if session is None:
            return IGNORED  # began before this log did, or a local session
        self._last_origin[key] = origin
        if event in ("tls", "starttls"):
            self._tls(session, rest)
            return USED
        if event == "authentication":
            result = _RESULT.search(rest)
            if result is not None and result.group("value") == "ok":
                session.authenticated = True
                return USED
            return IGNORED
        if event in ("disconnected", "closed"):
            del self._open[key]
            self._last_origin.pop(key, None)
            reason = _REASON.search(rest)
            if reason is not None and reason.group("value") == "tls-accept-failed":
                self._failed_handshakes += 1
                return USED
            return FeedResult(LineKind.USED, (session.observation(origin),))
        return IGNORED  # message, envelope, failed-command, cert-check, ...

    # --- the client side: we connected to a peer -------------------------------------------

    def _client(
        self, key: tuple[str, str], event: str, rest: str, timestamp: datetime, origin: str
    ) -> FeedResult:
        if event == "connecting":
            address = _ADDRESS.search(rest)
            destination = _DESTINATION.match(address.group("value")) if address else None
            if destination is None:
                return UNPARSED
            if destination.group("schema") == "lmtp":
                self._open.pop(key, None)
                return IGNORED  # local delivery to an LMTP server, not a mail exchange
            ip = _ip(destination.group("ip6") or destination.group("ip4") or "")
            # A new attempt of the same session (a retry) ends the previous one first.
            done = self._end(key, origin)
            self._start(
                key, _Session(Direction.OUTBOUND, timestamp, ip, _host(rest), False), origin
            )
            return FeedResult(LineKind.USED, done)
        session = self._open.get(key)
        if session is None:
            return IGNORED
        self._last_origin[key] = origin
        if event == "connected":
            session.connected = True
            session.started = timestamp
            return USED
        if event in ("tls", "starttls"):
            self._tls(session, rest)
            return USED
        if event in ("disconnected", "closed", "closing", "error"):
            return FeedResult(LineKind.USED, self._end(key, origin))
        return IGNORED  # host-rejects-all-mails, cert-check, ...

    def _client_error(self, key: tuple[str, str], rest: str, origin: str) -> FeedResult:
        if key not in self._open:
            return IGNORED
        if "downgrading to plain" in rest:
            # The TLS handshake failed and the session reconnects without TLS: count the retry.
            del self._open[key]
            self._last_origin.pop(key, None)
            return USED
        return FeedResult(LineKind.USED, self._end(key, origin))  # "after N messages sent"

    # --- shared ----------------------------------------------------------------------------

    def _start(self, key: tuple[str, str], session: _Session, origin: str) -> None:
        self._open[key] = session
        self._open.move_to_end(key)
        self._last_origin[key] = origin
        while len(self._open) > self._max_open:
            old_key, _ = self._open.popitem(last=False)
            self._last_origin.pop(old_key, None)
            self.dropped += 1

    def _end(self, key: tuple[str, str], origin: str) -> tuple[SessionObservation, ...]:
        session = self._open.pop(key, None)
        self._last_origin.pop(key, None)
        if session is None or not session.connected:
            return ()  # the connection was never made: no SMTP session took place
        return (session.observation(origin),)

    def _tls(self, session: _Session, rest: str) -> None:
        ciphers = _CIPHERS_OLD.search(rest) or _CIPHERS_NEW.search(rest)
        if ciphers is None:
            session.ambiguous = True
            return
        session.cipher = ciphers.group("cipher") or None
        version_text = ciphers.group("version")
        session.tls_version = _TLS_VERSIONS.get(version_text)
        if session.tls_version is None:
            session.ambiguous = True
            self._unknown_versions.add(version_text[:20])


def _ip(text: str) -> str | None:
    try:
        return str(ip_address(text))
    except ValueError:
        return None


def _host(rest: str) -> str | None:
    host = _HOST.search(rest)
    if host is None:
        return None
    name = host.group("value")
    return None if name in ("<unknown>", "") or name.startswith("[") else name.lower()

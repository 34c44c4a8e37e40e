"""Exchange SMTP Receive and Send protocol logs (``RECV*.LOG``, ``SEND*.LOG``): CSV rows of events.

Each file starts with header lines (docs: Exchange Server "Protocol logging"; the writer is
``ProtocolLog("Microsoft Exchange Server", ..., "SMTP Receive Protocol Log", "RECV", ...)``):

    #Software: Microsoft Exchange Server
    #Version: 15.01.2507.006
    #Log-type: SMTP Receive Protocol Log          (or SMTP Send Protocol Log)
    #Date: 2025-01-11T16:00:00.000Z
    #Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,
             event,data,context                   (one line in the file)

The ``#Fields`` order is honoured. Events: ``+`` connect, ``-`` disconnect, ``>`` sent, ``<``
received, ``*`` information. A TLS handshake is an information event whose text (context) is
``Util.FormatTlsSuccessResult``:

    TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm
    CALG_AES_256 with strength 256 bits, MAC hash algorithm CALG_SHA_384 with strength 384 bits and
    key exchange algorithm CALG_ECDH_EPHEM with strength 384 bits

The protocol is Exchange's ``SchannelProtocols`` flags enum printed by .NET:
``SP_PROT_TLS1_0_SERVER`` .. ``SP_PROT_TLS1_2_CLIENT``; a value the enum does not name (TLS 1.3
on builds that predate it) prints as its number (4096 = TLS 1.3 server, 8192 = client).
Microsoft's TLS guidance spells the client side ``SP_PROT-TLS1_2_CLIENT``; both spellings are read.

A session (keyed by its session id, per log type) is connect -> events -> disconnect: TLS when it
logged a TLS protocol line, plaintext otherwise; one whose TLS negotiation failed is not counted
(the peer retries in a new session, which is). The log type gives the direction (Receive:
inbound, Send: outbound). A receive session counts as plaintext only if the client sent a command:
connections that never said a word are probes, not mail. A client that authenticated (the ``235``
reply to AUTH, or the ``authenticated`` information event) is a submission client. The peer name
is what the peer called itself: the EHLO/HELO argument (receive) or the first word of the ``220``
greeting (send).
"""

from __future__ import annotations

import csv
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address

from mailtls.logs.base import IGNORED, UNPARSED, USED, FeedResult, LineKind, LogParser
from mailtls.logs.timestamps import parse_iso
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

DEFAULT_FIELDS = (
    "date-time",
    "connector-id",
    "session-id",
    "sequence-number",
    "local-endpoint",
    "remote-endpoint",
    "event",
    "data",
    "context",
)
_NEEDED = ("date-time", "session-id", "remote-endpoint", "event", "data", "context")
_LOG_TYPES = {
    "smtp receive protocol log": Direction.INBOUND,
    "smtp send protocol log": Direction.OUTBOUND,
}
_TLS_LINE = re.compile(
    r"^TLS protocol (?P<protocol>\S+) negotiation succeeded"
    r"(?: using bulk encryption algorithm (?P<bulk>\S+) with strength \d+ bits)?"
    r"(?:, MAC hash algorithm (?P<mac>\S+) with strength \d+ bits)?"
    r"(?: and key exchange algorithm (?P<exchange>\S+) with strength \d+ bits)?"
)
_NAMED_PROTOCOL = re.compile(r"^SP_PROT[_-](?P<family>TLS1|SSL3|SSL2|PCT1)(?:_(?P<minor>\d))?_")
_NAMED_VERSIONS = {
    ("TLS1", None): TlsVersion.TLS1_0,
    ("TLS1", "0"): TlsVersion.TLS1_0,
    ("TLS1", "1"): TlsVersion.TLS1_1,
    ("TLS1", "2"): TlsVersion.TLS1_2,
    ("TLS1", "3"): TlsVersion.TLS1_3,
}
# SP_PROT_* bits (schannel.h): server and client bit of each version.
_PROTOCOL_BITS = (
    (0x0040 | 0x0080, TlsVersion.TLS1_0),
    (0x0100 | 0x0200, TlsVersion.TLS1_1),
    (0x0400 | 0x0800, TlsVersion.TLS1_2),
    (0x1000 | 0x2000, TlsVersion.TLS1_3),
)
_HELLO = re.compile(r"^(?:EHLO|HELO) +(?P<name>\S+)", re.IGNORECASE)
_GREETING = re.compile(r"^220[ -](?P<name>\S+)")
MAX_OPEN_SESSIONS = 100_000


@dataclass
class _Session:
    direction: Direction
    started: datetime | None
    peer_ip: str | None
    connected: bool  # the connect event was seen (not a session that began in an earlier file)
    peer_host: str | None = None
    spoke: bool = False  # the client sent a command (receive) / the dialogue began (send)
    tls: bool = False
    tls_version: TlsVersion | None = None
    cipher: str | None = None
    authenticated: bool = False
    handshake_failed: bool = False  # STARTTLS failed: the peer retries in a new session

    def observation(self, origin: str) -> SessionObservation:
        return SessionObservation(
            source=LogFormat.EXCHANGE,
            direction=self.direction,
            timestamp=self.started,
            peer_ip=self.peer_ip,
            peer_host=self.peer_host,
            tls_version=self.tls_version,
            cipher=self.cipher,
            role=PeerRole.SUBMISSION if self.authenticated else PeerRole.MTA,
            version_ambiguous=self.tls and self.tls_version is None,
            origin=origin,
        )

    @property
    def countable(self) -> bool:
        # TLS is a fact wherever it is seen; plaintext only for a session seen from its start
        # that did not end in a failed handshake.
        return self.tls or (self.connected and self.spoke and not self.handshake_failed)


@dataclass(frozen=True)
class _Row:
    timestamp: datetime | None
    session_id: str
    peer_ip: str | None
    event: str
    data: str
    context: str


class ExchangeParser(LogParser):
    format = LogFormat.EXCHANGE

    def __init__(self, *, max_open: int = MAX_OPEN_SESSIONS) -> None:
        self._max_open = max(1, max_open)
        self._fields: tuple[str, ...] = DEFAULT_FIELDS
        self._direction: Direction | None = None
        self._protocol_log = True  # False after a #Log-type of another log (message tracking)
        self._open: OrderedDict[tuple[Direction, str], _Session] = OrderedDict()
        self._last_origin: dict[tuple[Direction, str], str] = {}
        self.dropped = 0  # open sessions forgotten to keep memory bounded
        self._failed_handshakes = 0
        self._ssl = 0
        self._unknown_protocols: set[str] = set()

    def feed(self, line: str, origin: str) -> FeedResult:
        if line.startswith("#"):
            return self._header(line)
        if not self._protocol_log:
            return IGNORED
        row = self._row(line)
        if row is None:
            return UNPARSED
        direction = self._direction or _guess_direction(row)
        if direction is None:
            return IGNORED  # no #Log-type yet and nothing in the row tells the direction
        key = (direction, row.session_id)
        if row.event == "+":
            session = _Session(direction, row.timestamp, row.peer_ip, connected=True)
            done = self._end(key, origin)  # a reused id: the old session is over
            self._start(key, session, origin)
            return FeedResult(LineKind.USED, done)
        if row.event == "-":
            if key not in self._open:
                return IGNORED
            return FeedResult(LineKind.USED, self._end(key, origin))
        known = self._open.get(key)
        if known is not None:
            session = known
        else:
            # The session began in an earlier file (or before logging was turned on).
            session = _Session(direction, row.timestamp, row.peer_ip, connected=False)
            self._start(key, session, origin)
        self._last_origin[key] = origin
        return USED if self._event(session, row) else IGNORED

    def finish(self) -> tuple[SessionObservation, ...]:
        done = tuple(
            session.observation(self._last_origin.get(key, ""))
            for key, session in self._open.items()
            if session.countable
        )
        self._open.clear()
        self._last_origin.clear()
        return done

    def warnings(self) -> tuple[str, ...]:
        notes: list[str] = []
        if self._failed_handshakes:
            notes.append(
                f"{self._failed_handshakes} Exchange session(s) logged a failed TLS negotiation; "
                "the protocol log does not say which TLS version the peer offered."
            )
        if self._ssl:
            notes.append(
                f"{self._ssl} Exchange session(s) used SSL (older than TLS 1.0); they count as "
                "TLS of unknown version."
            )
        if self._unknown_protocols:
            names = ", ".join(sorted(self._unknown_protocols)[:5])
            notes.append(
                f"Exchange logged TLS protocols this tool does not know ({names}); those sessions "
                "count as TLS of unknown version."
            )
        return tuple(notes)

    def _header(self, line: str) -> FeedResult:
        name, _, value = line[1:].partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "fields":
            fields = tuple(field.strip().lower() for field in value.split(","))
            if not all(needed in fields for needed in _NEEDED):
                return UNPARSED
            self._fields = fields
        elif name == "log-type":
            # A new file: its own type and (until its #Fields line) the standard columns.
            self._direction = _LOG_TYPES.get(value.lower())
            self._protocol_log = self._direction is not None
            self._fields = DEFAULT_FIELDS
        return IGNORED

    def _row(self, line: str) -> _Row | None:
        try:
            cells = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            return None
        if len(cells) < len(self._fields):
            return None
        values = dict(zip(self._fields, cells, strict=False))
        session_id, event = values["session-id"], values["event"]
        if not session_id or event not in ("+", "-", "<", ">", "*"):
            return None
        return _Row(
            timestamp=parse_iso(values["date-time"]),
            session_id=session_id,
            peer_ip=_endpoint_ip(values["remote-endpoint"]),
            event=event,
            data=values["data"],
            context=values["context"],
        )

    def _event(self, session: _Session, row: _Row) -> bool:
        """Apply one event to its session; True when it told something about TLS or the peer."""
        inbound = session.direction is Direction.INBOUND
        if row.event == "*":
            text = row.context or row.data
            if text.startswith("TLS protocol "):
                return self._tls(session, text)
            if text.startswith("TLS negotiation failed"):
                self._failed_handshakes += 1
                session.handshake_failed = True
                return True
            if inbound and row.context.strip().lower() == "authenticated":
                session.authenticated = True
                return True
            return False
        client_command = row.event == ("<" if inbound else ">")
        if client_command:
            session.spoke = True
            hello = _HELLO.match(row.data)
            if inbound and hello is not None and session.peer_host is None:
                session.peer_host = _name(hello.group("name"))
            return True
        if inbound and row.data.startswith("235"):  # RFC 4954: AUTH succeeded
            session.authenticated = True
            return True
        greeting = _GREETING.match(row.data)
        if not inbound and greeting is not None and session.peer_host is None:
            session.peer_host = _name(greeting.group("name"))
            return True
        return False

    def _tls(self, session: _Session, text: str) -> bool:
        match = _TLS_LINE.match(text)
        if match is None:
            return False
        session.tls = True
        protocol = match.group("protocol").rstrip(",")
        session.tls_version = self._version(protocol)
        algorithms = [
            name.removeprefix("CALG_")
            for name in (match.group("exchange"), match.group("bulk"), match.group("mac"))
            if name
        ]
        session.cipher = "-".join(algorithms) or None
        return True

    def _version(self, protocol: str) -> TlsVersion | None:
        named = _NAMED_PROTOCOL.match(protocol)
        if named is not None:
            version = _NAMED_VERSIONS.get((named.group("family"), named.group("minor")))
            if version is None:
                self._ssl += 1
            return version
        if protocol.isdigit() and len(protocol) < 12:
            bits = int(protocol)
            for mask, version in _PROTOCOL_BITS:
                if bits & mask:
                    return version
        self._unknown_protocols.add(protocol[:30])
        return None

    def _start(self, key: tuple[Direction, str], session: _Session, origin: str) -> None:
        self._open[key] = session
        self._last_origin[key] = origin
        while len(self._open) > self._max_open:
            old_key, _ = self._open.popitem(last=False)
            self._last_origin.pop(old_key, None)
            self.dropped += 1

    def _end(self, key: tuple[Direction, str], origin: str) -> tuple[SessionObservation, ...]:
        session = self._open.pop(key, None)
        self._last_origin.pop(key, None)
        if session is None or not session.countable:
            return ()
        return (session.observation(origin),)


def _guess_direction(row: _Row) -> Direction | None:
    """Without a #Log-type line: the TLS role, or who said EHLO, tells the direction."""
    text = row.context or row.data
    if text.startswith("TLS protocol "):
        if "SERVER" in text.split(" ", 3)[2]:
            return Direction.INBOUND
        if "CLIENT" in text.split(" ", 3)[2]:
            return Direction.OUTBOUND
    if _HELLO.match(row.data):
        return Direction.INBOUND if row.event == "<" else Direction.OUTBOUND
    return None


def _endpoint_ip(endpoint: str) -> str | None:
    """``192.0.2.1:25`` or ``[2001:db8::1]:25`` -> the address."""
    if endpoint.startswith("["):
        host = endpoint[1:].partition("]")[0]
    else:
        host = endpoint.rpartition(":")[0] if endpoint.count(":") == 1 else endpoint
    try:
        return str(ip_address(host))
    except ValueError:
        return None


def _name(text: str) -> str | None:
    """A host name as the peer gave it; None for address literals like ``[192.0.2.1]``."""
    if not text or text.startswith("[") or len(text) > 255:
        return None
    try:
        ip_address(text)
    except ValueError:
        return text.lower().rstrip(".")
    return None

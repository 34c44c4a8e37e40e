"""Postfix's log (syslog, or ``maillog_file`` from Postfix 3.4 on: the same frame) -> SMTP sessions.

Postfix spreads one SMTP session over several lines of one process, so this parser keeps a little
state per open session, keyed by the process that logged them (host, program, pid).

Inbound: an ``smtpd`` session runs from ``connect from host[addr]`` to ``disconnect from
host[addr] <command counts>`` (src/smtpd/smtpd.c). With ``smtpd_tls_loglevel >= 1`` the TLS
handshake logs one summary line in between (src/tls/tls_misc.c ``tls_log_summary``)::

    Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1.2 with cipher
    ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)[ key-exchange X25519 server-signature ...]

``Anonymous|Untrusted|Trusted|Verified`` says what was verified; Postfix >= 3.4 appends the key
exchange and signature details, and a server that accepted SNI logs ``from host[addr] to <sni>``.
With ``smtpd_client_port_logging = yes`` every ``host[addr]`` carries ``:port``. One observation
per session, emitted at ``disconnect``:

- a TLS summary line was seen: that version and cipher;
- no summary, but the command counts say ``starttls=1`` (or the listener runs TLS from the first
  byte, ``smtps``/``submissions`` in its syslog name): TLS was used, yet Postfix logged no detail
  (``smtpd_tls_loglevel = 0``, which logs nothing about TLS, see postconf.proto): the session is
  TLS of unknown version (``version_ambiguous``), counted, and ``warnings()`` says what to set;
- otherwise plaintext. That includes a failed handshake (``SSL_accept error from host[addr]``,
  ``starttls=0/1``): nothing in that session was protected, and a peer that cannot finish our
  handshake is exactly one that falls back or fails when TLS 1.2 is required. A plaintext retry
  after it is a second session.

``auth=`` with at least one success, or a ``client=..., sasl_method=`` line of the session, makes
the peer a submission client (``auth=0/1``, a failed attempt, does not). Sessions still open when
the input ends are emitted by ``finish()``, and a session whose process logs a new ``connect``
without a ``disconnect`` first (a crash, lost lines) is emitted then. A ``disconnect`` whose
session began before the log did is counted, not guessed at; a TLS line without its ``connect``
opens the session. Every session is emitted, with or without a message: a peer that only says
EHLO and QUIT still shows how it connects. Postfix < 3.0 logs no command counts: without a TLS
line such a session is plaintext, and ``warnings()`` says so when no session of the log shows TLS.

Outbound: an ``smtp`` or ``lmtp`` process logs ``TLS connection established to host[addr]:port``
when it starts TLS, and one delivery line per recipient (src/global/log_adhoc.c)::

    QUEUEID: to=<rcpt>, relay=host[addr]:port[, conn_use=N], delay=..., status=sent (...)

One observation per connection, not per recipient: the recipients of one message share one
connection, and a connection taken from the connection cache (``conn_use=2`` and up, and for TLS a
``TLS connection reused to`` line, src/smtp/smtp_session.c) was counted at its first use. A
delivery over a connection without a TLS line is plaintext; ``relay=none`` (no connection) and
relays that are no network address (LMTP over a UNIX socket) give nothing. A client-side
handshake failure (``SSL_connect error to host[addr]:port``) is a failed, hence plaintext,
session; with ``smtp_tls_security_level = may`` Postfix then retries in plaintext (logging
``QUEUEID: Cannot start TLS: handshake failure``), and the retry is a session of its own. Postfix
with ``smtp_tls_connection_reuse = yes`` has ``tlsproxy`` make the handshake: tlsproxy logs the
same summary line as the smtp process, so tlsproxy lines are ignored (the smtp line counts), and a
failed handshake shows only as ``status=deferred (Cannot start TLS: handshake failure)``.

A session's time is when it began as far as the log shows: the ``connect`` line inbound, the TLS
line outbound (the first delivery line without one); ``origin`` names the line that completed it
(the ``disconnect``, the first delivery line, or for a session never completed its last line, or
the TLS line of a connection whose deliveries are missing). ``peer_host`` is None for
``unknown`` and for names that only repeat the address (a ``[192.0.2.1]`` next hop). A protocol no
:class:`TlsVersion` names (``SSLv3``) makes a session of unknown version, and a warning names it.

Lines of other Postfix daemons (qmgr, cleanup, postscreen, tlsproxy, ...) and of other programs
are IGNORED, as are smtpd/smtp messages that carry nothing for us (warnings, rejects, ``lost
connection after ...``, which precedes ``disconnect``). UNPARSED is for lines without a syslog
frame and for lines that start like one of the messages above but cannot have come from Postfix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from ipaddress import ip_address
from typing import NamedTuple

from mailtls.logs.base import FeedResult, LineKind, LinesResult, LogParser, keep_first
from mailtls.logs.postfix_scan import LINE, OTHER_LINE, joined
from mailtls.logs.syslog import address_domain
from mailtls.logs.timestamps import YearGuesser, stamp_time
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

# Open sessions (smtpd) and per-process connection state (smtp/lmtp) kept at most; past this the
# oldest is dropped and counted. Real servers run a few hundred processes at once: hitting the
# cap means lines were lost (a crash, a log cut in pieces), and memory stays flat either way.
MAX_OPEN = 100_000

LOGLEVEL_WARNING = (
    "Postfix logs no TLS details: set smtpd_tls_loglevel = 1 (and smtp_tls_loglevel = 1) "
    "to see TLS versions"
)

_TLS_VERSIONS = {version.value: version for version in TlsVersion}

# Protocol names no TlsVersion has that a warning names: enough to say what the log holds.
MAX_PROTOCOL_NAMES = 8

# "name[addr]" with an optional ":port" (the smtp client always, smtpd with
# smtpd_client_port_logging). The address may be IPv6 ("unknown[2001:db8::1]").
_NAMADDR = r"(?P<host>[^\s\[\]]+)\[(?P<addr>[^\s\[\]]+)\](?::(?P<port>\d{1,5}))?"

# The connect, disconnect and TLS summary lines are taken apart by postfix_scan.LINE; those it
# could not take apart reach the parser as text, mangled. The start of a summary alone tells a
# mangled one (UNPARSED) from other TLS messages (IGNORED).
_TLS_PREFIX = re.compile(
    r"^(?:(?:Anonymous|Untrusted|Trusted|Verified) )?TLS connection (?:established|reused) "
)
# One word of the command counts: " name=succeeded" or " name=succeeded/total"; other words
# ("notes=bare_lf", whatever later versions add) are passed over.
_COUNT = re.compile(r" ([a-z_-]+)=(\d{1,9})(?:/\d{1,9})?(?= |$)")
_SSL_ACCEPT_ERROR = re.compile(rf"^SSL_accept error from {_NAMADDR}: ")
_SASL_CLIENT = re.compile(rf"^\w+: client={_NAMADDR}, .*\bsasl_(?:method|username)=")
_SSL_CONNECT_ERROR = re.compile(rf"^SSL_connect error to {_NAMADDR}: ")
_CONNECT_TO = re.compile(rf"^connect to {_NAMADDR}: ")
_CANNOT_START_TLS = re.compile(r"^(?P<queue_id>\w+): Cannot start TLS: ")
# Delivery lines are read in steps that each look at the text once: the address is logged as-is
# (it may hold anything but a line break) and the status text is the remote server's, so one
# backtracking pattern over the whole line could take quadratic time on a hostile line.
_DELIVERY_START = re.compile(r"^(?P<queue_id>\w+): to=<")
_DELIVERY_RELAY = re.compile(
    r", relay=(?P<relay>[^,\s]+), (?:conn_use=(?P<conn_use>\d{1,9}), )?delay="
)
_DELIVERY_STATUS = re.compile(r", status=(?P<status>[a-z]+)")
_RELAY = re.compile(rf"^{_NAMADDR}$")


class _Daemon(Enum):
    SERVER = "smtpd"
    WRAPPED_SERVER = "smtpd with TLS from the first byte"  # smtps / submissions listeners
    CLIENT = "smtp or lmtp"


# The members, looked up once: an enum member's attribute lookup costs a function call, and the
# loops below compare with them on every session line of logs of millions.
_CLIENT, _SERVER, _WRAPPED_SERVER = _Daemon.CLIENT, _Daemon.SERVER, _Daemon.WRAPPED_SERVER
_POSTFIX, _INBOUND, _OUTBOUND = LogFormat.POSTFIX, Direction.INBOUND, Direction.OUTBOUND
_MTA, _SUBMISSION = PeerRole.MTA, PeerRole.SUBMISSION
_new_tuple = tuple.__new__

# Services that run TLS from the first byte, as master.cf names them in ``syslog_name``
# ("postfix/smtps/smtpd", "postfix/submissions/smtpd").
_WRAPPER_SERVICES = frozenset({"smtps", "submissions"})


@lru_cache(maxsize=256)  # a log names a few programs; hostile input endless ones
def _daemon(program: str) -> _Daemon | None:
    """Which Postfix daemon logged a line: its name is the last part, after the syslog_name."""
    parts = program.split("/")
    if len(parts) < 2 or not parts[0].startswith("postfix"):
        return None
    name = parts[-1]
    if name == "smtpd":
        wrapped = any(part.rsplit("-", 1)[-1] in _WRAPPER_SERVICES for part in parts[:-1])
        return _Daemon.WRAPPED_SERVER if wrapped else _Daemon.SERVER
    if name in ("smtp", "lmtp"):
        return _Daemon.CLIENT
    return None


@dataclass(frozen=True)
class _Peer:
    ip: str | None  # canonical text; None when Postfix logged no address ("unknown[unknown]")
    host: str | None  # None for "unknown" and for names that are only the address again


# A log names the same peers over and over: a busy relay some tens of thousands (a few MB).
_PEER_CACHE_SIZE = 32_768


# An IPv4 address in its canonical spelling ("192.0.2.1", no leading zeros): ip_address()
# would only give it back, at ten times the cost, once for every peer of every part of a log.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # [0-9]: \d takes other digits too
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


@lru_cache(maxsize=_PEER_CACHE_SIZE)
def _peer_of(host: str, addr: str) -> _Peer:
    ip: str | None = addr
    if not _CANONICAL_IPV4.fullmatch(addr):
        try:
            ip = str(ip_address(addr))
        except ValueError:
            ip = None
    name = None if host in ("unknown", addr, ip) else host
    return _Peer(ip=ip, host=name)


def _peer(match: re.Match[str]) -> _Peer:
    host, addr = match.group("host", "addr")
    return _peer_of(host, addr)


@dataclass(frozen=True)
class _Tls:
    """A TLS summary line: the version if mailtls can name it, and the cipher."""

    version: TlsVersion | None
    cipher: str
    protocol: str  # as logged: "TLSv1.2", or "SSLv3" which no TlsVersion names


@lru_cache(maxsize=1024)  # a few protocols and ciphers, on a line of every TLS session
def _tls_of(protocol: str, cipher: str) -> _Tls:
    return _Tls(_TLS_VERSIONS.get(protocol), cipher, protocol)


# The process that logged a line, as logged: "host program[pid]" (one string, whose hash is
# kept, rather than a tuple hashed again at every look-up)
_Key = str
# Where a line came from: (source, line number), or (origin, None) for a line fed with its origin
# already spelled out. Spelled "source:number" only for the lines that sessions name.
_Where = tuple[str, int | None]

USED, IGNORED, UNPARSED = LineKind.USED, LineKind.IGNORED, LineKind.UNPARSED

_NO_TIME = datetime.min  # never used: every line's stamp is parsed before its first use


def _program_of(key: _Key) -> str:
    """The program of a process's key, "host program[pid]" (or "host program")."""
    return key.partition(" ")[2].partition("[")[0]


def _shifted(where: _Where, offset: int) -> _Where:
    source, number = where
    return where if number is None or not offset else (source, number + offset)


class _HeldLine(NamedTuple):
    """A line of a part, held back until the state before the part is known."""

    source: str
    number: int | None
    line: str
    moment: datetime
    key: _Key
    groups: tuple[str | None, ...]
    counted: bool = False  # as unparsed, by a reader that cut it for its length


def _starts_afresh(groups: tuple[str | None, ...]) -> bool:
    """Whether a session daemon's line makes its process's state independent of the lines before
    (but for ending what was open): smtpd's ``connect from``; a new connection of smtp/lmtp."""
    program, message = groups[2] or "", groups[3] or ""
    daemon = _daemon(program)
    if daemon is None:
        return False
    if daemon is not _CLIENT:
        return groups[4] is not None  # "connect from", taken apart
    if ": to=<" in message:
        return False  # read as a delivery line, whatever else it holds
    if groups[7] is not None:
        return groups[8] == "to"
    if message.startswith("SSL_connect error"):
        return _SSL_CONNECT_ERROR.match(message) is not None
    return message.startswith("connect to ") and _CONNECT_TO.match(message) is not None


def _origin(where: _Where) -> str:
    source, number = where
    return source if number is None else f"{source}:{number}"


@dataclass(slots=True)
class _Inbound:
    """One smtpd session between connect and disconnect (mutable, lives while it is open)."""

    started: datetime
    peer: _Peer
    wrapped: bool
    last_line: _Where
    tls: _Tls | None = None
    handshake_failed: bool = False
    authenticated: bool = False


@dataclass(slots=True)
class _Connection:
    """What one smtp/lmtp process is connected to, as far as its lines show."""

    relay: str  # "host[addr]:port" exactly as logged: TLS and delivery lines name it alike
    peer: _Peer
    started: datetime
    line: _Where  # the line that opened it
    tls: _Tls | None = None
    failed: bool = False  # its handshake failed; already emitted as such
    counted: bool = False  # emitted (or, for a cached connection, emitted at its first use)
    queue_id: str | None = None  # the message whose delivery lines emitted it
    domain: str | None = None  # the recipient domain of the delivery that emitted it


@dataclass(slots=True)
class _Client:
    connection: _Connection | None = None
    failed_queue_id: str | None = None  # "Cannot start TLS" with no SSL_connect line (tlsproxy)


@dataclass(frozen=True)
class _Delivery:
    queue_id: str
    relay: str  # "host[addr]:port", or "none" when no connection was made
    conn_use: int  # 1 for a new connection, N for its N-th use from the connection cache
    reason: str  # the text in parentheses after status=
    recipient_domain: str | None


def _delivery(text: str) -> _Delivery | None:
    """``QUEUEID: to=<rcpt>, [orig_to=<...>, ]relay=R, [conn_use=N, ]delay=..., status=S (why)``."""
    start = _DELIVERY_START.match(text)
    if start is None:
        return None
    relay = _DELIVERY_RELAY.search(text, start.end())
    if relay is None:
        return None
    status_at = text.find(", status=", relay.end())
    status = _DELIVERY_STATUS.match(text, status_at) if status_at >= 0 else None
    if status is None:
        return None
    rest = text[status.end() :]
    reason = rest[2:-1] if rest.startswith(" (") and rest.endswith(")") else ""
    conn_use = relay.group("conn_use")
    recipient_end = text.find(">", start.end(), relay.start())
    recipient = text[start.end() : recipient_end] if recipient_end >= 0 else ""
    return _Delivery(
        queue_id=start.group("queue_id"),
        relay=relay.group("relay"),
        conn_use=int(conn_use) if conn_use is not None else 1,
        reason=reason,
        recipient_domain=address_domain(recipient),
    )


@dataclass(frozen=True)
class PostfixCounts:
    """What the parser met besides the sessions it emitted; ``warnings()`` is built from these."""

    inbound: int = 0
    outbound: int = 0
    tls_without_details: int = 0  # STARTTLS used, but no summary line: smtpd_tls_loglevel = 0
    failed_handshakes: int = 0  # reported as plaintext sessions
    unknown_protocols: int = 0  # summary lines naming a protocol TlsVersion has no member for
    cut_sessions: int = 0  # a disconnect whose session began before the log did
    dropped_sessions: int = 0  # open past MAX_OPEN: the oldest was forgotten
    reused_connections: int = 0  # deliveries over cached connections, counted at first use
    inbound_tls_lines: int = 0
    outbound_tls_lines: int = 0
    inbound_without_counts: int = 0  # plaintext by default: Postfix < 3.0 logs no command counts
    outbound_plaintext: int = 0


class PostfixParser(LogParser):
    format = LogFormat.POSTFIX

    def __init__(self, years: YearGuesser | None = None, *, max_open: int = MAX_OPEN) -> None:
        self._years = years if years is not None else YearGuesser()
        self._max_open = max(1, max_open)
        self._inbound: dict[_Key, _Inbound] = {}
        self._clients: dict[_Key, _Client] = {}
        self._tally: Counter[str] = Counter()  # PostfixCounts' fields, while reading
        # The names, a few: the first in alphabetical order (not in order of appearance, which
        # a log read in parts would change).
        self._unknown_protocols: set[str] = set()
        # Reading a part of a log (see hold()): the lines held back, and for every process met
        # the line from which on its lines were read here.
        self._held: list[_HeldLine] | None = None
        self._settled: dict[_Key, _Where] = {}

    # --- the interface ----------------------------------------------------------------------

    def feed(self, line: str, origin: str) -> FeedResult:
        result = self._read((line,), origin, None)
        kind = UNPARSED if result.unparsed else IGNORED if result.ignored else USED
        return FeedResult(kind, result.observations)

    def feed_lines(
        self, lines: Sequence[str], source: str, first_number: int, *, block: str | None = None
    ) -> LinesResult:
        return self._read(lines, source, first_number, block)

    def _read(
        self,
        lines: Sequence[str],
        source: str,
        first_number: int | None,
        block: str | None = None,
    ) -> LinesResult:
        """Lines of ``source`` from its line ``first_number`` on (None: ``source`` is the whole
        origin). One match per line (see postfix_scan): only session daemons' lines get more
        than a comparison, and the three messages most of them are come taken apart."""
        emitted: list[SessionObservation] = []
        text, broken = ("\n" + block, []) if block is not None else joined(lines)
        unparsed: list[int] = []
        used = held = 0
        years, dispatch = self._years, self._dispatch
        holding, settled = self._held, self._settled
        line_count = len(lines)
        # Busy logs repeat a time stamp on many lines: parse each once.
        last_stamp, moment = "", _NO_TIME
        index = -1
        for match in LINE.finditer(text):
            index += 1
            kind_of_line = match.lastindex
            if kind_of_line == OTHER_LINE:
                continue  # framed, another program's or a message nobody reads: ignored
            if kind_of_line is None:
                if index < line_count:  # not the "\n" after the last line
                    unparsed.append(index)  # no frame
                continue
            groups = match.groups()
            stamp, key = groups[0], groups[1]
            if stamp != last_stamp:
                stamped = stamp_time(stamp, years)
                if stamped is None:  # the shape of a stamp, but no time ("Feb 30")
                    unparsed.append(index)
                    continue
                last_stamp, moment = stamp, stamped
            number = None if first_number is None else first_number + index
            if holding is not None and key not in settled:
                # Reading a part of a log: what came before is not known here (see hold()).
                if not _starts_afresh(groups):
                    holding.append(_HeldLine(source, number, lines[index], moment, key, groups))
                    held += 1
                    continue
                settled[key] = (source, number)
            kind = dispatch(key, moment, (source, number), groups, emitted)
            if kind is USED:
                used += 1
            elif kind is UNPARSED:
                unparsed.append(index)
        if broken:  # left empty in the text, so unparsed already; no line is counted twice
            unparsed = sorted(set(unparsed).union(broken))
        ignored = line_count - used - len(unparsed) - held
        return LinesResult(used, ignored, tuple(unparsed), tuple(emitted))

    def _dispatch(
        self,
        key: _Key,
        moment: datetime,
        where: _Where,
        groups: tuple[str | None, ...],
        emitted: list[SessionObservation],
    ) -> LineKind:
        """One session daemon's line, as postfix_scan.LINE took it apart."""
        (
            _, _, program, message,
            connect_name, connect_address,
            counts,
            usage, direction, tls_name, tls_address, tls_port, protocol, cipher,
            _,
        ) = groups  # fmt: skip
        message = message or ""  # program and message are in every match: None only for mypy
        daemon = _daemon(program or "")
        if daemon is _CLIENT:
            # Delivery lines first, as _client_line reads them: "to=<" may follow anything.
            if usage is None or ": to=<" in message:
                return self._client_line(message, key, moment, where, emitted)
            if direction != "to":
                return IGNORED
            relay = f"{tls_name}[{tls_address}]"
            connection = _Connection(
                relay if tls_port is None else f"{relay}:{tls_port}",
                _peer_of(tls_name or "", tls_address or ""),
                moment,
                where,
                _tls_of(protocol or "", cipher or ""),
            )
            connection.counted = usage == "reused"
            self._client_tls(key, connection, emitted)
            return USED
        wrapped = daemon is _WRAPPED_SERVER
        inbound = self._inbound
        # The three lines of most sessions, spelt out: a few hundred thousand each per million
        # lines of a busy log.
        if connect_name is not None:
            previous = inbound.pop(key, None)
            if previous is not None:  # its disconnect line is missing (a crash, lost lines)
                emitted.append(self._close_inbound(previous, where))
            peer = _peer_of(connect_name, connect_address or "")
            self._open_inbound(key, _Inbound(moment, peer, wrapped, where))
            return USED
        if counts is not None:
            ended = inbound.pop(key, None)
            if ended is None:
                self._count("cut_sessions")
            else:
                emitted.append(self._close_inbound(ended, where, counts))
            return USED
        if usage is not None:
            if direction != "from":
                return IGNORED
            self._count("inbound_tls_lines")
            peer = _peer_of(tls_name or "", tls_address or "")
            session = self._session(key, moment, where, peer, wrapped)
            session.tls = self._checked_tls(_tls_of(protocol or "", cipher or ""))
            return USED
        return self._server_line(message, key, moment, where, emitted, wrapped=wrapped)

    # --- reading a log in parts (mailtls.logs.parts) -----------------------------------------

    def hold(self) -> None:
        """Read from here on as a part of a log whose earlier lines another parser reads.

        The state of a process at the start of the part is unknown here, so a process's lines
        are held back, unread, until one that starts afresh: ``connect from`` for smtpd, a
        new connection (TLS line, ``SSL_connect error``, ``connect to``) for smtp/lmtp. From that
        line on its lines are read as usual. :meth:`absorb` later reads the held lines on the
        state the earlier lines left, ends there what that line ended, and takes over the rest.
        """
        self._held = []

    @property
    def held_lines(self) -> int:
        return len(self._held or ())

    def count_held_from(self, index: int) -> None:
        """The held lines from ``index`` on were counted already (lines cut for length)."""
        held = self._held or []
        held[index:] = [line._replace(counted=True) for line in held[index:]]

    @property
    def years(self) -> YearGuesser:
        return self._years

    def absorb(
        self, part: PostfixParser, line_offset: int
    ) -> tuple[list[SessionObservation], list[tuple[int | None, str, LineKind | None]]]:
        """Carry on with a part read by ``part`` (in :meth:`hold` mode) after this parser's
        lines; the part's line numbers start ``line_offset`` lines into its source.

        Returns the sessions this completes, and each held line's number, text and kind (the
        part counted none of them; None for those counted already)."""
        emitted: list[SessionObservation] = []
        kinds: list[tuple[int | None, str, LineKind | None]] = []
        for held in part._held or ():
            where = _shifted((held.source, held.number), line_offset)
            kind = self._dispatch(held.key, held.moment, where, held.groups, emitted)
            kinds.append((where[1], held.line, None if held.counted else kind))
        for key, settled_at in part._settled.items():
            where = _shifted(settled_at, line_offset)
            if _daemon(_program_of(key)) is _CLIENT:
                client = self._clients.pop(key, None)
                if client is not None and client.connection is not None:
                    self._unreported(client.connection, emitted)
            else:
                previous = self._inbound.pop(key, None)
                if previous is not None:  # no disconnect line before the part's connect
                    emitted.append(self._close_inbound(previous, where))
        for key, session in part._inbound.items():
            session.last_line = _shifted(session.last_line, line_offset)
            self._open_inbound(key, session)
        for key, client in part._clients.items():
            if client.connection is not None:
                client.connection.line = _shifted(client.connection.line, line_offset)
            self._clients[key] = client
        self._tally.update(part._tally)
        for name in part._unknown_protocols:
            keep_first(self._unknown_protocols, name, MAX_PROTOCOL_NAMES)
        self._years.carry_on_from(part._years)
        return emitted, kinds

    def finish(self) -> tuple[SessionObservation, ...]:
        observations = [self._close_inbound(session, None) for session in self._inbound.values()]
        for client in self._clients.values():
            if client.connection is not None:
                self._unreported(client.connection, observations)
        self._inbound.clear()
        self._clients.clear()
        return tuple(observations)

    def warnings(self) -> tuple[str, ...]:
        counts = self.counts
        found: list[str] = []
        if counts.tls_without_details:
            found.append(
                f"{LOGLEVEL_WARNING} ({counts.tls_without_details} inbound session(s) used TLS "
                "of unknown version)"
            )
        if counts.inbound_without_counts and not counts.inbound_tls_lines:
            found.append(
                f"{counts.inbound_without_counts} inbound session(s) look plaintext, but their "
                "disconnect lines carry no command counts (Postfix < 3.0) and no session shows a "
                "TLS line: if smtpd_tls_loglevel = 0, some of them used TLS; set "
                "smtpd_tls_loglevel = 1 to see TLS versions"
            )
        if counts.outbound_plaintext and not counts.outbound_tls_lines:
            found.append(
                f"{counts.outbound_plaintext} outbound session(s) look plaintext and none shows "
                "TLS: if smtp_tls_loglevel = 0, Postfix logs no TLS for deliveries that used it; "
                "set smtp_tls_loglevel = 1 to see TLS versions"
            )
        if self._unknown_protocols:
            names = ", ".join(sorted(self._unknown_protocols))
            found.append(
                f"{counts.unknown_protocols} TLS line(s) name a protocol that is no TLS version "
                f"mailtls knows ({names}): those sessions count as TLS of unknown version"
            )
        if counts.cut_sessions:
            found.append(
                f"{counts.cut_sessions} inbound session(s) began before the log did and were "
                "left out"
            )
        if counts.dropped_sessions:
            found.append(
                f"{counts.dropped_sessions} session(s) were still open when more than "
                f"{self._max_open} others were, and were left out (are lines missing?)"
            )
        return tuple(found)

    @property
    def counts(self) -> PostfixCounts:
        return PostfixCounts(**self._tally)

    # --- smtpd: inbound ---------------------------------------------------------------------

    def _server_line(
        self,
        text: str,
        key: _Key,
        moment: datetime,
        where: _Where,
        emitted: list[SessionObservation],
        *,
        wrapped: bool,
    ) -> LineKind:
        # Well-formed connect, disconnect and TLS summary lines were read in _dispatch.
        if text.startswith(("connect from", "disconnect from")):
            return UNPARSED
        if "TLS connection " in text:
            return UNPARSED if _TLS_PREFIX.match(text) else IGNORED
        if text.startswith("SSL_accept error"):
            match = _SSL_ACCEPT_ERROR.match(text)
            if match is None:
                return UNPARSED
            self._session(key, moment, where, _peer(match), wrapped).handshake_failed = True
            return USED
        if ": client=" in text and "sasl_" in text:
            match = _SASL_CLIENT.match(text)
            session = self._inbound.get(key)
            if match is None or session is None:
                return IGNORED
            session.authenticated = True
            session.last_line = where
            return USED
        return IGNORED

    def _session(
        self, key: _Key, moment: datetime, where: _Where, peer: _Peer, wrapped: bool
    ) -> _Inbound:
        """The open session of this process; a TLS line without one opens it (log cut)."""
        session = self._inbound.get(key)
        if session is None:
            session = _Inbound(moment, peer, wrapped, where)
            self._open_inbound(key, session)
        session.last_line = where
        return session

    def _open_inbound(self, key: _Key, session: _Inbound) -> None:
        if len(self._inbound) >= self._max_open:
            del self._inbound[next(iter(self._inbound))]
            self._count("dropped_sessions")
        self._inbound[key] = session

    def _close_inbound(
        self,
        session: _Inbound,
        where: _Where | None,
        counts: str | None = None,
    ) -> SessionObservation:
        """The observation for a session that ended at line ``where`` (None: at the end of the
        input); ``counts`` is the disconnect line's command counts as logged (" ehlo=1 quit=1"),
        None when no line said how it ended."""
        tally = self._tally
        tally["inbound"] += 1
        tls = session.tls
        # The command counts are read only where they can change the outcome: "auth=" on
        # every session, "starttls=" and their absence on sessions without a TLS line.
        succeeded = (
            None
            if counts is None or (tls is not None and "auth=" not in counts)
            else _command_counts(counts)
        )
        submission = session.authenticated or (succeeded is not None and "auth" in succeeded)
        tls_version: TlsVersion | None = None
        cipher: str | None = None
        ambiguous = False
        if tls is not None:
            tls_version, cipher = tls.version, tls.cipher
            ambiguous = tls_version is None
        elif session.handshake_failed:
            tally["failed_handshakes"] += 1
        elif session.wrapped or (succeeded is not None and "starttls" in succeeded):
            ambiguous = True  # TLS without a summary line: smtpd_tls_loglevel = 0
            tally["tls_without_details"] += 1
        elif counts is not None and not _COUNT.search(counts):
            tally["inbound_without_counts"] += 1  # Postfix < 3.0: a bare "disconnect from"
        peer = session.peer
        source, number = where if where is not None else session.last_line
        # tuple.__new__ is what SessionObservation(...) ends in, without the named tuple's own
        # __new__ on the way: every field, in order (no domain: smtpd logs none).
        return _new_tuple(
            SessionObservation,
            (
                _POSTFIX,
                _INBOUND,
                session.started,
                peer.ip,
                peer.host,
                tls_version,
                cipher,
                _SUBMISSION if submission else _MTA,
                ambiguous,
                source if number is None else f"{source}:{number}",
                None,
            ),
        )

    # --- smtp / lmtp: outbound --------------------------------------------------------------

    def _client_line(
        self,
        text: str,
        key: _Key,
        moment: datetime,
        where: _Where,
        emitted: list[SessionObservation],
    ) -> LineKind:
        if ": to=<" in text:
            delivery = _delivery(text)
            if delivery is None:
                return IGNORED
            return self._delivery(key, moment, where, delivery, emitted)
        if "TLS connection " in text:  # a well-formed summary was read in _dispatch
            return UNPARSED if _TLS_PREFIX.match(text) else IGNORED
        if text.startswith("SSL_connect error"):
            match = _SSL_CONNECT_ERROR.match(text)
            if match is None:
                return UNPARSED
            client = self._client(key)
            self._new_connection(client, emitted)
            failed = _Connection(
                relay=_relay_text(match),
                peer=_peer(match),
                started=moment,
                line=where,
                failed=True,
                counted=True,
            )
            client.connection = failed
            emitted.append(self._outbound(failed, where))
            return USED
        if text.startswith("connect to "):
            if _CONNECT_TO.match(text) is None:
                return IGNORED  # no "host[addr]": not the connection failure we know
            self._new_connection(self._client(key), emitted)
            return USED
        cannot = _CANNOT_START_TLS.match(text)
        if cannot is not None:
            client = self._client(key)
            current = client.connection
            if current is None or not current.failed:
                # tlsproxy made the handshake and logged its failure itself: the retry's
                # delivery line will name the server.
                client.failed_queue_id = cannot.group("queue_id")
            return USED
        return IGNORED

    def _client_tls(
        self, key: _Key, connection: _Connection, emitted: list[SessionObservation]
    ) -> None:
        """``TLS connection established|reused to relay``: the process's new connection (a
        reused one, taken from the connection cache, was counted at its first use)."""
        self._count("outbound_tls_lines")
        if connection.tls is not None:
            self._checked_tls(connection.tls)
        client = self._client(key)
        self._new_connection(client, emitted)
        client.connection = connection

    def _delivery(
        self,
        key: _Key,
        moment: datetime,
        where: _Where,
        delivery: _Delivery,
        emitted: list[SessionObservation],
    ) -> LineKind:
        relay_match = _RELAY.match(delivery.relay)
        if relay_match is None:
            return IGNORED  # relay=none: no connection was made
        peer = _peer(relay_match)
        if peer.ip is None:
            return IGNORED  # a UNIX socket ("private/dovecot-lmtp"): no network peer
        if delivery.conn_use > 1:
            self._count("reused_connections")
            return USED  # over a cached connection: counted where it was first used
        relay, queue_id = delivery.relay, delivery.queue_id
        handshake_failed = delivery.reason.startswith("Cannot start TLS")
        client = self._client(key)
        if client.failed_queue_id == queue_id:
            # tlsproxy's handshake failed, Postfix retried: the failure is a session too.
            client.failed_queue_id = None
            self._end_connection(client, emitted)
            client.connection = _Connection(relay, peer, moment, where, failed=True, counted=True)
            emitted.append(self._outbound(client.connection, where))
        current = client.connection
        if current is not None and current.relay == relay:
            if current.failed and handshake_failed:
                return USED  # that failure, already emitted
            if not current.failed and not current.counted:
                current.counted, current.queue_id = True, queue_id
                current.domain = delivery.recipient_domain
                emitted.append(self._outbound(current, where))
                return USED
            if not current.failed and current.queue_id == queue_id:
                return USED  # another recipient, same session
        # A connection without a TLS line: plaintext. (A different message without conn_use is
        # a new connection: a process reuses one only through the connection cache.)
        self._end_connection(client, emitted)
        client.connection = _Connection(
            relay,
            peer,
            moment,
            where,
            failed=handshake_failed,
            counted=True,
            queue_id=queue_id,
            domain=delivery.recipient_domain,
        )
        emitted.append(self._outbound(client.connection, where))
        return USED

    def _client(self, key: _Key) -> _Client:
        client = self._clients.pop(key, None)
        if client is None:
            client = _Client()
            if len(self._clients) >= self._max_open:
                dropped = self._clients.pop(next(iter(self._clients))).connection
                if dropped is not None and not dropped.counted:  # a session never reported
                    self._count("dropped_sessions")
        self._clients[key] = client  # most recently used last: the oldest goes first
        return client

    def _new_connection(self, client: _Client, emitted: list[SessionObservation]) -> None:
        """The process connects anew (or tries to): what it did before is over, a tlsproxy
        failure whose retry was never logged included. Nothing of the process's past counts
        from here on, which lets a log be read in parts (see hold())."""
        self._end_connection(client, emitted)
        client.failed_queue_id = None

    def _end_connection(self, client: _Client, emitted: list[SessionObservation]) -> None:
        """The process moved on: its last connection is over, reported if it never was."""
        connection, client.connection = client.connection, None
        if connection is not None:
            self._unreported(connection, emitted)

    def _unreported(self, connection: _Connection, emitted: list[SessionObservation]) -> None:
        if not connection.counted:
            connection.counted = True
            # A TLS connection whose deliveries the log does not show: its TLS line is its
            # record.
            emitted.append(self._outbound(connection, connection.line))

    def _outbound(self, connection: _Connection, where: _Where) -> SessionObservation:
        self._count("outbound")
        tls = connection.tls
        if connection.failed:
            self._count("failed_handshakes")
        if tls is None:
            self._count("outbound_plaintext")
        return SessionObservation(
            source=_POSTFIX,
            direction=_OUTBOUND,
            timestamp=connection.started,
            peer_ip=connection.peer.ip,
            peer_host=connection.peer.host,
            tls_version=tls.version if tls is not None else None,
            cipher=tls.cipher if tls is not None else None,
            role=_MTA,
            version_ambiguous=tls is not None and tls.version is None,
            origin=_origin(where),
            peer_domain=connection.domain,
        )

    # --- shared -----------------------------------------------------------------------------

    def _checked_tls(self, tls: _Tls) -> _Tls:
        """Note protocols no TlsVersion names ("SSLv3"); a few names are enough to warn."""
        if tls.version is None:
            self._count("unknown_protocols")
            keep_first(self._unknown_protocols, tls.protocol, MAX_PROTOCOL_NAMES)
        return tls

    def _count(self, name: str) -> None:
        self._tally[name] += 1


def _relay_text(match: re.Match[str]) -> str:
    """The "host[addr]:port" of a line, spelled as that connection's delivery lines spell it."""
    port = match.group("port")
    text = f"{match.group('host')}[{match.group('addr')}]"
    return f"{text}:{port}" if port is not None else text


@lru_cache(maxsize=4096)  # a few hundred spellings make up a busy server's disconnect lines
def _command_counts(counts: str) -> frozenset[str]:
    """`` ehlo=2 starttls=1 auth=0/1 commands=4/5`` -> the commands that succeeded at least
    once ({"ehlo", "starttls", "commands"})."""
    latest = dict(_COUNT.findall(counts))  # a name logged twice: the last one says
    return frozenset(name for name, succeeded in latest.items() if int(succeeded) > 0)

"""Sendmail through syslog: ``STARTTLS=`` lines for TLS, ``from=`` lines for received messages.

What Sendmail writes (sendmail/tls.c ``tls_get_info``, logged when LogLevel > 8; the default is 9):

    STARTTLS=server, relay=mx.example.net [192.0.2.10], version=TLSv1.2, verify=NO,
        cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256
    STARTTLS=client, relay=mx.example.com., version=TLSv1.3, verify=OK, cipher=..., bits=256/256

``version`` is ``SSL_get_version``; before 8.15.1 it was the cipher's generic ``TLSv1/SSLv3``
whatever the protocol (RELEASE_NOTES 8.15.1), so those sessions used TLS of unknown version.
On the server side ``relay`` is the client as ``$_`` shows it (``name [ip]``, ``[ip]``, ``user@name
[ip]``, ``... (may be forged)``; IPv6 as ``[IPv6:2001:db8::1]``); on the client side it is only the
host name that was connected to.

Plaintext. Sendmail logs no line for an SMTP connection as such, but every received message has a
``from=`` line (sendmail/headers.c ``logsender``) with ``proto=`` and ``relay=name [ip]``, logged
by the process that holds the connection. Since 8.15.1 ``proto`` follows RFC 3848: ``ESMTPS`` /
``ESMTPSA`` over TLS, ``ESMTP`` / ``ESMTPA`` / ``SMTP`` without (srvrsmtp.c ``GET_PROTOCOL``), and
older versions log a ``STARTTLS=server`` line for every TLS session of the same process. So a
received message whose process logged no ``STARTTLS=server`` line and whose ``proto`` has no
``S`` came in over plaintext. Inbound sessions are therefore keyed by process id (Sendmail forks
one process per connection), and a process's messages count as one session.

Outbound plaintext cannot be seen: a delivery's ``to=`` line does not say whether TLS was used,
and connection caching makes it impossible to tell which ``to=`` lines shared a connection. So
outbound sessions are the ``STARTTLS=client`` lines only, and ``warnings()`` says so.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address

from mailtls.logs.base import IGNORED, UNPARSED, FeedResult, LineKind, LogParser
from mailtls.logs.syslog import parse_syslog
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

# Sendmail's syslog idents: sendmail, sm-mta (Debian; sm-mta-<name> for further daemons),
# sm-msp-queue (the submission queue). Not sm-notify, which is NFS's.
PROGRAM = re.compile(r"^(?:sendmail|sm-mta(?:-[\w-]+)?|sm-msp-queue)$")
_STARTTLS = re.compile(
    r"^STARTTLS=(?P<side>server|client), relay=(?P<relay>.*?), version=(?P<version>[^,]*), "
    r"verify=[^,]*, cipher=(?P<cipher>[^,]*)(?:, |$)"
)
# "<queue id>: from=<a@b>, size=1, class=0, nrcpts=1, msgid=<..>, proto=ESMTPS, daemon=MTA,
# relay=mx.example.net [192.0.2.10]" (relay is always last).
_SENDER = re.compile(r"^[A-Za-z0-9]+: from=")
_SENDER_PROTOCOL = re.compile(r", proto=(?P<protocol>[A-Za-z0-9]+)(?:,|$)")
_SENDER_RELAY = ", relay="
_RELAY_ADDRESS = re.compile(r"\[(?:IPv6:)?(?P<ip>[0-9A-Fa-f.:]+)\]")
_TLS_VERSIONS = {
    "TLSv1": TlsVersion.TLS1_0,
    "TLSv1.0": TlsVersion.TLS1_0,
    "TLSv1.1": TlsVersion.TLS1_1,
    "TLSv1.2": TlsVersion.TLS1_2,
    "TLSv1.3": TlsVersion.TLS1_3,
}
_GENERIC_VERSION = "TLSv1/SSLv3"
_PLAIN_PROTOCOLS = frozenset({"SMTP", "ESMTP", "ESMTPA", "UTF8SMTP", "UTF8SMTPA"})
_TLS_PROTOCOLS = frozenset({"ESMTPS", "ESMTPSA", "UTF8SMTPS", "UTF8SMTPSA"})
# A process that logs again after this long is taken as a new connection that reused the pid.
_SAME_CONNECTION = timedelta(hours=1)
MAX_OPEN_SESSIONS = 100_000


@dataclass
class _Inbound:
    """One receiving process: its session so far, and whether it has been reported."""

    observation: SessionObservation
    last_seen: datetime
    reported: bool = False


@dataclass(frozen=True)
class _Relay:
    ip: str | None
    host: str | None


class SendmailParser(LogParser):
    format = LogFormat.SENDMAIL

    def __init__(self, years: YearGuesser, *, max_open: int = MAX_OPEN_SESSIONS) -> None:
        self._years = years
        self._max_open = max(1, max_open)
        self._inbound: OrderedDict[int, _Inbound] = OrderedDict()
        self.evicted = 0  # processes forgotten to keep memory bounded (reported, not lost)
        self._observed = 0
        self._starttls_lines = 0
        self._plaintext_inbound = 0
        self._generic_versions = 0
        self._tls_without_starttls = 0
        self._unknown_versions: set[str] = set()

    def feed(self, line: str, origin: str) -> FeedResult:
        frame = parse_syslog(line, self._years)
        if frame is None:
            return UNPARSED
        if not PROGRAM.match(frame.program):
            return IGNORED
        starttls = _STARTTLS.match(frame.text)
        if starttls is not None:
            return self._starttls(starttls, frame.pid, frame.timestamp, origin)
        if _SENDER.match(frame.text):
            return self._received(frame.text, frame.pid, frame.timestamp, origin)
        return IGNORED

    def finish(self) -> tuple[SessionObservation, ...]:
        pending = tuple(s.observation for s in self._inbound.values() if not s.reported)
        self._inbound.clear()
        self._observed += len(pending)
        return pending

    def warnings(self) -> tuple[str, ...]:
        notes: list[str] = []
        if self._observed:
            notes.append(
                "Sendmail logs no line for an outbound connection without STARTTLS: outbound "
                "plaintext deliveries are not counted, only outbound TLS sessions and inbound "
                "sessions of either kind."
            )
        if self._generic_versions:
            notes.append(
                f"{self._generic_versions} Sendmail session(s) logged version=TLSv1/SSLv3: "
                "Sendmail before 8.15.1 does not log which TLS version was used, so they count "
                "as TLS of unknown version; upgrade Sendmail to 8.15.1 or later to see it."
            )
        if self._tls_without_starttls:
            notes.append(
                f"{self._tls_without_starttls} message(s) were received over TLS (proto=ESMTPS) "
                "but no STARTTLS= line was logged for them: set LogLevel to 9 or higher (the "
                "default is 9) so that Sendmail logs the TLS version."
            )
        if self._plaintext_inbound and not self._starttls_lines:
            notes.append(
                "No STARTTLS= line in this Sendmail log: if LogLevel is below 9, sessions over "
                "TLS are not logged and older Sendmail (before 8.15.1) makes their messages look "
                "like plaintext; set LogLevel to 9 or higher."
            )
        if self._unknown_versions:
            names = ", ".join(sorted(self._unknown_versions)[:5])
            notes.append(
                f"Sendmail logged TLS versions this tool does not know ({names}); those sessions "
                "count as TLS of unknown version."
            )
        return tuple(notes)

    def _starttls(
        self, match: re.Match[str], pid: int | None, timestamp: datetime, origin: str
    ) -> FeedResult:
        self._starttls_lines += 1
        relay = _relay(match.group("relay"))
        if relay.ip is None and relay.host is None:
            return IGNORED  # "relay=local": SMTP over stdin, no network peer
        version, ambiguous = self._version(match.group("version"))
        server = match.group("side") == "server"
        observation = SessionObservation(
            source=LogFormat.SENDMAIL,
            direction=Direction.INBOUND if server else Direction.OUTBOUND,
            timestamp=timestamp,
            peer_ip=relay.ip,
            peer_host=relay.host,
            tls_version=version,
            cipher=match.group("cipher") or None,
            version_ambiguous=ambiguous,
            origin=origin,
        )
        if not server or pid is None:
            # Outbound: the line is the whole story (no AUTH role to wait for).
            self._observed += 1
            return FeedResult(LineKind.USED, (observation,))
        done = self._close(pid)
        self._remember(pid, _Inbound(observation, timestamp))
        return FeedResult(LineKind.USED, done + self._evict())

    def _received(self, text: str, pid: int | None, timestamp: datetime, origin: str) -> FeedResult:
        relay_at = text.rfind(_SENDER_RELAY)
        found = _SENDER_PROTOCOL.search(text, 0, relay_at + 1) if relay_at > 0 else None
        if found is None:
            return IGNORED  # no proto= (a local submission) or no relay=
        protocol = found.group("protocol").upper()
        if protocol not in _PLAIN_PROTOCOLS and protocol not in _TLS_PROTOCOLS:
            return IGNORED  # a protocol name set with -oMr: says nothing about TLS
        relay = _relay(text[relay_at + len(_SENDER_RELAY) :])
        if relay.ip is None:
            return IGNORED  # submitted locally (relay=user@localhost), not over the network
        role = PeerRole.SUBMISSION if protocol.endswith("A") else PeerRole.MTA
        done: tuple[SessionObservation, ...] = ()
        session = self._inbound.get(pid) if pid is not None else None
        if session is not None and (
            session.observation.peer_ip != relay.ip
            or timestamp - session.last_seen > _SAME_CONNECTION
        ):
            done = self._close(pid)
            session = None
        if session is not None:
            session.last_seen = timestamp
            if session.reported:
                return FeedResult(LineKind.USED, done)  # another message of a counted session
            session.reported = True
            self._observed += 1
            # The STARTTLS line named the client; this line adds whether it authenticated.
            final = session.observation._replace(role=role, origin=origin)
            return FeedResult(LineKind.USED, (*done, final))
        tls = protocol in _TLS_PROTOCOLS
        if tls:
            self._tls_without_starttls += 1
        else:
            self._plaintext_inbound += 1
        observation = SessionObservation(
            source=LogFormat.SENDMAIL,
            direction=Direction.INBOUND,
            timestamp=timestamp,
            peer_ip=relay.ip,
            peer_host=relay.host,
            tls_version=None,
            role=role,
            version_ambiguous=tls,
            origin=origin,
        )
        self._observed += 1
        if pid is not None:
            self._remember(pid, _Inbound(observation, timestamp, reported=True))
        return FeedResult(LineKind.USED, (*done, observation, *self._evict()))

    def _version(self, text: str) -> tuple[TlsVersion | None, bool]:
        version = _TLS_VERSIONS.get(text)
        if version is not None:
            return version, False
        if text == _GENERIC_VERSION:
            self._generic_versions += 1
        else:
            self._unknown_versions.add(text[:20])
        return None, True

    def _remember(self, pid: int, session: _Inbound) -> None:
        self._inbound[pid] = session
        self._inbound.move_to_end(pid)

    def _close(self, pid: int | None) -> tuple[SessionObservation, ...]:
        session = self._inbound.pop(pid, None) if pid is not None else None
        if session is None or session.reported:
            return ()
        self._observed += 1
        return (session.observation,)

    def _evict(self) -> tuple[SessionObservation, ...]:
        """Forget the oldest processes past the cap; report the ones not yet reported."""
        done: list[SessionObservation] = []
        while len(self._inbound) > self._max_open:
            _, session = self._inbound.popitem(last=False)
            self.evicted += 1
            if not session.reported:
                self._observed += 1
                done.append(session.observation)
        return tuple(done)


def _relay(text: str) -> _Relay:
    """``name [ip]``, ``[ip]``, ``user@name [ip] (may be forged)``, ``name.`` -> (ip, name)."""
    address = _RELAY_ADDRESS.search(text)
    ip = None
    if address is not None:
        try:
            ip = str(ip_address(address.group("ip")))
        except ValueError:
            ip = None
    name = text.split(" ", 1)[0].rsplit("@", 1)[-1].rstrip(".")
    if not name or name.startswith("[") or name == "local":
        return _Relay(ip, None)
    return _Relay(ip, name.lower())

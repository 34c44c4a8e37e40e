"""What the log-producing MTAs are sent, and the peer table that follows from it.

Pure data. Every session is one ``swaks`` run from its own client address; every message a
submission client sends to an ``*.out.maillogs.test`` domain is relayed by that MTA to a fleet
listener. ``expected_table`` derives the peer table from this plan alone, never from the logs,
so a test that compares a parsed log with it compares the log with what really happened.

Real-world facts the derivation relies on:
- One ``swaks`` run is one SMTP session carrying at most one message; swaks ends every session
  with QUIT, so Postfix logs exactly one ``connect from`` and one ``disconnect from`` line for
  it (``quit=1`` among the command counts).
- Exim writes nothing for a session that delivers no message (no ``<=`` line): the plan gives
  Exim no message-less session, because a log cannot show it.
- An MTA delivers the recipients of one message that go the same way (same transport, same
  server) in one SMTP session, one RCPT each. Postfix's connection cache, which could carry a
  second message over the same session, is turned off in the Postfix configuration
  (``smtp_connection_cache_on_demand = no``), and Exim reuses a connection only in queue runs,
  which this Exim never starts; so each message opens its own session to each server.
- The TLS version of an outbound session is the highest one both the client transport and the
  fleet listener allow (``negotiated``); a listener without STARTTLS gives a plaintext session.
- Mail for the sink domain is delivered on the machine, not over SMTP: Postfix's discard agent
  logs ``relay=none, ... status=sent``, Exim ``=> :blackhole: <...> R=sink``. Neither is an
  outbound session, and the table has no row for them.
- Without a client certificate Postfix's smtpd logs "Anonymous TLS connection established
  from"; its smtp client, which verifies nothing at security level "may", logs "Untrusted TLS
  connection established to". A session told to stop after the handshake sends QUIT inside TLS
  without a second EHLO (``ehlo=1 starttls=1 quit=1``).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mailtls.models import Direction, Endpoint, LogFormat, PeerRole, TlsVersion
from tests.integration.fleet import Listener, Posture, listener_for

TLS10, TLS11, TLS12, TLS13 = TlsVersion
ALL_VERSIONS = frozenset(TlsVersion)

PARENT_DOMAIN = "maillogs.test"
SINK_DOMAIN = f"sink.{PARENT_DOMAIN}"  # accepted and thrown away by the receiving MTA

# Addresses of their own, away from the fleet (127.0.2.x, 127.0.5.53), the hostile servers
# (127.0.3.x), the demo (127.0.4.x) and the addresses tests borrow (127.0.9.x).
CLIENT_NETWORK = ipaddress.ip_network("127.0.7.0/24")
POSTFIX_MX = Endpoint(ip="127.0.8.1", port=25)
POSTFIX_SUBMISSION = Endpoint(ip="127.0.8.2", port=587)
EXIM_MX = Endpoint(ip="127.0.8.10", port=25)


@dataclass(frozen=True)
class Login:
    """SMTP AUTH PLAIN credentials: what makes a client a submission client."""

    user: str
    password: str


@dataclass(frozen=True)
class Route:
    """Where an MTA sends one outbound domain: a client transport and a fleet listener."""

    domain: str
    transport: str  # Postfix: the master.cf service; Exim: the transport's name
    listener: Listener
    client_versions: frozenset[TlsVersion]  # what that transport offers

    @property
    def server(self) -> Endpoint:
        return self.listener.endpoint

    @property
    def negotiated(self) -> TlsVersion | None:
        """The version the session uses: the highest both sides allow; None without STARTTLS."""
        if not self.listener.starttls:
            return None
        common = self.client_versions & self.listener.tls_versions
        if not common:
            raise ValueError(f"{self.domain}: client and server share no TLS version")
        return max(common, key=lambda version: version.rank)


@dataclass(frozen=True)
class Session:
    """One swaks run: a client address opens one SMTP session to a receiving MTA.

    ``tls`` pins the only version the client offers (None: plaintext, no STARTTLS at all).
    Without recipients the client quits right after the TLS handshake (or after EHLO): a
    session that carries no message, as scanners and broken senders open.
    """

    mta: LogFormat
    server: Endpoint
    client_ip: str
    tls: TlsVersion | None
    recipients: tuple[str, ...] = ()
    login: Login | None = None

    @property
    def role(self) -> PeerRole:
        return PeerRole.SUBMISSION if self.login is not None else PeerRole.MTA

    @property
    def sender(self) -> str:
        host = self.client_ip.replace(".", "-")
        return f"sender@{host}.{PARENT_DOMAIN}"

    @property
    def helo(self) -> str:
        return f"client-{self.client_ip.replace('.', '-')}.{PARENT_DOMAIN}"


@dataclass(frozen=True)
class ExpectedPeer:
    """One row of the peer table the logs must give.

    ``sessions`` counts sessions per TLS version, None for plaintext, absent kinds omitted.
    ``messages`` is the number of messages carried (inbound: accepted; outbound: delivered),
    ``recipients`` the number of recipients among them (Postfix logs one ``to=`` line, Exim
    one ``=>``/``->`` line per recipient).
    """

    source: LogFormat  # the log, named as SessionObservation.source names it
    direction: Direction
    peer_ip: str
    role: PeerRole
    sessions: Mapping[TlsVersion | None, int]
    messages: int
    recipients: int

    @property
    def key(self) -> tuple[LogFormat, Direction, str]:
        return (self.source, self.direction, self.peer_ip)

    @property
    def total(self) -> int:
        return sum(self.sessions.values())

    def count(self, version: TlsVersion | None) -> int:
        return self.sessions.get(version, 0)


# --- Routes: the relaying MTA's outbound domains ----------------------------------------------

_MODERN = listener_for(Posture.MODERN)  # 127.0.2.1, TLS 1.2 and 1.3
_TLS12_ONLY = listener_for(Posture.TLS12_ONLY)  # 127.0.2.2
_LEGACY = listener_for(Posture.LEGACY)  # 127.0.2.3, TLS 1.0 and 1.1 only
_PLAIN = listener_for(Posture.NO_STARTTLS)  # 127.0.2.4, no STARTTLS
_IPV6 = listener_for(Posture.IPV6)  # ::1, TLS 1.2 and 1.3


def _out(label: str) -> str:
    return f"{label}.out.{PARENT_DOMAIN}"


POSTFIX_ROUTES: tuple[Route, ...] = (
    Route(_out("modern"), "smtp", _MODERN, ALL_VERSIONS),
    Route(_out("tls12"), "smtp", _TLS12_ONLY, ALL_VERSIONS),
    # The default transport offers every version, so the legacy listener settles on TLS 1.1;
    # a second transport that offers TLS 1.0 only shows the oldest version on the same peer.
    Route(_out("legacy"), "smtp", _LEGACY, ALL_VERSIONS),
    Route(_out("legacy10"), "smtp-tlsv1", _LEGACY, frozenset({TLS10})),
    Route(_out("plain"), "smtp", _PLAIN, ALL_VERSIONS),
    Route(_out("v6"), "smtp", _IPV6, ALL_VERSIONS),
)

EXIM_ROUTES: tuple[Route, ...] = (
    Route(_out("modern"), "remote_smtp", _MODERN, ALL_VERSIONS),
    Route(_out("legacy"), "remote_smtp", _LEGACY, ALL_VERSIONS),
    Route(_out("plain"), "remote_smtp", _PLAIN, ALL_VERSIONS),
)

ROUTES: Mapping[LogFormat, tuple[Route, ...]] = MappingProxyType(
    {LogFormat.POSTFIX: POSTFIX_ROUTES, LogFormat.EXIM: EXIM_ROUTES}
)


def route_for(mta: LogFormat, recipient: str) -> Route | None:
    """The route of an outbound recipient; None for mail the MTA keeps (the sink domain)."""
    domain = recipient.rpartition("@")[2]
    if domain == SINK_DOMAIN:
        return None
    for route in ROUTES[mta]:
        if route.domain == domain:
            return route
    raise ValueError(f"{mta}: no route for {recipient}")


# --- Sessions ---------------------------------------------------------------------------------

POSTFIX_LOGIN = Login(user="alice", password="postfix-submission-secret")
EXIM_LOGIN = Login(user="carol", password="exim-submission-secret")


def _client(number: int) -> str:
    return str(CLIENT_NETWORK.network_address + number)


def _sink(count: int = 1) -> tuple[str, ...]:
    return tuple(f"inbox{n}@{SINK_DOMAIN}" for n in range(1, count + 1))


def _to(label: str, *users: str) -> tuple[str, ...]:
    return tuple(f"{user}@{_out(label)}" for user in users)


def _repeat(count: int, session: Session) -> tuple[Session, ...]:
    return (session,) * count


def _postfix_sessions() -> tuple[Session, ...]:
    mx, submission, pf = POSTFIX_MX, POSTFIX_SUBMISSION, LogFormat.POSTFIX
    return (
        *_repeat(3, Session(pf, mx, _client(1), TLS13, _sink())),
        *_repeat(2, Session(pf, mx, _client(2), TLS12, _sink(2))),
        *_repeat(2, Session(pf, mx, _client(3), TLS10, _sink())),
        Session(pf, mx, _client(4), TLS11, _sink()),
        *_repeat(2, Session(pf, mx, _client(5), None, _sink())),
        # A sender whose STARTTLS comes and goes: one peer, two kinds of session.
        Session(pf, mx, _client(7), TLS12, _sink()),
        Session(pf, mx, _client(7), None, _sink()),
        # Sessions without a message: TLS, then QUIT; EHLO, then QUIT.
        Session(pf, mx, _client(8), TLS12),
        Session(pf, mx, _client(8), None),
        # Submission clients (SMTP AUTH) relaying mail out through the fleet.
        Session(
            pf,
            submission,
            _client(6),
            TLS13,
            (*_to("modern", "m1", "m2", "m3"), *_to("plain", "p1")),
            POSTFIX_LOGIN,
        ),
        Session(pf, submission, _client(6), TLS13, _to("modern", "m4"), POSTFIX_LOGIN),
        Session(pf, submission, _client(6), TLS13, _to("tls12", "t1", "t2"), POSTFIX_LOGIN),
        Session(pf, submission, _client(6), TLS13, _to("v6", "v1"), POSTFIX_LOGIN),
        # An old client that still submits over TLS 1.0.
        Session(pf, submission, _client(9), TLS10, _to("legacy", "l1", "l2"), POSTFIX_LOGIN),
        Session(pf, submission, _client(9), TLS10, _to("legacy10", "o1"), POSTFIX_LOGIN),
        Session(pf, submission, _client(9), TLS10, _to("plain", "p2", "p3"), POSTFIX_LOGIN),
    )


def _exim_sessions() -> tuple[Session, ...]:
    mx, ex = EXIM_MX, LogFormat.EXIM
    return (
        *_repeat(2, Session(ex, mx, _client(11), TLS13, _sink())),
        *_repeat(2, Session(ex, mx, _client(12), TLS12, _sink(3))),
        Session(ex, mx, _client(13), TLS10, _sink()),
        *_repeat(2, Session(ex, mx, _client(14), None, _sink())),
        Session(
            ex,
            mx,
            _client(16),
            TLS13,
            (*_to("modern", "m1", "m2"), *_to("plain", "p1")),
            EXIM_LOGIN,
        ),
        Session(ex, mx, _client(16), TLS13, _to("legacy", "l1"), EXIM_LOGIN),
        Session(ex, mx, _client(16), TLS12, _to("modern", "m3"), EXIM_LOGIN),
    )


POSTFIX_SESSIONS = _postfix_sessions()
EXIM_SESSIONS = _exim_sessions()
SESSIONS: tuple[Session, ...] = POSTFIX_SESSIONS + EXIM_SESSIONS


def validate(sessions: Iterable[Session]) -> None:
    """Refuse a plan whose logs could not show what the table claims."""
    roles: dict[tuple[LogFormat, str], PeerRole] = {}
    for session in sessions:
        if ipaddress.ip_address(session.client_ip) not in CLIENT_NETWORK:
            raise ValueError(f"{session.client_ip}: clients come from {CLIENT_NETWORK}")
        if session.mta is LogFormat.EXIM and not session.recipients:
            raise ValueError("Exim does not log a session without a message")
        if session.login is not None and session.tls is None:
            raise ValueError("submission needs TLS: the listeners offer AUTH only after STARTTLS")
        if roles.setdefault((session.mta, session.client_ip), session.role) is not session.role:
            raise ValueError(f"{session.client_ip}: one role per peer, or the table splits it")
        for recipient in session.recipients:
            route_for(session.mta, recipient)  # raises for an unrouted domain


# --- The expected table -----------------------------------------------------------------------


def deliveries(session: Session) -> dict[Route, int]:
    """The outbound sessions a message causes: recipients per (transport, server), one session
    each. Recipients of two domains that share transport and server travel together."""
    batches: dict[tuple[str, Endpoint], Route] = {}
    counts: Counter[Route] = Counter()
    for recipient in session.recipients:
        route = route_for(session.mta, recipient)
        if route is not None:
            route = batches.setdefault((route.transport, route.server), route)
            counts[route] += 1
    return dict(counts)


@dataclass
class _Tally:
    role: PeerRole
    sessions: Counter[TlsVersion | None]
    messages: int = 0
    recipients: int = 0


def _add(
    tallies: dict[tuple[LogFormat, Direction, str], _Tally],
    key: tuple[LogFormat, Direction, str],
    role: PeerRole,
    tls: TlsVersion | None,
    recipients: int,
) -> None:
    tally = tallies.setdefault(key, _Tally(role=role, sessions=Counter()))
    tally.sessions[tls] += 1
    if recipients:
        tally.messages += 1
        tally.recipients += recipients


def expected_table(sessions: Iterable[Session]) -> tuple[ExpectedPeer, ...]:
    """The peer table the logs of ``sessions`` must give, ordered by format, direction, peer."""
    sessions = tuple(sessions)
    validate(sessions)
    tallies: dict[tuple[LogFormat, Direction, str], _Tally] = {}
    for session in sessions:
        key = (session.mta, Direction.INBOUND, session.client_ip)
        _add(tallies, key, session.role, session.tls, len(session.recipients))
        for route, count in deliveries(session).items():
            key = (session.mta, Direction.OUTBOUND, route.server.ip)
            _add(tallies, key, PeerRole.MTA, route.negotiated, count)
    return tuple(
        ExpectedPeer(
            source=key[0],
            direction=key[1],
            peer_ip=key[2],
            role=tally.role,
            sessions=MappingProxyType(dict(tally.sessions)),
            messages=tally.messages,
            recipients=tally.recipients,
        )
        for key, tally in sorted(tallies.items(), key=lambda item: _order(item[0]))
    )


def _order(key: tuple[LogFormat, Direction, str]) -> tuple[str, str, int, int]:
    address = ipaddress.ip_address(key[2])
    return (key[0].value, key[1].value, address.version, int(address))

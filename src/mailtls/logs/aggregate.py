"""Sessions -> one row per peer, streaming: memory follows the number of peers, not of lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailtls.logs.base import keep_first
from mailtls.logs.report import (
    BELOW_TLS12,
    KIND_OF_VERSION,
    ImpactEntry,
    PeerSummary,
    SessionKind,
    Tls12Impact,
)
from mailtls.models import Direction, PeerRole, SessionObservation, TlsVersion

# Weakest first, to pick a peer's weakest session and its example cipher.
_WEAKNESS = (
    SessionKind.PLAINTEXT,
    SessionKind.TLS1_0,
    SessionKind.TLS1_1,
    SessionKind.TLS_UNKNOWN,
    SessionKind.TLS1_2,
    SessionKind.TLS1_3,
)

_WEAKNESS_RANK = {kind: rank for rank, kind in enumerate(_WEAKNESS)}

# PeerAggregator.rows(): the totals by kind, and a row of plain values per peer.
PeerRows = tuple[tuple[int, ...], list[tuple[Any, ...]]]

# Domains kept per peer: enough to say whose mail it is, bounded however many a relay serves.
# The first ones in alphabetical order, so that the choice does not depend on reading order.
MAX_DOMAINS_PER_PEER = 10


# Every kind, in SessionKind's order (iterating the enum itself is slow, once per new peer).
# Inside the aggregator a kind is its index here, and direction and role are booleans: enum
# members hash through a Python method, which five dict lookups per session made a fifth of
# the aggregation's time.
_KINDS = tuple(SessionKind)
_KIND_INDEX = {kind: index for index, kind in enumerate(_KINDS)}
_TLS13, _TLS12, _TLS11, _TLS10 = (
    TlsVersion.TLS1_3,
    TlsVersion.TLS1_2,
    TlsVersion.TLS1_1,
    TlsVersion.TLS1_0,
)
_I13, _I12, _I11, _I10, _IUNKNOWN, _IPLAIN = (
    _KIND_INDEX[KIND_OF_VERSION[_TLS13]],
    _KIND_INDEX[KIND_OF_VERSION[_TLS12]],
    _KIND_INDEX[KIND_OF_VERSION[_TLS11]],
    _KIND_INDEX[KIND_OF_VERSION[_TLS10]],
    _KIND_INDEX[SessionKind.TLS_UNKNOWN],
    _KIND_INDEX[SessionKind.PLAINTEXT],
)
_WEAKNESS_INDEXES = tuple(_KIND_INDEX[kind] for kind in _WEAKNESS)
_INBOUND, _MTA = Direction.INBOUND, PeerRole.MTA
_DIRECTION_OF = {True: Direction.INBOUND, False: Direction.OUTBOUND}
_ROLE_OF = {True: PeerRole.MTA, False: PeerRole.SUBMISSION}

# Before every time in a log: the time of sessions without one, when "the latest" is chosen.
_NEVER = datetime.min.replace(tzinfo=UTC)

# (inbound?, MTA rather than submission client?, address, host name when there is no address)
_Key = tuple[bool, bool, str | None, str | None]


def _no_sessions() -> list[int]:
    return [0] * len(_KINDS)


def _no_ciphers() -> list[tuple[datetime, str] | None]:
    return [None] * len(_KINDS)


@dataclass(slots=True)
class _Tally:
    """A peer's running counts (mutable: one per peer, updated per session), by kind index.

    Nothing in it depends on the order sessions come in (a log read in parts gives the same
    tallies, merged, as read in one go): where one value stands for many, it is the latest
    session's (by time, then the larger value on a tie).
    """

    host: str | None
    host_seen: datetime = _NEVER  # the time of the latest session that named ``host``
    counts: list[int] = field(default_factory=_no_sessions)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    # the latest (time, cipher) of each kind's sessions
    ciphers: list[tuple[datetime, str] | None] = field(default_factory=_no_ciphers)
    domains: set[str] = field(default_factory=set)

    def name(self, host: str, when: datetime) -> None:
        if host == self.host:
            if when > self.host_seen:  # noqa: PLR1730 - max() costs a call, once per session
                self.host_seen = when
        elif self.host is None or (when, host) > (self.host_seen, self.host):
            self.host, self.host_seen = host, when

    def cipher(self, index: int, when: datetime, cipher: str) -> None:
        latest = self.ciphers[index]
        # (when, cipher) > latest, without building the pair for the usual later session
        if latest is None or when > latest[0] or (when == latest[0] and cipher > latest[1]):
            self.ciphers[index] = (when, cipher)

    def add_domain(self, domain: str) -> None:
        keep_first(self.domains, domain, MAX_DOMAINS_PER_PEER)


class PeerAggregator:
    """Add sessions one by one; ``peers()`` gives the table, weakest peers first."""

    def __init__(self) -> None:
        self._tallies: dict[_Key, _Tally] = {}
        self._totals = _no_sessions()

    @property
    def totals(self) -> dict[SessionKind, int]:
        """Sessions by kind, every kind."""
        return dict(zip(_KINDS, self._totals, strict=True))

    def add(self, observation: SessionObservation) -> None:
        self.add_all((observation,))

    def add_all(self, observations: Iterable[SessionObservation]) -> None:
        """``add`` each one: one loop, spelt out, for the hundreds of thousands of sessions of a
        large log."""
        totals, tallies = self._totals, self._tallies
        for observation in observations:
            (
                _, direction, moment, ip, host, version, cipher, role, ambiguous, _, domain,
            ) = observation  # fmt: skip
            if version is None:
                index = _IUNKNOWN if ambiguous else _IPLAIN
            elif version is _TLS13:
                index = _I13
            elif version is _TLS12:
                index = _I12
            elif version is _TLS11:
                index = _I11
            else:
                index = _I10
            totals[index] += 1
            # A peer is its address; without one (some logs name only a host), its host name.
            key = (direction is _INBOUND, role is _MTA, ip, None if ip else host)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(None)
            tally.counts[index] += 1
            if moment is not None:
                first, last = tally.first_seen, tally.last_seen
                if first is None or moment < first:
                    tally.first_seen = moment
                if last is None or moment > last:
                    tally.last_seen = moment
                when = moment
            else:
                when = _NEVER
            if host:
                tally.name(host, when)
            if cipher:
                tally.cipher(index, when, cipher)
            if domain:
                tally.add_domain(domain)

    @property
    def is_empty(self) -> bool:
        return not self._tallies

    def rows(self) -> PeerRows:
        """The table as plain values, for :meth:`merge_rows` in another process (a part of a
        log read elsewhere, mailtls.logs.parts): they pickle and load in a fraction of the time
        of the tallies."""
        rows: list[tuple[Any, ...]] = [
            (
                inbound, mta, ip, host_key,
                t.host, t.host_seen, tuple(t.counts), t.first_seen, t.last_seen,
                tuple(t.ciphers), tuple(t.domains),
            )
            for (inbound, mta, ip, host_key), t in self._tallies.items()
        ]  # fmt: skip
        return tuple(self._totals), rows

    def merge_rows(self, table: PeerRows) -> None:
        """Add the sessions another aggregator counted, as its :meth:`rows` gave them."""
        totals, rows = table
        for index, number in enumerate(totals):
            self._totals[index] += number
        tallies = self._tallies
        for row in rows:
            inbound, mta, ip, host_key, host, seen, counts, first, last, ciphers, domains = row
            key = (inbound, mta, ip, host_key)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(None)
            mine = tally.counts
            for index, number in enumerate(counts):
                mine[index] += number
            for moment in (first, last):
                if moment is not None:
                    if tally.first_seen is None or moment < tally.first_seen:
                        tally.first_seen = moment
                    if tally.last_seen is None or moment > tally.last_seen:
                        tally.last_seen = moment
            if host is not None:
                tally.name(host, seen)
            for index, latest in enumerate(ciphers):
                if latest is not None:
                    tally.cipher(index, *latest)
            for domain in domains:
                tally.add_domain(domain)

    def merge(self, other: PeerAggregator) -> None:
        """Add the sessions another aggregator counted (another part of a log)."""
        self.merge_rows(other.rows())

    def peers(self) -> tuple[PeerSummary, ...]:
        summaries = [self._summary(key, tally) for key, tally in self._tallies.items()]
        rank = _WEAKNESS_RANK
        summaries.sort(
            key=lambda p: (
                p.direction,
                rank[p.weakest],
                -p.total,
                p.peer_ip or "",
                p.peer_host or "",
                p.role,
            )
        )
        return tuple(summaries)

    @staticmethod
    def _summary(key: _Key, tally: _Tally) -> PeerSummary:
        inbound, mta, ip, _ = key
        counts, ciphers = tally.counts, tally.ciphers
        weakest = next(index for index in _WEAKNESS_INDEXES if counts[index])
        example = next(
            (latest[1] for index in _WEAKNESS_INDEXES if (latest := ciphers[index]) is not None),
            None,
        )
        return PeerSummary(
            _DIRECTION_OF[inbound],
            _ROLE_OF[mta],
            ip,
            tally.host,
            dict(zip(_KINDS, counts, strict=True)),
            sum(counts),
            tally.first_seen,
            tally.last_seen,
            example,
            _KINDS[weakest],
            tuple(sorted(tally.domains)) if tally.domains else (),
        )


def _entries(
    peers: tuple[PeerSummary, ...], direction: Direction, kinds: frozenset[SessionKind]
) -> tuple[ImpactEntry, ...]:
    entries = []
    for peer in peers:
        if peer.direction is not direction:
            continue
        affected = sum(peer.sessions[kind] for kind in kinds)
        if affected:
            entries.append(ImpactEntry(peer, affected, round(affected / peer.total, 4)))
    entries.sort(key=lambda e: (-e.affected_sessions, e.peer.peer_ip or ""))
    return tuple(entries)


def tls12_impact(peers: tuple[PeerSummary, ...]) -> Tls12Impact:
    plaintext = frozenset({SessionKind.PLAINTEXT})
    return Tls12Impact(
        inbound_legacy=_entries(peers, Direction.INBOUND, BELOW_TLS12),
        outbound_legacy=_entries(peers, Direction.OUTBOUND, BELOW_TLS12),
        inbound_plaintext=_entries(peers, Direction.INBOUND, plaintext),
        outbound_plaintext=_entries(peers, Direction.OUTBOUND, plaintext),
        legacy_sessions=sum(p.sessions[k] for p in peers for k in BELOW_TLS12),
        total_sessions=sum(p.total for p in peers),
    )

"""Sessions -> one row per peer, streaming: memory follows the number of peers, not of lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailtls.logs.report import (
    BELOW_TLS12,
    KIND_OF_VERSION,
    ImpactEntry,
    PeerSummary,
    SessionKind,
    Tls12Impact,
)
from mailtls.models import Direction, PeerRole, SessionObservation

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

PeerKey = tuple[Direction, PeerRole, str | None, str | None]
# PeerAggregator.rows(): the totals by kind, and a row of plain values per peer.
PeerRows = tuple[tuple[int, ...], list[tuple[Any, ...]]]

# Domains kept per peer: enough to say whose mail it is, bounded however many a relay serves.
# The first ones in alphabetical order, so that the choice does not depend on reading order.
MAX_DOMAINS_PER_PEER = 10


# Every kind, in SessionKind's order (iterating the enum itself is slow, once per new peer).
_KINDS = tuple(SessionKind)

_KIND_INDEX = {kind: index for index, kind in enumerate(_KINDS)}
_DIRECTIONS = {direction.value: direction for direction in Direction}
_ROLES = {role.value: role for role in PeerRole}

_TLS_UNKNOWN, _PLAINTEXT = SessionKind.TLS_UNKNOWN, SessionKind.PLAINTEXT

# Before every time in a log: the time of sessions without one, when "the latest" is chosen.
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Tally:
    """A peer's running counts (mutable: one per peer, updated per session).

    Nothing in it depends on the order sessions come in (a log read in parts gives the same
    tallies, merged, as read in one go): where one value stands for many, it is the latest
    session's (by time, then the larger value on a tie).
    """

    host: str | None
    host_seen: datetime = _NEVER  # the time of the latest session that named ``host``
    counts: dict[SessionKind, int] = field(default_factory=lambda: dict.fromkeys(_KINDS, 0))
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    cipher_by_kind: dict[SessionKind, tuple[datetime, str]] = field(default_factory=dict)
    domains: set[str] = field(default_factory=set)

    def name(self, host: str, when: datetime) -> None:
        if host == self.host:
            if when > self.host_seen:  # noqa: PLR1730 - max() costs a call, once per session
                self.host_seen = when
        elif self.host is None or (when, host) > (self.host_seen, self.host):
            self.host, self.host_seen = host, when

    def add_domain(self, domain: str) -> None:
        domains = self.domains
        if domain in domains:
            return
        if len(domains) < MAX_DOMAINS_PER_PEER:
            domains.add(domain)
            return
        last = max(domains)
        if domain < last:
            domains.discard(last)
            domains.add(domain)


class PeerAggregator:
    """Add sessions one by one; ``peers()`` gives the table, weakest peers first."""

    def __init__(self) -> None:
        self._tallies: dict[PeerKey, _Tally] = {}
        self.totals: dict[SessionKind, int] = dict.fromkeys(SessionKind, 0)

    def add(self, observation: SessionObservation) -> None:
        self.add_all((observation,))

    def add_all(self, observations: Iterable[SessionObservation]) -> None:
        """``add`` each one: one loop, spelt out, for the hundreds of thousands of sessions of a
        large log."""
        totals, tallies = self.totals, self._tallies
        kind_of_version = KIND_OF_VERSION
        for observation in observations:
            (
                _, direction, moment, ip, host, version, cipher, role, ambiguous, _, domain,
            ) = observation  # fmt: skip
            if version is not None:
                kind = kind_of_version[version]
            else:
                kind = _TLS_UNKNOWN if ambiguous else _PLAINTEXT
            totals[kind] += 1
            # A peer is its address; without one (some logs name only a host), its host name.
            key = (direction, role, ip, None if ip else host)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(None)
            tally.counts[kind] += 1
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
                latest = tally.cipher_by_kind.get(kind)
                # (when, cipher) > latest, without building the pair for the usual later one
                if latest is None or when > latest[0] or (when == latest[0] and cipher > latest[1]):
                    tally.cipher_by_kind[kind] = (when, cipher)
            if domain:
                tally.add_domain(domain)

    @property
    def is_empty(self) -> bool:
        return not self._tallies

    def rows(self) -> PeerRows:
        """The table as plain values, for :meth:`merge_rows` in another process (a part of a
        log read elsewhere, mailtls.logs.parts): they pickle and load in a fraction of the time
        of the tallies with their enum-keyed dicts."""
        rows: list[tuple[Any, ...]] = [
            (
                direction.value, role.value, ip, host_key,
                t.host, t.host_seen, tuple(t.counts.values()), t.first_seen, t.last_seen,
                tuple((_KIND_INDEX[kind], *latest) for kind, latest in t.cipher_by_kind.items()),
                tuple(t.domains),
            )
            for (direction, role, ip, host_key), t in self._tallies.items()
        ]  # fmt: skip
        return tuple(self.totals[kind] for kind in _KINDS), rows

    def merge_rows(self, table: PeerRows) -> None:
        """Add the sessions another aggregator counted, as its :meth:`rows` gave them."""
        totals, rows = table
        for kind, number in zip(_KINDS, totals, strict=True):
            self.totals[kind] += number
        tallies = self._tallies
        for row in rows:
            direction, role, ip, host_key, host, seen, counts, first, last, ciphers, domains = row
            key = (_DIRECTIONS[direction], _ROLES[role], ip, host_key)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(None)
            mine = tally.counts
            for kind, number in zip(_KINDS, counts, strict=True):
                mine[kind] += number
            for moment in (first, last):
                if moment is not None:
                    if tally.first_seen is None or moment < tally.first_seen:
                        tally.first_seen = moment
                    if tally.last_seen is None or moment > tally.last_seen:
                        tally.last_seen = moment
            if host is not None:
                tally.name(host, seen)
            for index, when, cipher in ciphers:
                kind = _KINDS[index]
                latest = tally.cipher_by_kind.get(kind)
                if latest is None or (when, cipher) > latest:
                    tally.cipher_by_kind[kind] = (when, cipher)
            for domain in domains:
                tally.add_domain(domain)

    def merge(self, other: PeerAggregator) -> None:
        """Add the sessions another aggregator counted (another part of a log)."""
        self.merge_rows(other.rows())

    def __getstate__(self) -> PeerRows:
        return self.rows()

    def __setstate__(self, table: PeerRows) -> None:
        self._tallies = {}
        self.totals = dict.fromkeys(_KINDS, 0)
        self.merge_rows(table)

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
    def _summary(key: PeerKey, tally: _Tally) -> PeerSummary:
        direction, role, ip, _ = key
        counts = tally.counts
        weakest = next(kind for kind in _WEAKNESS if counts[kind])
        ciphers = tally.cipher_by_kind
        example = (
            next((ciphers[k][1] for k in _WEAKNESS if k in ciphers), None) if ciphers else None
        )
        return PeerSummary(
            direction,
            role,
            ip,
            tally.host,
            dict(counts),
            sum(counts.values()),
            tally.first_seen,
            tally.last_seen,
            example,
            weakest,
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

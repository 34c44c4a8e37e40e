"""Sessions -> one row per peer, streaming: memory follows the number of peers, not of lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailtls.logs.report import (
    BELOW_TLS12,
    ImpactEntry,
    PeerSummary,
    SessionKind,
    Tls12Impact,
    session_kind,
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

PeerKey = tuple[Direction, PeerRole, str | None, str | None]

# Domains kept per peer: enough to say whose mail it is, bounded however many a relay serves.
# The first ones in alphabetical order, so that the choice does not depend on reading order.
MAX_DOMAINS_PER_PEER = 10


# Every kind, in SessionKind's order (iterating the enum itself is slow, once per new peer).
_KINDS = tuple(SessionKind)

_KIND_INDEX = {kind: index for index, kind in enumerate(_KINDS)}
_DIRECTIONS = {direction.value: direction for direction in Direction}
_ROLES = {role.value: role for role in PeerRole}

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

    def add(self, observation: SessionObservation, kind: SessionKind) -> None:
        self.counts[kind] += 1
        moment = observation.timestamp
        if moment is not None:
            if self.first_seen is None or moment < self.first_seen:
                self.first_seen = moment
            if self.last_seen is None or moment > self.last_seen:
                self.last_seen = moment
        when = _NEVER if moment is None else moment
        host = observation.peer_host
        if host:
            self.name(host, when)
        cipher = observation.cipher
        if cipher:
            latest = self.cipher_by_kind.get(kind)
            # (when, cipher) > latest, without building the pair for the common later session
            if latest is None or when > latest[0] or (when == latest[0] and cipher > latest[1]):
                self.cipher_by_kind[kind] = (when, cipher)
        domain = observation.peer_domain
        if domain:
            self.add_domain(domain)

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

    def merge(self, other: _Tally) -> None:
        """Add another tally of the same peer (the sessions of another part of a log)."""
        for kind, number in other.counts.items():
            self.counts[kind] += number
        for moment in (other.first_seen, other.last_seen):
            if moment is not None:
                if self.first_seen is None or moment < self.first_seen:
                    self.first_seen = moment
                if self.last_seen is None or moment > self.last_seen:
                    self.last_seen = moment
        if other.host is not None:
            self.name(other.host, other.host_seen)
        for kind, latest in other.cipher_by_kind.items():
            mine = self.cipher_by_kind.get(kind)
            if mine is None or latest > mine:
                self.cipher_by_kind[kind] = latest
        for domain in other.domains:
            self.add_domain(domain)


class PeerAggregator:
    """Add sessions one by one; ``peers()`` gives the table, weakest peers first."""

    def __init__(self) -> None:
        self._tallies: dict[PeerKey, _Tally] = {}
        self.totals: dict[SessionKind, int] = dict.fromkeys(SessionKind, 0)

    def add(self, observation: SessionObservation) -> None:
        self.add_all((observation,))

    def add_all(self, observations: Iterable[SessionObservation]) -> None:
        """``add`` each one (one loop for a run of a log's sessions)."""
        totals, tallies = self.totals, self._tallies
        for observation in observations:
            kind = session_kind(observation)
            totals[kind] += 1
            # A peer is its address; without one (some logs name only a host), its host name.
            ip = observation.peer_ip
            key = (
                observation.direction,
                observation.role,
                ip,
                None if ip else observation.peer_host,
            )
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(host=None)
            tally.add(observation, kind)

    # Sent from the process that read a part of a log (mailtls.logs.parts): as plain values,
    # which pickle in a fraction of the time of the tallies and their enum-keyed dicts.
    def __getstate__(self) -> tuple[tuple[int, ...], list[tuple[Any, ...]]]:
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

    def __setstate__(self, state: tuple[tuple[int, ...], list[tuple[Any, ...]]]) -> None:
        totals, rows = state
        self.totals = dict(zip(_KINDS, totals, strict=True))
        self._tallies = {}
        for row in rows:
            direction, role, ip, host_key, host, seen, counts, first, last, ciphers, domains = row
            tally = _Tally(host, seen, dict(zip(_KINDS, counts, strict=True)), first, last)
            tally.cipher_by_kind = {_KINDS[i]: (when, cipher) for i, when, cipher in ciphers}
            tally.domains = set(domains)
            key = (_DIRECTIONS[direction], _ROLES[role], ip, host_key)
            self._tallies[key] = tally

    def merge(self, other: PeerAggregator) -> None:
        """Add the sessions another aggregator counted (another part of a log)."""
        for kind, number in other.totals.items():
            self.totals[kind] += number
        tallies = self._tallies
        for key, tally in other._tallies.items():
            mine = tallies.get(key)
            if mine is None:
                tallies[key] = tally
            else:
                mine.merge(tally)

    def peers(self) -> tuple[PeerSummary, ...]:
        summaries = [self._summary(key, tally) for key, tally in self._tallies.items()]
        summaries.sort(
            key=lambda p: (
                p.direction,
                _WEAKNESS.index(p.weakest),
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
        weakest = next(kind for kind in _WEAKNESS if tally.counts[kind])
        example = next(
            (tally.cipher_by_kind[k][1] for k in _WEAKNESS if k in tally.cipher_by_kind), None
        )
        return PeerSummary(
            direction=direction,
            role=role,
            peer_ip=ip,
            peer_host=tally.host,
            sessions=dict(tally.counts),
            total=sum(tally.counts.values()),
            first_seen=tally.first_seen,
            last_seen=tally.last_seen,
            example_cipher=example,
            weakest=weakest,
            domains=tuple(sorted(tally.domains)),
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

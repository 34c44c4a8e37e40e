"""The values `mailtls logs` produces: per-peer tables, per-source summaries, the TLS 1.2 impact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion


class SessionKind(StrEnum):
    """How a session was protected; the columns of the peer table, weakest last."""

    TLS1_3 = "TLSv1.3"
    TLS1_2 = "TLSv1.2"
    TLS1_1 = "TLSv1.1"
    TLS1_0 = "TLSv1"
    TLS_UNKNOWN = "tls_unknown_version"  # TLS, but the log does not say which version
    PLAINTEXT = "plaintext"


# Kinds that stop working (or silently drop to plaintext) once TLS 1.2 is required.
BELOW_TLS12 = frozenset({SessionKind.TLS1_1, SessionKind.TLS1_0})


# The kind of a session of each TLS version (one without a version is plaintext or unknown).
KIND_OF_VERSION = {
    TlsVersion.TLS1_3: SessionKind.TLS1_3,
    TlsVersion.TLS1_2: SessionKind.TLS1_2,
    TlsVersion.TLS1_1: SessionKind.TLS1_1,
    TlsVersion.TLS1_0: SessionKind.TLS1_0,
}


# Looked up once: an enum member's attribute lookup costs a function call, once per session.
_TLS_UNKNOWN, _PLAINTEXT = SessionKind.TLS_UNKNOWN, SessionKind.PLAINTEXT


def session_kind(observation: SessionObservation) -> SessionKind:
    version = observation.tls_version
    if version is None:
        return _TLS_UNKNOWN if observation.version_ambiguous else _PLAINTEXT
    return KIND_OF_VERSION[version]


@dataclass(frozen=True)
class PeerSummary:
    """Every session with one peer in one direction and role."""

    direction: Direction
    role: PeerRole
    peer_ip: str | None
    peer_host: str | None  # the most recent name logged for this address
    sessions: dict[SessionKind, int]  # every kind, zeros included
    total: int
    first_seen: datetime | None
    last_seen: datetime | None
    example_cipher: str | None  # the cipher of the peer's weakest TLS session
    weakest: SessionKind
    domains: tuple[str, ...]  # mail domains its sessions were for, where logged (a few, sorted)


@dataclass(frozen=True)
class SourceSummary:
    """What one input gave: its format, how many lines were used, and what went wrong."""

    name: str
    format: LogFormat | None  # None: not recognised (nothing was parsed)
    lines: int
    used: int
    ignored: int
    unparsed: int
    too_long: int
    sessions: int
    first_seen: datetime | None
    last_seen: datetime | None
    problems: tuple[str, ...]
    unparsed_examples: tuple[str, ...]  # "origin: line", a few, for --verbose


@dataclass(frozen=True)
class ImpactEntry:
    peer: PeerSummary
    affected_sessions: int  # sessions below TLS 1.2 (or plaintext, for plaintext peers)
    share_of_peer: float  # affected / the peer's sessions


@dataclass(frozen=True)
class Tls12Impact:
    """Who breaks if TLS 1.2 becomes the minimum.

    ``legacy``: peers seen with TLS 1.0/1.1 — with opportunistic TLS they fall back to plaintext,
    where TLS is mandatory they fail. ``plaintext``: peers seen without TLS at all — they are
    unaffected by a minimum version but fail wherever TLS becomes mandatory.
    """

    inbound_legacy: tuple[ImpactEntry, ...]
    outbound_legacy: tuple[ImpactEntry, ...]
    inbound_plaintext: tuple[ImpactEntry, ...]
    outbound_plaintext: tuple[ImpactEntry, ...]
    legacy_sessions: int
    total_sessions: int


@dataclass(frozen=True)
class LogsReport:
    schema_version: str
    tool_version: str
    generated_at: datetime
    sources: tuple[SourceSummary, ...]
    peers: tuple[PeerSummary, ...]
    totals: dict[SessionKind, int]
    warnings: tuple[str, ...]
    impact: Tls12Impact | None
    exit_code: int

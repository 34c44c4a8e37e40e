from __future__ import annotations

import pickle
from datetime import UTC, datetime

from mailtls.logs.aggregate import PeerAggregator, tls12_impact
from mailtls.logs.report import SessionKind, session_kind
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

T = datetime(2026, 3, 1, tzinfo=UTC)


def session(
    ip: str | None,
    version: TlsVersion | None,
    *,
    direction: Direction = Direction.INBOUND,
    hour: int = 0,
    host: str | None = None,
    cipher: str | None = None,
    role: PeerRole = PeerRole.MTA,
    ambiguous: bool = False,
) -> SessionObservation:
    return SessionObservation(
        LogFormat.POSTFIX,
        direction,
        T.replace(hour=hour),
        ip,
        host,
        version,
        cipher,
        role,
        ambiguous,
    )


def test_session_kinds() -> None:
    assert session_kind(session("192.0.2.1", TlsVersion.TLS1_0)) is SessionKind.TLS1_0
    assert session_kind(session("192.0.2.1", None)) is SessionKind.PLAINTEXT
    assert session_kind(session("192.0.2.1", None, ambiguous=True)) is SessionKind.TLS_UNKNOWN


def test_one_row_per_peer_direction_and_role_with_counts_and_times() -> None:
    peers = PeerAggregator()
    for observation in [
        session(
            "192.0.2.1",
            TlsVersion.TLS1_2,
            hour=3,
            host="mx.example.net",
            cipher="ECDHE-RSA-AES256-GCM-SHA384",
        ),
        session("192.0.2.1", TlsVersion.TLS1_0, hour=1, cipher="ECDHE-RSA-AES256-SHA"),
        session("192.0.2.1", TlsVersion.TLS1_2, hour=5),
        session("192.0.2.1", TlsVersion.TLS1_3, direction=Direction.OUTBOUND, hour=2),
        session("192.0.2.9", None, role=PeerRole.SUBMISSION, hour=4),
    ]:
        peers.add(observation)
    table = peers.peers()
    assert [(p.direction, p.peer_ip, p.role) for p in table] == [
        (Direction.INBOUND, "192.0.2.9", PeerRole.SUBMISSION),  # plaintext: weakest first
        (Direction.INBOUND, "192.0.2.1", PeerRole.MTA),
        (Direction.OUTBOUND, "192.0.2.1", PeerRole.MTA),
    ]
    legacy = table[1]
    assert legacy.sessions[SessionKind.TLS1_2] == 2
    assert legacy.sessions[SessionKind.TLS1_0] == 1
    assert legacy.total == 3
    assert legacy.weakest is SessionKind.TLS1_0
    assert legacy.example_cipher == "ECDHE-RSA-AES256-SHA"  # the weakest session's cipher
    assert legacy.peer_host == "mx.example.net"
    assert (legacy.first_seen, legacy.last_seen) == (T.replace(hour=1), T.replace(hour=5))
    assert peers.totals[SessionKind.TLS1_2] == 2
    assert sum(peers.totals.values()) == 5


def test_a_peer_without_an_address_is_its_host_name() -> None:
    peers = PeerAggregator()
    peers.add(session(None, TlsVersion.TLS1_2, host="a.example"))
    peers.add(session(None, TlsVersion.TLS1_2, host="b.example"))
    assert {p.peer_host for p in peers.peers()} == {"a.example", "b.example"}


def test_impact_lists_legacy_and_plaintext_peers_separately() -> None:
    peers = PeerAggregator()
    for observation in [
        session("192.0.2.1", TlsVersion.TLS1_0),
        session("192.0.2.1", TlsVersion.TLS1_2),
        session("192.0.2.1", TlsVersion.TLS1_2),
        session("192.0.2.1", TlsVersion.TLS1_2),
        session("192.0.2.2", TlsVersion.TLS1_1, direction=Direction.OUTBOUND),
        session("192.0.2.3", None),
        session("192.0.2.4", TlsVersion.TLS1_3),
        session("192.0.2.5", None, ambiguous=True),
    ]:
        peers.add(observation)
    impact = tls12_impact(peers.peers())
    assert [
        (e.peer.peer_ip, e.affected_sessions, e.share_of_peer) for e in impact.inbound_legacy
    ] == [("192.0.2.1", 1, 0.25)]
    assert [e.peer.peer_ip for e in impact.outbound_legacy] == ["192.0.2.2"]
    assert [e.peer.peer_ip for e in impact.inbound_plaintext] == ["192.0.2.3"]
    assert impact.outbound_plaintext == ()
    assert (impact.legacy_sessions, impact.total_sessions) == (2, 8)


def test_domains_are_collected_per_peer_and_bounded() -> None:
    peers = PeerAggregator()
    for number in range(15):
        peers.add(
            SessionObservation(
                LogFormat.POSTFIX, Direction.OUTBOUND, T, "192.0.2.8", "mx.relay.example",
                TlsVersion.TLS1_2, peer_domain=f"d{number:02}.example",
            )
        )  # fmt: skip
    peers.add(session("192.0.2.8", TlsVersion.TLS1_2, direction=Direction.OUTBOUND))
    (peer,) = peers.peers()
    assert len(peer.domains) == 10
    assert list(peer.domains) == sorted(peer.domains)


def mixed_sessions() -> list[SessionObservation]:
    return [
        session("192.0.2.1", TlsVersion.TLS1_0, hour=3, host="b.example", cipher="AES256-SHA"),
        session("192.0.2.1", TlsVersion.TLS1_0, hour=5, host="a.example", cipher="AES128-SHA"),
        session("192.0.2.1", TlsVersion.TLS1_2, hour=1, host="c.example"),
        session("192.0.2.1", None, hour=2, role=PeerRole.SUBMISSION),
        session(None, TlsVersion.TLS1_3, host="only-a-name.example"),
        *(
            SessionObservation(
                LogFormat.POSTFIX, Direction.OUTBOUND, T.replace(minute=n), "192.0.2.8", None,
                TlsVersion.TLS1_2, "X", peer_domain=f"d{(n * 7) % 13:02}.example",
            )
            for n in range(13)
        ),
    ]  # fmt: skip


def test_the_table_does_not_depend_on_the_order_of_sessions_or_on_merging() -> None:
    """What a log read in parts relies on: any order, any split, merged, gives one table."""
    sessions = mixed_sessions()
    whole = PeerAggregator()
    for observation in sessions:
        whole.add(observation)
    for split in range(len(sessions) + 1):
        first, second = PeerAggregator(), PeerAggregator()
        for observation in reversed(sessions[:split]):
            first.add(observation)
        for observation in sessions[split:]:
            second.add(observation)
        first.merge(second)
        assert first.peers() == whole.peers()
        assert first.totals == whole.totals
    (legacy,) = [p for p in whole.peers() if p.sessions[SessionKind.TLS1_0]]
    assert legacy.peer_host == "a.example"  # the name of the latest session that named one
    assert legacy.example_cipher == "AES128-SHA"  # the latest session's of the weakest kind


def test_a_pickled_table_is_the_same_table() -> None:
    peers = PeerAggregator()
    for observation in mixed_sessions():
        peers.add(observation)
    again = pickle.loads(pickle.dumps(peers))
    assert again.peers() == peers.peers()
    assert again.totals == peers.totals

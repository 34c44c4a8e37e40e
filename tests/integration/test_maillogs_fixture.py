"""The MTA logs hold what the ``maillogs`` fixture says they hold.

Counted with plain line matching, the way an administrator would grep, and with none of
mailtls's log parsers: the parsers are tested against these logs, so the logs and the expected
table must be shown right without them.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from mailtls.models import Direction, Endpoint, LogFormat, PeerRole, TlsVersion
from tests.integration.maillogs import ExpectedPeer, Login, MailLogs
from tests.integration.maillogs.plan import CLIENT_NETWORK, SESSIONS, expected_table
from tests.integration.maillogs.sasl import AuthDialogue
from tests.integration.maillogs.servers import listening

TABLE = expected_table(SESSIONS)

# How each MTA writes a TLS version: Postfix as OpenSSL names it, Exim (GnuTLS) as "TLS1.x".
EXIM_VERSION = {
    TlsVersion.TLS1_0: "TLS1.0",
    TlsVersion.TLS1_1: "TLS1.1",
    TlsVersion.TLS1_2: "TLS1.2",
    TlsVersion.TLS1_3: "TLS1.3",
}

SYSLOG_STAMP = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d mx postfix[\w/-]*\[\d+\]: ")
EXIM_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def _rows(log_format: LogFormat, direction: Direction) -> list[ExpectedPeer]:
    return [peer for peer in TABLE if peer.source is log_format and peer.direction is direction]


def _ids(peers: Iterable[ExpectedPeer]) -> list[str]:
    return [peer.peer_ip for peer in peers]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _count(lines: list[str], *fragments: str) -> int:
    return sum(all(fragment in line for fragment in fragments) for line in lines)


_DELIVERY = re.compile(r"\[(\d+)\]: ([0-9A-F]+): to=")


def _delivery(line: str) -> tuple[str, str]:
    """The (process id, queue id) of a Postfix delivery line."""
    found = _DELIVERY.search(line)
    assert found is not None, line
    return found.group(1), found.group(2)


def _bracketed(ip: str) -> str:
    """Postfix names a peer without reverse DNS as unknown[ip] (inbound) or ip[ip] (outbound)."""
    return f"[{ip}]"


# --- The fixture's value ------------------------------------------------------------------------


def test_the_fixture_gives_the_table_derived_from_the_plan(maillogs: MailLogs) -> None:
    assert maillogs.expected == TABLE
    assert maillogs.sessions == SESSIONS
    for log in maillogs.logs.values():
        assert log.is_file()
        assert log.parent == maillogs.directory


def test_every_planned_session_is_one_inbound_session_in_the_table(maillogs: MailLogs) -> None:
    for log_format in (LogFormat.POSTFIX, LogFormat.EXIM):
        planned = [session for session in SESSIONS if session.mta is log_format]
        inbound = maillogs.peers(log_format, Direction.INBOUND)
        assert sum(peer.total for peer in inbound) == len(planned)
        assert {peer.peer_ip for peer in inbound} == {session.client_ip for session in planned}


def test_the_table_covers_every_kind_of_session(maillogs: MailLogs) -> None:
    """What the log tests rely on: each TLS version, plaintext and submission in both logs."""
    postfix_in = maillogs.totals(LogFormat.POSTFIX, Direction.INBOUND)
    assert set(postfix_in) == {*TlsVersion, None}
    assert set(maillogs.totals(LogFormat.POSTFIX, Direction.OUTBOUND)) == {*TlsVersion, None}
    assert set(maillogs.totals(LogFormat.EXIM, Direction.INBOUND)) == {
        TlsVersion.TLS1_0,
        TlsVersion.TLS1_2,
        TlsVersion.TLS1_3,
        None,
    }
    assert set(maillogs.totals(LogFormat.EXIM, Direction.OUTBOUND)) == {
        TlsVersion.TLS1_1,
        TlsVersion.TLS1_3,
        None,
    }
    for log_format in (LogFormat.POSTFIX, LogFormat.EXIM):
        assert maillogs.peers(log_format, Direction.INBOUND, PeerRole.SUBMISSION)
    # Peers with more than one kind of session, for the per-peer aggregation.
    assert maillogs.peer(LogFormat.POSTFIX, Direction.INBOUND, "127.0.7.7").sessions == {
        TlsVersion.TLS1_2: 1,
        None: 1,
    }
    assert maillogs.peer(LogFormat.POSTFIX, Direction.OUTBOUND, "127.0.2.3").sessions == {
        TlsVersion.TLS1_0: 1,
        TlsVersion.TLS1_1: 1,
    }


# --- Postfix ------------------------------------------------------------------------------------


def test_postfix_lines_carry_a_syslog_time_stamp_without_a_year(maillogs: MailLogs) -> None:
    lines = _lines(maillogs.postfix_log)
    assert lines
    assert [line for line in lines if not SYSLOG_STAMP.match(line)] == []


def test_postfix_saw_no_client_but_the_planned_ones(maillogs: MailLogs) -> None:
    """No readiness probe or stray client: every session in the log is one that was sent."""
    clients = re.findall(r"\]: connect from unknown\[([^\]]+)\]", maillogs.postfix_log.read_text())
    planned = [session.client_ip for session in SESSIONS if session.mta is LogFormat.POSTFIX]
    assert sorted(clients) == sorted(planned)


@pytest.mark.parametrize(
    "peer",
    _rows(LogFormat.POSTFIX, Direction.INBOUND),
    ids=_ids(_rows(LogFormat.POSTFIX, Direction.INBOUND)),
)
def test_postfix_inbound_sessions(maillogs: MailLogs, peer: ExpectedPeer) -> None:
    lines = _lines(maillogs.postfix_log)
    client = f"unknown{_bracketed(peer.peer_ip)}"
    program = "postfix/submission/smtpd[" if peer.role is PeerRole.SUBMISSION else "postfix/smtpd["
    # One connect and one disconnect line per session, each ended by the client's QUIT.
    assert _count(lines, program, f": connect from {client}") == peer.total
    assert _count(lines, program, f": disconnect from {client} ", " quit=1 ") == peer.total
    established = 0
    for version in TlsVersion:
        found = _count(lines, f"TLS connection established from {client}: {version.value} with")
        assert found == peer.count(version), version
        established += found
    assert peer.total - established == peer.count(None)
    # A queue id's "client=" line per accepted message; SASL details for submission only.
    assert _count(lines, f": client={client}") == peer.messages
    authenticated = _count(lines, f": client={client}, sasl_method=PLAIN, sasl_username=")
    assert authenticated == (peer.messages if peer.role is PeerRole.SUBMISSION else 0)


@pytest.mark.parametrize(
    "peer",
    _rows(LogFormat.POSTFIX, Direction.OUTBOUND),
    ids=_ids(_rows(LogFormat.POSTFIX, Direction.OUTBOUND)),
)
def test_postfix_outbound_sessions(maillogs: MailLogs, peer: ExpectedPeer) -> None:
    lines = _lines(maillogs.postfix_log)
    server = f"{peer.peer_ip}{_bracketed(peer.peer_ip)}:25"
    established = 0
    for version in TlsVersion:
        found = _count(lines, f"TLS connection established to {server}: {version.value} with")
        assert found == peer.count(version), version
        established += found
    delivered = [line for line in lines if f" relay={server}, " in line]
    assert len(delivered) == peer.recipients
    assert all(" status=sent (250 " in line for line in delivered)
    # One session per delivery: a delivery agent process (pid) and a message (queue id).
    deliveries = {_delivery(line) for line in delivered}
    assert len(deliveries) == peer.total == peer.messages
    assert peer.total - established == peer.count(None)


def test_postfix_names_its_clients_as_a_stock_debian_installation_does(
    maillogs: MailLogs,
) -> None:
    text = maillogs.postfix_log.read_text()
    assert " postfix/submission/smtpd[" in text
    assert " postfix/smtp-tlsv1/smtp[" in text
    # Mail kept on the machine is delivered by other programs, with relay=none.
    assert " postfix/discard[" in text
    assert "relay=none, " in text


# --- Exim ---------------------------------------------------------------------------------------


def test_exim_lines_carry_a_time_stamp_with_the_date(maillogs: MailLogs) -> None:
    lines = _lines(maillogs.exim_log)
    assert lines
    assert [line for line in lines if not EXIM_STAMP.match(line)] == []


def test_exim_received_from_the_planned_clients_only(maillogs: MailLogs) -> None:
    clients = re.findall(r" <= .* \[([^\]]+)\] P=", maillogs.exim_log.read_text())
    planned = [session.client_ip for session in SESSIONS if session.mta is LogFormat.EXIM]
    assert sorted(clients) == sorted(planned)
    assert all(ipaddress.ip_address(ip) in CLIENT_NETWORK for ip in clients)


@pytest.mark.parametrize(
    "peer",
    _rows(LogFormat.EXIM, Direction.INBOUND),
    ids=_ids(_rows(LogFormat.EXIM, Direction.INBOUND)),
)
def test_exim_inbound_sessions(maillogs: MailLogs, peer: ExpectedPeer) -> None:
    """Exim logs a session only through its message: one ``<=`` line each."""
    arrivals = [
        line
        for line in _lines(maillogs.exim_log)
        if " <= " in line and f" [{peer.peer_ip}] " in line
    ]
    assert len(arrivals) == peer.total == peer.messages
    for version in TlsVersion:
        assert _count(arrivals, f" X={EXIM_VERSION[version]}:") == peer.count(version), version
    assert _count(arrivals, " P=esmtp ") == peer.count(None)
    assert all(" X=" not in line for line in arrivals if " P=esmtp " in line)
    if peer.role is PeerRole.SUBMISSION:
        assert _count(arrivals, " P=esmtpsa ", " A=plain:carol ") == peer.total
    else:
        assert _count(arrivals, " A=") == 0


@pytest.mark.parametrize(
    "peer",
    _rows(LogFormat.EXIM, Direction.OUTBOUND),
    ids=_ids(_rows(LogFormat.EXIM, Direction.OUTBOUND)),
)
def test_exim_outbound_sessions(maillogs: MailLogs, peer: ExpectedPeer) -> None:
    """``=>`` opens a delivery to a host; ``->`` adds a recipient to that same delivery."""
    lines = _lines(maillogs.exim_log)
    host = f" H={peer.peer_ip} [{peer.peer_ip}] "
    first = [line for line in lines if " => " in line and host in line]
    more = [line for line in lines if " -> " in line and host in line]
    assert len(first) == peer.total == peer.messages
    assert len(first) + len(more) == peer.recipients
    for version in TlsVersion:
        assert _count(first, f" X={EXIM_VERSION[version]}:") == peer.count(version), version
    assert sum(" X=" not in line for line in first) == peer.count(None)
    assert all(' C="250 ' in line for line in first + more)


# --- The helpers that produce the logs ----------------------------------------------------------


def test_the_authentication_backend_accepts_only_the_planned_password() -> None:
    login = Login(user="alice", password="right")
    dialogue = AuthDialogue(login)

    def plain(user: str, password: str) -> str:
        return base64.b64encode(f"\0{user}\0{password}".encode()).decode()

    assert dialogue.greeting(1).endswith("DONE\n")
    assert dialogue.answer("VERSION\t1\t2") is None
    ok = dialogue.answer(f"AUTH\t7\tPLAIN\tservice=smtp\tnologin\tresp={plain('alice', 'right')}")
    assert ok == "OK\t7\tuser=alice\n"
    wrong = dialogue.answer(f"AUTH\t8\tPLAIN\tservice=smtp\tresp={plain('alice', 'wrong')}")
    assert wrong == "FAIL\t8\tuser=alice\n"
    # Without an initial response the backend asks for one.
    assert dialogue.answer("AUTH\t9\tPLAIN\tservice=smtp") == "CONT\t9\t\n"
    assert dialogue.answer(f"CONT\t9\t{plain('alice', 'right')}") == "OK\t9\tuser=alice\n"
    refused = dialogue.answer("AUTH\t10\tLOGIN\tservice=smtp")
    assert refused is not None
    assert refused.startswith("FAIL\t10\t")


def test_readiness_reads_listening_sockets_from_the_kernel_table() -> None:
    tcp = (
        "  sl  local_address rem_address   st ...\n"
        "   0: 0108007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0\n"
        "   1: 0108007F:D431 0107007F:0019 01 00000000:00000000 00:00000000 00000000 0\n"
    )
    tcp6 = (
        "  sl  local_address                         remote_address ...\n"
        "   0: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 0\n"
    )
    assert listening([tcp, tcp6]) == {Endpoint("127.0.8.1", 25), Endpoint("::1", 25)}

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.base import LineKind
from mailtls.logs.exchange import ExchangeParser
from mailtls.models import LogFormat, SessionObservation
from tests.unit.logs.samples_io import Seen, sample_lines, seen

RECEIVE = [
    "#Software: Microsoft Exchange Server",
    "#Version: 15.01.2507.006",
    "#Log-type: SMTP Receive Protocol Log",
    "#Date: 2025-03-01T10:00:00.000Z",
    "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,"
    "event,data,context",
]
SEND = [line.replace("Receive", "Send") for line in RECEIVE]


def _row(event: str, data: str = "", context: str = "", session: str = "08DD5A0000000001") -> str:
    def cell(text: str) -> str:
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if ("," in text or '"' in text) else text

    return (
        f"2025-03-01T10:00:00.100Z,EX01\\Default Frontend EX01,{session},0,10.0.0.1:25,"
        f"192.0.2.10:50001,{event},{cell(data)},{cell(context)}"
    )


def _tls(protocol: str) -> str:
    return (
        f"TLS protocol {protocol} negotiation succeeded using bulk encryption algorithm "
        "CALG_AES_256 with strength 256 bits, MAC hash algorithm CALG_SHA_384 with strength 0 bits "
        "and key exchange algorithm CALG_ECDH_EPHEM with strength 384 bits"
    )


def _run(lines: list[str]) -> tuple[list[Seen], ExchangeParser]:
    parser = ExchangeParser()
    found: list[SessionObservation] = []
    for number, line in enumerate(lines):
        found.extend(parser.feed(line, f"RECV.LOG:{number}").observations)
    found.extend(parser.finish())
    return [seen(o) for o in found], parser


@pytest.mark.parametrize(
    ("protocol", "version"),
    [
        ("SP_PROT_TLS1_0_SERVER", "TLSv1"),
        ("SP_PROT_TLS1_SERVER", "TLSv1"),
        ("SP_PROT_TLS1_1_SERVER", "TLSv1.1"),
        ("SP_PROT_TLS1_2_SERVER", "TLSv1.2"),
        ("SP_PROT_TLS1_3_SERVER", "TLSv1.3"),
        ("SP_PROT-TLS1_2_SERVER", "TLSv1.2"),
        ("4096", "TLSv1.3"),  # a value the enum of older builds does not name
        ("1024", "TLSv1.2"),
        ("64", "TLSv1"),
    ],
)
def test_tls_protocol_names(protocol: str, version: str) -> None:
    found, _ = _run(
        [
            *RECEIVE,
            _row("+"),
            _row("<", "EHLO a.example"),
            _row("*", "", _tls(protocol)),
            _row("-", "", "Local"),
        ]
    )
    assert found == [("inbound", "mta", "192.0.2.10", "a.example", version, False)]


@pytest.mark.parametrize("protocol", ["SP_PROT_SSL3_SERVER", "SP_PROT_TLS1_9_SERVER", "16", "0"])
def test_tls_protocols_of_unknown_version(protocol: str) -> None:
    found, parser = _run([*RECEIVE, _row("+"), _row("*", "", _tls(protocol)), _row("-")])
    assert found == [("inbound", "mta", "192.0.2.10", None, None, True)]
    assert parser.warnings() != ()


def test_cipher_text_from_the_algorithms() -> None:
    parser = ExchangeParser()
    for line in [*RECEIVE, _row("+"), _row("*", "", _tls("SP_PROT_TLS1_2_SERVER"))]:
        parser.feed(line, "x")
    (observation,) = parser.feed(_row("-"), "RECV.LOG:9").observations
    assert observation.cipher == "ECDH_EPHEM-AES_256-SHA_384"
    assert observation.source is LogFormat.EXCHANGE
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, 0, 100000, tzinfo=UTC)
    assert observation.origin == "RECV.LOG:9"


def test_short_tls_line_has_a_partial_cipher() -> None:
    text = "TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm CALG_AES_256 with strength 256 bits"
    parser = ExchangeParser()
    for line in [*RECEIVE, _row("+"), _row("*", "", text)]:
        parser.feed(line, "x")
    (observation,) = parser.finish()
    assert observation.cipher == "AES_256"


def test_plaintext_needs_a_client_command() -> None:
    spoke, _ = _run([*RECEIVE, _row("+"), _row("<", "HELO old.example"), _row("-")])
    assert spoke == [("inbound", "mta", "192.0.2.10", "old.example", None, False)]
    silent, _ = _run(
        [*RECEIVE, _row("+"), _row(">", "220 EX01 ready"), _row("-", "", "Remote(SocketError)")]
    )
    assert silent == []


@pytest.mark.parametrize(
    "auth",
    [
        _row(">", "235 2.7.0 Authentication successful"),
        _row("*", "EXAMPLE\\alice", "authenticated"),
    ],
)
def test_authenticated_clients_are_submissions(auth: str) -> None:
    found, _ = _run([*RECEIVE, _row("+"), _row("<", "AUTH LOGIN"), auth, _row("-")])
    assert found == [("inbound", "submission", "192.0.2.10", None, None, False)]


def test_session_permissions_are_not_authentication() -> None:
    permissions = _row(
        "*", "SMTPSubmit SMTPAcceptAnySender AcceptRoutingHeaders", "Set Session Permissions"
    )
    found, _ = _run([*RECEIVE, _row("+"), permissions, _row("<", "EHLO a"), _row("-")])
    assert found == [("inbound", "mta", "192.0.2.10", "a", None, False)]


def test_send_log_is_outbound_and_names_the_peer_by_its_greeting() -> None:
    found, _ = _run(
        [
            *SEND,
            _row("+"),
            _row("<", "220 mx.example.com Microsoft ESMTP MAIL Service ready at Sat, 1 Mar 2025"),
            _row(">", "EHLO EX01.example.org"),
            _row(">", "STARTTLS"),
            _row("*", "", _tls("SP_PROT-TLS1_2_CLIENT")),
            _row("<", "235 2.7.0 Authentication successful"),
            _row("-"),
        ]
    )
    # a relay that authenticates us is still a mail server to us
    assert found == [("outbound", "mta", "192.0.2.10", "mx.example.com", "TLSv1.2", False)]


def test_failed_negotiation_is_not_a_plaintext_session() -> None:
    found, parser = _run(
        [
            *SEND,
            _row("+"),
            _row(">", "STARTTLS"),
            _row("*", "", "TLS negotiation failed with error SocketError"),
            _row("-"),
        ]
    )
    assert found == []
    assert any("failed TLS negotiation" in note for note in parser.warnings())


def test_fields_order_is_honoured() -> None:
    header = "#Fields: session-id,date-time,event,remote-endpoint,local-endpoint,data,context,connector-id,sequence-number"
    lines = [
        "#Log-type: SMTP Receive Protocol Log",
        header,
        "S1,2025-03-01T10:00:00.000Z,+,192.0.2.5:4000,10.0.0.1:25,,,C,0",
        f'S1,2025-03-01T10:00:00.001Z,*,192.0.2.5:4000,10.0.0.1:25,,"{_tls("SP_PROT_TLS1_1_SERVER")}",C,1',
        "S1,2025-03-01T10:00:00.002Z,-,192.0.2.5:4000,10.0.0.1:25,,Local,C,2",
    ]
    found, _ = _run(lines)
    assert found == [("inbound", "mta", "192.0.2.5", None, "TLSv1.1", False)]


def test_fields_header_without_the_needed_columns_is_unparsed() -> None:
    assert ExchangeParser().feed("#Fields: a,b,c", "x").kind is LineKind.UNPARSED


def test_session_that_began_in_an_earlier_file() -> None:
    # TLS seen: counted; no TLS seen and no connect: the first part may have had it, so not counted
    tls_tail, _ = _run([*RECEIVE, _row("*", "", _tls("SP_PROT_TLS1_2_SERVER")), _row("-")])
    assert tls_tail == [("inbound", "mta", "192.0.2.10", None, "TLSv1.2", False)]
    plain_tail, _ = _run([*RECEIVE, _row("<", "MAIL FROM:<a@b>"), _row("-")])
    assert plain_tail == []


def test_one_parser_reads_a_receive_and_a_send_file() -> None:
    found, _ = _run(
        [
            *RECEIVE,
            _row("+"),
            _row("<", "EHLO in.example"),
            *SEND,
            _row("+", session="08DD5B0000000001"),
            _row(">", "EHLO EX01", session="08DD5B0000000001"),
            _row("-", session="08DD5B0000000001"),
            *RECEIVE,
            _row("-"),  # the receive session ends in the next receive file
        ]
    )
    assert found == [
        ("outbound", "mta", "192.0.2.10", None, None, False),
        ("inbound", "mta", "192.0.2.10", "in.example", None, False),
    ]


def test_message_tracking_logs_are_ignored() -> None:
    parser = ExchangeParser()
    assert parser.feed("#Log-type: Message Tracking Log", "x").kind is LineKind.IGNORED
    assert parser.feed(_row("+"), "x").kind is LineKind.IGNORED


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage without commas",
        "2025-03-01T10:00:00Z,a,b",
        _row("?"),
        '2025-03-01T10:00:00Z,"unterminated,S1,0,1,2,+,,',
        "\x00,\x00,\x00,\x00,\x00,\x00,\x00,\x00,\x00",
    ],
)
def test_garbage_rows_are_unparsed(line: str) -> None:
    parser = ExchangeParser()
    parser.feed(RECEIVE[2], "x")
    assert parser.feed(line, "x").kind is LineKind.UNPARSED


def test_whole_files() -> None:
    parser = ExchangeParser()
    found: list[SessionObservation] = []
    for name in ("exchange-receive.log", "exchange-send.log"):
        for origin, line in sample_lines(name):
            found.extend(parser.feed(line, origin).observations)
    found.extend(parser.finish())
    assert [seen(o) for o in found] == [
        ("inbound", "mta", "192.0.2.10", "mx.example.net", "TLSv1.2", False),
        ("inbound", "mta", "203.0.113.5", "mail.old.example", None, False),
        ("inbound", "mta", "198.51.100.30", None, "TLSv1", False),
        ("inbound", "submission", "198.51.100.20", "laptop", "TLSv1.2", False),
        # 192.0.2.99 connected and said nothing: a probe, not a session
        ("inbound", "mta", "2001:db8::10", "mx6.example.net", "TLSv1.3", False),
        ("inbound", "mta", "192.0.2.77", "smtp.example.com", "TLSv1.3", False),
        (
            "outbound",
            "mta",
            "192.0.2.20",
            "xx1pr01mb0001.eurprd01.prod.outlook.com",
            "TLSv1.2",
            False,
        ),
        ("outbound", "mta", "203.0.113.50", "mail.old.example", None, False),
        ("outbound", "mta", "198.51.100.60", "mx.legacy.example", "TLSv1.1", False),
        # 198.51.100.61: TLS negotiation failed, not counted
        ("inbound", "mta", "192.0.2.78", "still.open.example", None, False),  # open at the end
    ]


def test_open_sessions_are_bounded() -> None:
    parser = ExchangeParser(max_open=3)
    parser.feed(RECEIVE[2], "x")
    for number in range(10):
        parser.feed(_row("+", session=f"S{number}"), "x")
        parser.feed(_row("<", "EHLO a", session=f"S{number}"), "x")
    assert parser.dropped == 7
    assert len(parser.finish()) == 3


def _mutated(lines: list[str]) -> st.SearchStrategy[str]:
    def mutate(line: str, edits: list[tuple[int, int, str]]) -> str:
        for start, length, insert in edits:
            at = start % (len(line) + 1)
            line = line[:at] + insert + line[at + length :]
        return line

    edit = st.tuples(
        st.integers(0, 400),
        st.integers(0, 8),
        st.text(alphabet=st.sampled_from(',"#+-<>*x9\n '), max_size=6),
    )
    return st.builds(mutate, st.sampled_from(lines), st.lists(edit, max_size=4))


_LINES = [
    line for name in ("exchange-receive.log", "exchange-send.log") for _, line in sample_lines(name)
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), _mutated(_LINES)), max_size=16))
def test_never_raises(lines: list[str]) -> None:
    parser = ExchangeParser(max_open=4)
    for number, line in enumerate(lines):
        assert parser.feed(line, f"fuzz:{number}").kind in LineKind
    parser.finish()
    parser.warnings()

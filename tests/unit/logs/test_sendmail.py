from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.base import LineKind
from mailtls.logs.sendmail import SendmailParser
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import Direction, LogFormat, SessionObservation, TlsVersion
from tests.unit.logs.samples_io import Seen, sample_lines, seen


def _parser() -> SendmailParser:
    return SendmailParser(YearGuesser(2025))


FRAME = "Mar  1 10:00:00 mx sm-mta[1201]: "
SERVER = "STARTTLS=server, relay={relay}, version={version}, verify=NO, cipher=C-1, bits=256/256"
CLIENT = "STARTTLS=client, relay={relay}, version={version}, verify=OK, cipher=C-2, bits=128/128"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            CLIENT.format(relay="example-com.mail.protection.outlook.com.", version="TLSv1.2"),
            ("outbound", "mta", None, "example-com.mail.protection.outlook.com", "TLSv1.2", False),
        ),
        (
            CLIENT.format(relay="[192.0.2.20]", version="TLSv1.3"),
            ("outbound", "mta", "192.0.2.20", None, "TLSv1.3", False),
        ),
        (
            CLIENT.format(relay="mx.old.example.", version="TLSv1"),
            ("outbound", "mta", None, "mx.old.example", "TLSv1", False),
        ),
        # before 8.15.1: the cipher's generic version, whatever the protocol
        (
            CLIENT.format(relay="mx.old.example.", version="TLSv1/SSLv3"),
            ("outbound", "mta", None, "mx.old.example", None, True),
        ),
    ],
)
def test_client_lines(text: str, expected: Seen) -> None:
    result = _parser().feed(FRAME + text, "maillog:1")
    assert result.kind is LineKind.USED
    (observation,) = result.observations
    assert seen(observation) == expected
    assert observation.source is LogFormat.SENDMAIL
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("relay", "ip", "host"),
    [
        ("mx.example.net [192.0.2.10]", "192.0.2.10", "mx.example.net"),
        ("[192.0.2.10]", "192.0.2.10", None),
        ("mx.example.net [192.0.2.10] (may be forged)", "192.0.2.10", "mx.example.net"),
        ("ident@mx.example.net [192.0.2.10]", "192.0.2.10", "mx.example.net"),
        ("IDENT:x@mx.example.net [192.0.2.10]", "192.0.2.10", "mx.example.net"),
        ("mx6.example.net [IPv6:2001:db8::10]", "2001:db8::10", "mx6.example.net"),
        ("MX.Example.NET [192.0.2.10]", "192.0.2.10", "mx.example.net"),
    ],
)
def test_server_relay_shapes(relay: str, ip: str, host: str | None) -> None:
    parser = _parser()
    assert (
        parser.feed(FRAME + SERVER.format(relay=relay, version="TLSv1.2"), "m:1").observations == ()
    )
    (observation,) = parser.finish()
    assert (observation.peer_ip, observation.peer_host) == (ip, host)
    assert observation.direction is Direction.INBOUND
    assert observation.tls_version is TlsVersion.TLS1_2


def _from(protocol: str, relay: str = "mx.example.net [192.0.2.10]", pid: int = 1201) -> str:
    return (
        f"Mar  1 10:00:01 mx sm-mta[{pid}]: 521A00001201: from=<a@example.net>, size=1, class=0, "
        f"nrcpts=1, msgid=<1@example.net>, proto={protocol}, daemon=MTA, relay={relay}"
    )


def test_server_session_waits_for_its_message_to_learn_the_role() -> None:
    parser = _parser()
    starttls = FRAME + SERVER.format(relay="laptop [198.51.100.20]", version="TLSv1.3")
    assert parser.feed(starttls, "m:1").observations == ()
    (observation,) = parser.feed(_from("ESMTPSA", "laptop [198.51.100.20]"), "m:2").observations
    assert seen(observation) == (
        "inbound",
        "submission",
        "198.51.100.20",
        "laptop",
        "TLSv1.3",
        False,
    )
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # the handshake
    assert observation.origin == "m:2"
    # a second message over the same connection is not a second session
    assert parser.feed(_from("ESMTPSA", "laptop [198.51.100.20]"), "m:3").observations == ()
    assert parser.finish() == ()


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        ("ESMTP", ("inbound", "mta", "192.0.2.10", "mx.example.net", None, False)),
        ("SMTP", ("inbound", "mta", "192.0.2.10", "mx.example.net", None, False)),
        ("ESMTPA", ("inbound", "submission", "192.0.2.10", "mx.example.net", None, False)),
        ("UTF8SMTP", ("inbound", "mta", "192.0.2.10", "mx.example.net", None, False)),
        # TLS by the RFC 3848 protocol name, but no STARTTLS line: version unknown
        ("ESMTPS", ("inbound", "mta", "192.0.2.10", "mx.example.net", None, True)),
        ("UTF8SMTPSA", ("inbound", "submission", "192.0.2.10", "mx.example.net", None, True)),
    ],
)
def test_received_messages_without_starttls_line(protocol: str, expected: Seen) -> None:
    parser = _parser()
    (observation,) = parser.feed(_from(protocol), "m:1").observations
    assert seen(observation) == expected


def test_old_sendmail_tls_with_plain_protocol_name_is_tls() -> None:
    parser = _parser()
    starttls = FRAME + SERVER.format(relay="mx.example.net [192.0.2.10]", version="TLSv1/SSLv3")
    parser.feed(starttls, "m:1")
    (observation,) = parser.feed(_from("ESMTP"), "m:2").observations
    assert seen(observation) == ("inbound", "mta", "192.0.2.10", "mx.example.net", None, True)
    assert any("8.15.1" in note for note in parser.warnings())


def test_a_reused_pid_is_a_new_session() -> None:
    parser = _parser()
    assert len(parser.feed(_from("ESMTP"), "m:1").observations) == 1
    later = _from("ESMTP").replace("10:00:01", "12:00:01")
    assert len(parser.feed(later, "m:2").observations) == 1  # two hours on: another connection
    other = _from("ESMTP", "mx.other.example [192.0.2.11]").replace("10:00:01", "12:00:02")
    assert len(parser.feed(other, "m:3").observations) == 1  # another client


def test_starttls_session_without_message_is_reported_when_its_pid_comes_back() -> None:
    parser = _parser()
    parser.feed(FRAME + SERVER.format(relay="[203.0.113.9]", version="TLSv1"), "m:1")
    result = parser.feed(FRAME + SERVER.format(relay="x [192.0.2.1]", version="TLSv1.2"), "m:2")
    assert [seen(o) for o in result.observations] == [
        ("inbound", "mta", "203.0.113.9", None, "TLSv1", False)
    ]
    assert [seen(o) for o in parser.finish()] == [
        ("inbound", "mta", "192.0.2.1", "x", "TLSv1.2", False)
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Mar  1 10:08:00 mx sendmail[1300]: 521A08001300: from=root, size=300, class=0, nrcpts=1, "
        "msgid=<8@mx.example.org>, relay=root@localhost",
        "Mar  1 10:00:02 mx sm-mta[1210]: 521A00001201: to=<bob@example.org>, delay=00:00:01, "
        "mailer=local, pri=32345, dsn=2.0.0, stat=Sent",
        FRAME + "STARTTLS=client, error: connect failed=-1, SSL_error=5, errno=104, retry=-1",
        FRAME + SERVER.format(relay="local", version="TLSv1.3"),
        _from("X-SCANNED"),
        "Mar  1 10:00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]",
        "Mar  1 10:00:00 mx sm-notify[7]: " + SERVER.format(relay="x [192.0.2.1]", version="TLSv1"),
    ],
)
def test_lines_without_sessions(line: str) -> None:
    parser = _parser()
    result = parser.feed(line, "m:1")
    assert result.kind is LineKind.IGNORED
    assert result.observations == ()
    assert parser.finish() == ()


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        "Mar  1 10:00:00 sm-mta",
        "\x00\x01",
        "Mar  1 10:00:00 mx sm-mta[" + "9" * 5000 + "]: STARTTLS=client",  # int() refuses it
    ],
)
def test_garbage_is_unparsed(line: str) -> None:
    assert _parser().feed(line, "m:1").kind is LineKind.UNPARSED


def test_whole_file() -> None:
    parser = _parser()
    found: list[SessionObservation] = []
    for origin, line in sample_lines("sendmail-mixed.log"):
        found.extend(parser.feed(line, origin).observations)
    found.extend(parser.finish())
    assert [seen(o) for o in found] == [
        ("inbound", "mta", "192.0.2.10", "mx.example.net", "TLSv1.2", False),
        ("inbound", "mta", "203.0.113.5", "mail.old.example", None, False),  # 2 messages, 1 session
        ("inbound", "mta", "198.51.100.30", "relay.legacy.example", None, True),
        ("inbound", "submission", "198.51.100.20", "laptop.example.org", "TLSv1.3", False),
        ("outbound", "mta", None, "example-com.mail.protection.outlook.com", "TLSv1.2", False),
        ("inbound", "mta", "2001:db8::10", "mx6.example.net", "TLSv1.3", False),
        ("inbound", "mta", "192.0.2.40", "smtp.quiet.example", None, True),
        ("inbound", "mta", "127.0.0.1", "localhost", None, False),
        ("inbound", "mta", "192.0.2.66", "host.forged.example", None, False),
        ("inbound", "mta", "192.0.2.67", "mx.other.example", None, False),
        ("inbound", "mta", "203.0.113.9", None, "TLSv1", False),  # no message: at the end
    ]
    notes = parser.warnings()
    assert any("outbound plaintext deliveries are not counted" in n for n in notes)
    assert any("TLSv1/SSLv3" in n for n in notes)
    assert any("LogLevel" in n and "1 message(s)" in n for n in notes)


def test_no_starttls_lines_at_all_is_warned_about() -> None:
    parser = _parser()
    parser.feed(_from("ESMTP"), "m:1")
    assert any("No STARTTLS= line" in note for note in parser.warnings())


def test_open_sessions_are_bounded() -> None:
    parser = SendmailParser(YearGuesser(2025), max_open=3)
    reported: list[SessionObservation] = []
    for pid in range(10):
        line = f"Mar  1 10:00:00 mx sm-mta[{pid}]: " + SERVER.format(
            relay=f"h{pid} [192.0.2.{pid}]", version="TLSv1.2"
        )
        reported.extend(parser.feed(line, f"m:{pid}").observations)
    assert parser.evicted == 7
    assert [o.peer_ip for o in reported] == [f"192.0.2.{pid}" for pid in range(7)]
    assert [o.peer_ip for o in parser.finish()] == ["192.0.2.7", "192.0.2.8", "192.0.2.9"]


def _mutated(lines: list[str]) -> st.SearchStrategy[str]:
    def mutate(line: str, edits: list[tuple[int, int, str]]) -> str:
        for start, length, insert in edits:
            at = start % (len(line) + 1)
            line = line[:at] + insert + line[at + length :]
        return line

    edit = st.tuples(st.integers(0, 400), st.integers(0, 8), st.text(max_size=6))
    return st.builds(mutate, st.sampled_from(lines), st.lists(edit, max_size=4))


_LINES = [line for _, line in sample_lines("sendmail-mixed.log")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), _mutated(_LINES)), max_size=12))
def test_never_raises(lines: list[str]) -> None:
    parser = SendmailParser(YearGuesser(2025), max_open=4)
    for number, line in enumerate(lines):
        result = parser.feed(line, f"fuzz:{number}")
        assert result.kind in LineKind
    parser.finish()
    parser.warnings()

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.base import LineKind
from mailtls.logs.opensmtpd import OpenSmtpdParser
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import LogFormat, SessionObservation
from tests.unit.logs.samples_io import Seen, sample_lines, seen


def _run(texts: list[str]) -> tuple[list[list[Seen]], list[Seen], OpenSmtpdParser]:
    """Feed ``smtpd`` lines (text after the syslog frame); what each line and finish() gave."""
    parser = OpenSmtpdParser(YearGuesser(2025))
    per_line = []
    for number, text in enumerate(texts):
        line = f"Mar  1 10:00:{number:02d} mx smtpd[77]: {text}"
        per_line.append([seen(o) for o in parser.feed(line, f"m:{number}").observations])
    return per_line, [seen(o) for o in parser.finish()], parser


S = "1a2b3c4d5e6f7081"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (
            [
                f"{S} smtp connected address=192.0.2.10 host=mx.example.net",
                f"{S} smtp tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256",
                f"{S} smtp disconnected reason=quit",
            ],
            ("inbound", "mta", "192.0.2.10", "mx.example.net", "TLSv1.3", False),
        ),
        (
            [
                f"{S} smtp connected address=203.0.113.5 host=<unknown>",
                f"{S} smtp disconnected reason=timeout",
            ],
            ("inbound", "mta", "203.0.113.5", None, None, False),
        ),
        (
            [
                f"{S} smtp connected address=[2001:db8::10] host=mx6.example.net",
                f"{S} smtp tls ciphers=TLSv1.1:ECDHE-RSA-AES256-SHA:256",
                f"{S} smtp authentication user=alice result=ok",
                f'{S} smtp disconnected reason="io-error: Connection reset by peer"',
            ],
            ("inbound", "submission", "2001:db8::10", "mx6.example.net", "TLSv1.1", False),
        ),
        (
            [
                f"{S} smtp connected address=192.0.2.10 host=h",
                f"{S} smtp authentication user=bob result=permfail",
                f"{S} smtp disconnected reason=quit",
            ],
            ("inbound", "mta", "192.0.2.10", "h", None, False),
        ),
        (
            [
                f"{S} smtp connected address=192.0.2.10 host=h",
                f"{S} smtp tls ciphers=TLSv1.4:TLS_NEW:256",
                f"{S} smtp disconnected reason=quit",
            ],
            ("inbound", "mta", "192.0.2.10", "h", None, True),
        ),
        (
            [
                f"{S} mta connecting address=smtp://192.0.2.20:25 host=mx.example.com",
                f"{S} mta connected",
                f"{S} mta tls ciphers=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256",
                f"{S} mta disconnected reason=quit messages=1",
            ],
            ("outbound", "mta", "192.0.2.20", "mx.example.com", "TLSv1.2", False),
        ),
        (
            [
                f"{S} mta connecting address=smtp+notls://[2001:db8::25]:25 host=mx.example.com",
                f"{S} mta connected",
                f"{S} mta error reason=EHLO rejected: 554 go away",
            ],
            ("outbound", "mta", "2001:db8::25", "mx.example.com", None, False),
        ),
        (
            [
                f"{S} mta connecting address=smtps://192.0.2.20:465 host=mx.example.com",
                f"{S} mta connected",
                f"{S} mta tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256",
                f"smtp-out: Error on session {S} after 2 messages sent: Connection closed",
            ],
            ("outbound", "mta", "192.0.2.20", "mx.example.com", "TLSv1.3", False),
        ),
    ],
)
def test_sessions(texts: list[str], expected: Seen) -> None:
    per_line, at_end, _ = _run(texts)
    assert per_line[-1] == [expected]
    assert all(seen == [] for seen in per_line[:-1])
    assert at_end == []


def test_observation_fields() -> None:
    parser = OpenSmtpdParser(YearGuesser(2025))
    parser.feed(f"Mar  1 10:00:00 mx smtpd[77]: {S} smtp connected address=192.0.2.1 host=h", "m:1")
    line = f"Mar  1 10:00:09 mx smtpd[77]: {S} smtp tls ciphers=TLSv1.2:ECDHE-RSA-AES128-GCM-SHA256:128"
    parser.feed(line, "m:2")
    end = f"Mar  1 10:00:10 mx smtpd[77]: {S} smtp disconnected reason=quit"
    (observation,) = parser.feed(end, "m:3").observations
    assert observation.source is LogFormat.OPENSMTPD
    assert observation.cipher == "ECDHE-RSA-AES128-GCM-SHA256"
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)  # the connect
    assert observation.origin == "m:3"


def test_failed_server_handshake_is_not_a_session() -> None:
    per_line, at_end, parser = _run(
        [
            f"{S} smtp connected address=192.0.2.99 host=scanner.example",
            f"{S} smtp disconnected reason=tls-accept-failed",
        ]
    )
    assert per_line == [[], []]
    assert at_end == []
    assert any("tls-accept-failed" in note for note in parser.warnings())


def test_client_retry_after_failed_opportunistic_tls_counts_once() -> None:
    per_line, at_end, _ = _run(
        [
            f"{S} mta connecting address=smtp+tls://192.0.2.20:25 host=mx.legacy.example",
            f"{S} mta connected",
            f"smtp-out: Error on session {S}: opportunistic TLS failed, downgrading to plain",
            f"{S} mta connecting address=smtp://192.0.2.20:25 host=mx.legacy.example",
            f"{S} mta connected",
            f"{S} mta disconnected reason=quit messages=1",
        ]
    )
    assert [seen for seen in per_line if seen] == [
        [("outbound", "mta", "192.0.2.20", "mx.legacy.example", None, False)]
    ]
    assert at_end == []


@pytest.mark.parametrize(
    "texts",
    [
        # the connection was never made
        [
            f"{S} mta connecting address=smtp://192.0.2.50:25 host=mx.down.example",
            f"{S} mta error reason=Connection failed: Connection refused",
        ],
        # local delivery over LMTP
        [
            f"{S} mta connecting address=lmtp://127.0.0.1:24 host=localhost",
            f"{S} mta connected",
            f"{S} mta disconnected reason=quit messages=1",
        ],
        # the local enqueuer
        [
            f"{S} smtp connected address=local host=mx.example.org",
            f"{S} smtp disconnected reason=quit",
        ],
        # sessions that began before the log
        [f"{S} smtp tls ciphers=TLSv1.2:X:256", f"{S} smtp disconnected reason=quit"],
        [f"{S} mta disconnected reason=quit messages=1"],
    ],
)
def test_no_session(texts: list[str]) -> None:
    per_line, at_end, _ = _run(texts)
    assert per_line == [[] for _ in texts]
    assert at_end == []


def test_session_open_at_the_end_is_reported_by_finish() -> None:
    _, at_end, _ = _run(
        [
            f"{S} smtp connected address=192.0.2.60 host=still.open.example",
            f"{S} smtp tls ciphers=TLSv1.3:TLS_CHACHA20_POLY1305_SHA256:256",
        ]
    )
    assert at_end == [("inbound", "mta", "192.0.2.60", "still.open.example", "TLSv1.3", False)]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Mar  1 10:00:00 mx smtpd[77]: info: OpenSMTPD 6.8.0p2 starting", LineKind.IGNORED),
        ("Mar  1 10:00:00 mx sshd[77]: Accepted publickey for root", LineKind.IGNORED),
        (f"Mar  1 10:00:00 mx smtpd[77]: {S} smtp connected host=h", LineKind.UNPARSED),
        (f"Mar  1 10:00:00 mx smtpd[77]: {S} mta connecting address=nowhere", LineKind.UNPARSED),
        ("Mar  1 10:00:00 mx smtpd[" + "9" * 5000 + "]: x", LineKind.UNPARSED),
        ("garbage", LineKind.UNPARSED),
        ("", LineKind.UNPARSED),
    ],
)
def test_line_kinds(line: str, kind: LineKind) -> None:
    assert OpenSmtpdParser(YearGuesser(2025)).feed(line, "m:1").kind is kind


def _whole(name: str) -> tuple[list[Seen], OpenSmtpdParser]:
    parser = OpenSmtpdParser(YearGuesser(2025))
    found: list[SessionObservation] = []
    for origin, line in sample_lines(name):
        found.extend(parser.feed(line, origin).observations)
    found.extend(parser.finish())
    return [seen(o) for o in found], parser


def test_whole_file_current_format() -> None:
    found, parser = _whole("opensmtpd-current.log")
    assert found == [
        ("inbound", "mta", "192.0.2.10", "mx.example.net", "TLSv1.3", False),
        ("inbound", "mta", "203.0.113.5", None, None, False),
        ("inbound", "mta", "2001:db8::10", "mx6.example.net", "TLSv1.2", False),
        ("inbound", "submission", "198.51.100.20", "laptop.example.org", "TLSv1", False),
        ("inbound", "mta", "198.51.100.21", "old.example.org", None, False),
        (
            "outbound",
            "mta",
            "192.0.2.20",
            "example-com.mail.protection.outlook.com",
            "TLSv1.2",
            False,
        ),
        ("outbound", "mta", "2001:db8::25", "mx.legacy.example", None, False),
        ("outbound", "mta", "192.0.2.51", "mx.slow.example", "TLSv1.3", False),
        ("inbound", "mta", "192.0.2.60", "still.open.example", "TLSv1.3", False),
    ]
    assert len(parser.warnings()) == 1


def test_whole_file_6_0_format() -> None:
    found, parser = _whole("opensmtpd-6.0.log")
    assert found == [
        ("inbound", "mta", "192.0.2.10", "mx.example.net", "TLSv1.2", False),
        ("inbound", "submission", "198.51.100.20", "laptop.example.org", None, False),
        ("outbound", "mta", "192.0.2.20", "mx.example.com", "TLSv1.1", False),
    ]
    assert parser.warnings() == ()


def test_open_sessions_are_bounded() -> None:
    parser = OpenSmtpdParser(YearGuesser(2025), max_open=3)
    for number in range(10):
        line = f"Mar  1 10:00:00 mx smtpd[77]: {number:016x} smtp connected address=192.0.2.{number} host=h"
        parser.feed(line, f"m:{number}")
    assert parser.dropped == 7
    assert [o.peer_ip for o in parser.finish()] == ["192.0.2.7", "192.0.2.8", "192.0.2.9"]


def _mutated(lines: list[str]) -> st.SearchStrategy[str]:
    def mutate(line: str, edits: list[tuple[int, int, str]]) -> str:
        for start, length, insert in edits:
            at = start % (len(line) + 1)
            line = line[:at] + insert + line[at + length :]
        return line

    edit = st.tuples(st.integers(0, 400), st.integers(0, 8), st.text(max_size=6))
    return st.builds(mutate, st.sampled_from(lines), st.lists(edit, max_size=4))


_LINES = [
    line
    for name in ("opensmtpd-current.log", "opensmtpd-6.0.log")
    for _, line in sample_lines(name)
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), _mutated(_LINES)), max_size=16))
def test_never_raises(lines: list[str]) -> None:
    parser = OpenSmtpdParser(YearGuesser(2025), max_open=4)
    for number, line in enumerate(lines):
        assert parser.feed(line, f"fuzz:{number}").kind in LineKind
    parser.finish()
    parser.warnings()

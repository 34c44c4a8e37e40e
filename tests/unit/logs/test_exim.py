from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.base import LineKind
from mailtls.logs.exim import EximParser
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion
from tests.unit.logs.samples_io import Seen, sample_lines, seen


def _read(
    name: str, parser: EximParser | None = None
) -> tuple[list[SessionObservation], EximParser]:
    parser = parser or EximParser(YearGuesser(2025))
    found: list[SessionObservation] = []
    for origin, line in sample_lines(name):
        found.extend(parser.feed(line, origin).observations)
    found.extend(parser.finish())
    return found, parser


STAMP = "2025-03-01 10:00:00 1tAbCd-000Abc-0A "


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # OpenSSL spelling, verified host name
        (
            "<= a@example.org H=mx.example.org [192.0.2.5] P=esmtps "
            "X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no S=1",
            ("inbound", "mta", "192.0.2.5", "mx.example.org", "TLSv1.2", False),
        ),
        # OpenSSL writes TLS 1.0 as "TLSv1" without its v: "TLS1"
        (
            "<= a@b H=(old) [203.0.113.9] P=esmtps X=TLS1:ECDHE-RSA-AES256-SHA:256 S=1",
            ("inbound", "mta", "203.0.113.9", "old", "TLSv1", False),
        ),
        # older OpenSSL builds kept the v
        (
            "<= a@b H=[203.0.113.9] P=esmtps X=TLSv1.1:AES256-SHA:256 S=1",
            ("inbound", "mta", "203.0.113.9", None, "TLSv1.1", False),
        ),
        # GnuTLS, old spelling (gnutls_cipher_suite_get_name) and the session description
        (
            "<= a@b H=(h) [192.0.2.1]:2525 P=esmtps X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256 S=1",
            ("inbound", "mta", "192.0.2.1", "h", "TLSv1.2", False),
        ),
        (
            "<= a@b H=(h) [192.0.2.1] P=esmtps "
            "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256:X25519 S=1",
            ("inbound", "mta", "192.0.2.1", "h", "TLSv1.3", False),
        ),
        (
            "<= a@b H=(h) [192.0.2.1] P=esmtps X=TLS1.0-PKIX:RSA__AES_256_CBC__SHA1:256 S=1",
            ("inbound", "mta", "192.0.2.1", "h", "TLSv1", False),
        ),
        # tls_resumption appends *
        (
            "<= a@b H=h [192.0.2.1] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256* S=1",
            ("inbound", "mta", "192.0.2.1", "h", "TLSv1.3", False),
        ),
        # plaintext, HELO and EHLO; SMTPUTF8
        ("<= a@b H=[192.0.2.1] P=smtp S=1", ("inbound", "mta", "192.0.2.1", None, None, False)),
        (
            "<= a@b H=(h) [192.0.2.1] P=utf8esmtp S=1",
            ("inbound", "mta", "192.0.2.1", "h", None, False),
        ),
        # AUTH: esmtpa without TLS, esmtpsa with, A= alone
        (
            "<= a@b H=(p) [192.0.2.1] P=esmtpa A=plain:a S=1",
            ("inbound", "submission", "192.0.2.1", "p", None, False),
        ),
        (
            "<= a@b H=(p) [192.0.2.1] P=esmtpsa X=TLS1.2:X:256 A=plain:a S=1",
            ("inbound", "submission", "192.0.2.1", "p", "TLSv1.2", False),
        ),
        # TLS on connect (tls_on_connect selector), HELO: ssmtp
        (
            "<= a@b H=(p) [192.0.2.1] P=ssmtp X=TLS1.2:X:256 S=1",
            ("inbound", "mta", "192.0.2.1", "p", "TLSv1.2", False),
        ),
        # -tls_cipher: TLS by the protocol name, version unknown
        (
            "<= a@b H=(h) [192.0.2.1] P=esmtps S=1",
            ("inbound", "mta", "192.0.2.1", "h", None, True),
        ),
        # SSLv3: TLS of no version the model knows
        (
            "<= a@b H=(h) [192.0.2.1] P=esmtps X=SSLv3:DES-CBC3-SHA:168 S=1",
            ("inbound", "mta", "192.0.2.1", "h", None, True),
        ),
        # IPv6, verified name and HELO name: the verified one is kept
        (
            "<= a@b H=mx.example.net (helo.example.net) [2001:db8::10]:40000 P=esmtps "
            "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 S=1",
            ("inbound", "mta", "2001:db8::10", "mx.example.net", "TLSv1.3", False),
        ),
        # an address literal as HELO is no name
        (
            "<= a@b H=([10.21.32.43]) [192.168.8.34] P=esmtp S=1",
            ("inbound", "mta", "192.168.8.34", None, None, False),
        ),
        # deliveries
        (
            "=> b@example.com R=dnslookup T=remote_smtp H=mx.example.com [192.0.2.20] "
            'X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes C="250 OK"',
            ("outbound", "mta", "192.0.2.20", "mx.example.com", "TLSv1.2", False),
        ),
        (
            '=> b@example.com R=r T=t H=mx.example.com [192.0.2.20]:25 C="250 OK"',
            ("outbound", "mta", "192.0.2.20", "mx.example.com", None, False),
        ),
        # DNSSEC marker, IPv6, reused connection (*)
        (
            "=> b@example.com R=r T=t H=mx.example.com DS [2001:db8::25]:25* "
            'X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane C="250 OK"',
            ("outbound", "mta", "2001:db8::25", "mx.example.com", "TLSv1.3", False),
        ),
        # -tls_cipher on a delivery: CV= is logged only for TLS
        (
            '=> b@example.com R=r T=t H=127.0.2.2 [127.0.2.2] CV=no K C="250 2.0.0 Ok"',
            ("outbound", "mta", "127.0.2.2", None, None, True),
        ),
        # cutthrough delivery
        (
            ">> b@example.com R=r T=t H=relay.example.com [192.0.2.30] X=TLS1.2:X:128 CV=yes",
            ("outbound", "mta", "192.0.2.30", "relay.example.com", "TLSv1.2", False),
        ),
        # a confirmation that contains field-like text does not fool the parser
        (
            '=> b@example.com R=r T=t H=mx.example.com [192.0.2.20] C="250 OK X=TLS1:a:1 '
            'H=evil [10.0.0.1]"',
            ("outbound", "mta", "192.0.2.20", "mx.example.com", None, False),
        ),
    ],
)
def test_message_lines(body: str, expected: Seen) -> None:
    result = EximParser(YearGuesser(2025)).feed(STAMP + body, "mainlog:1")
    assert result.kind is LineKind.USED
    (observation,) = result.observations
    assert seen(observation) == expected
    assert observation.source is LogFormat.EXIM
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert observation.origin == "mainlog:1"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        # a further recipient of the same delivery: the => line already counted the connection
        (STAMP + "-> c@example.com R=r T=t H=mx [192.0.2.20] X=TLS1.2:X:256", LineKind.IGNORED),
        (STAMP + "=> bob <bob@exim.test> R=local_file T=to_file", LineKind.IGNORED),
        (STAMP + "<= root@example.org U=root P=local S=300", LineKind.IGNORED),
        (STAMP + "<= a@b H=[192.0.2.1] P=spam-scanned S=1", LineKind.IGNORED),
        (STAMP + "== v@down.example R=dnslookup T=remote_smtp defer (111)", LineKind.IGNORED),
        (STAMP + "*> b@example.com R=r T=t H=mx [192.0.2.20]", LineKind.IGNORED),
        (STAMP + "Completed", LineKind.IGNORED),
        ("2025-03-01 10:00:00 SMTP connection from [192.0.2.78]", LineKind.IGNORED),
        ("2025-03-01 10:00:00 Start queue run: pid=1", LineKind.IGNORED),
        (" Suggested action: use keep_environment.", LineKind.UNPARSED),
        ("Mar  1 10:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]", LineKind.UNPARSED),
        ("", LineKind.UNPARSED),
    ],
)
def test_lines_without_sessions(line: str, kind: LineKind) -> None:
    result = EximParser(YearGuesser(2025)).feed(line, "mainlog:1")
    assert result.kind is kind
    assert result.observations == ()


def test_time_zone_and_pid_and_new_message_ids() -> None:
    line = (
        "2025-03-01 11:08:00.250 +0100 [4242] 16VDhn-000000001bo-D342 <= f@example.com "
        "H=smtp.example.com [192.0.2.77] P=esmtps X=TLS1.2:X:256 S=1"
    )
    (observation,) = EximParser(YearGuesser(2025)).feed(line, "m:1").observations
    assert observation.timestamp == datetime(2025, 3, 1, 10, 8, 0, 250000, tzinfo=UTC)
    assert observation.tls_version is TlsVersion.TLS1_2


@pytest.mark.parametrize(
    "line",
    [
        # through syslog, with Exim's own stamp (syslog_timestamp, the default) ...
        "Mar  1 10:00:05 mx exim[77]: 2025-03-01 10:00:00 1tAbCd-000Abc-0A <= a@b "
        "H=(h) [192.0.2.1] P=esmtps X=TLS1.2:X:256 S=1",
        # ... and without it
        "Mar  1 10:00:00 mx exim4[77]: 1tAbCd-000Abc-0A <= a@b H=(h) [192.0.2.1] P=esmtps "
        "X=TLS1.2:X:256 S=1",
    ],
)
def test_through_syslog(line: str) -> None:
    (observation,) = EximParser(YearGuesser(2025)).feed(line, "syslog:1").observations
    assert observation.timestamp == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert observation.peer_ip == "192.0.2.1"
    assert observation.tls_version is TlsVersion.TLS1_2


def test_real_debian_exim_log() -> None:
    """Lines Exim 4.96 (GnuTLS) wrote while swaks and Exim itself exchanged mail on loopback."""
    found, parser = _read("exim-gnutls-debian.log")
    assert [seen(o) for o in found] == [
        ("inbound", "mta", "127.0.7.1", "client.test", None, False),
        ("inbound", "mta", "127.0.7.2", "mta13.client.test", "TLSv1.3", False),
        ("inbound", "mta", "127.0.7.3", "mta12.client.test", "TLSv1.2", False),
        ("inbound", "mta", "127.0.7.3", "mta12c.client.test", "TLSv1.2", False),
        ("inbound", "mta", "127.0.7.4", "legacy10.client.test", "TLSv1", False),
        ("inbound", "mta", "127.0.7.5", "legacy11.client.test", "TLSv1.1", False),
        ("inbound", "submission", "127.0.7.6", "laptop.client.test", "TLSv1.3", False),
        ("inbound", "submission", "127.0.7.7", "oldphone.client.test", None, False),
        ("inbound", "mta", "::1", "v6.client.test", "TLSv1.3", False),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.1", None, "TLSv1.3", False),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.2", None, "TLSv1.2", False),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.4", None, None, False),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.3", None, "TLSv1.1", False),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.1", None, "TLSv1.3", False),  # then "->": same delivery
    ]
    ciphers = {o.cipher for o in found if o.tls_version is TlsVersion.TLS1_0}
    assert ciphers == {"ECDHE_X25519__RSA_SHA1__AES_256_CBC__SHA1"}
    assert all(o.timestamp and o.timestamp.year == 2026 for o in found)
    (note,) = parser.warnings()
    assert "messages, not connections" in note


def test_real_log_without_tls_cipher_selector() -> None:
    found, parser = _read("exim-no-tls-cipher.log")
    assert [seen(o) for o in found] == [
        ("inbound", "mta", "127.0.7.2", "mta13.client.test", None, True),
        ("inbound", "mta", "127.0.7.8", "app.exim.test", None, False),
        ("outbound", "mta", "127.0.2.2", None, None, True),
    ]
    assert any("-tls_cipher" in note and "2 Exim message(s)" in note for note in parser.warnings())


def test_openssl_shapes_file() -> None:
    found, _ = _read("exim-openssl.log")
    assert [seen(o) for o in found] == [
        ("inbound", "mta", "192.0.2.5", "mx.example.org", "TLSv1.2", False),
        (
            "outbound",
            "mta",
            "192.0.2.20",
            "example-com.mail.protection.outlook.com",
            "TLSv1.2",
            False,
        ),
        ("inbound", "mta", "198.51.100.7", "mail.example.net", "TLSv1.3", False),
        ("inbound", "mta", "203.0.113.9", "old.example", "TLSv1", False),
        ("inbound", "mta", "203.0.113.10", None, None, False),
        ("inbound", "submission", "198.51.100.20", "laptop.example.org", "TLSv1.3", False),
        ("inbound", "submission", "198.51.100.21", "phone", None, False),
        ("outbound", "mta", "2001:db8::25", "mx.example.net", "TLSv1.3", False),
        ("outbound", "mta", "2001:db8::25", "mx.example.net", "TLSv1.3", False),
        ("outbound", "mta", "192.0.2.99", "mx.legacy.example", "TLSv1.1", False),
        ("outbound", "mta", "192.0.2.30", "relay.example.com", "TLSv1.2", False),
        ("inbound", "mta", "192.0.2.77", "smtp.example.com", "TLSv1.2", False),
    ]
    assert found[0].cipher == "ECDHE-RSA-AES256-GCM-SHA384"


def test_unknown_versions_are_warned_about() -> None:
    parser = EximParser(YearGuesser(2025))
    (observation,) = parser.feed(
        STAMP + "<= a@b H=[192.0.2.1] P=esmtps X=QUIC9:X:1 S=1", "m:1"
    ).observations
    assert observation.tls_version is None
    assert observation.version_ambiguous
    assert any("QUIC9" in note for note in parser.warnings())


@pytest.mark.parametrize("body", ["<=" + " H=a (" * 20_000, "<= H=(" + "b" * 100_000 + " [1"])
def test_hostile_long_lines_take_linear_time(body: str) -> None:
    # An unbounded HELO part made lines like the first take quadratic time (four minutes for
    # 100 000 repeats).
    started = time.perf_counter()
    result = EximParser(YearGuesser(2025)).feed(STAMP + body, "m:1")
    assert result.kind is LineKind.IGNORED
    assert time.perf_counter() - started < 2.0


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
    for name in ("exim-gnutls-debian.log", "exim-openssl.log")
    for _, line in sample_lines(name)
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), _mutated(_LINES)), max_size=12))
def test_never_raises(lines: list[str]) -> None:
    parser = EximParser(YearGuesser(2025))
    for number, line in enumerate(lines):
        result = parser.feed(line, f"fuzz:{number}")
        assert result.kind in LineKind
        for observation in result.observations:
            assert observation.direction in Direction
            assert observation.role in PeerRole
    parser.finish()
    parser.warnings()

"""The Postfix parser: line kinds, sessions, connection reuse, warnings, real and documented logs.

``samples/postfix-fleet.log`` and ``samples/postfix-relay.log`` were written by Postfix 3.7 on
loopback: the first by the test fleet's listeners (swaks over TLS 1.0-1.3 and plaintext, two
failed handshakes), the second by a relay that took mail from swaks and smtplib (TLS 1.2/1.3,
SMTP AUTH, a listener with ``smtpd_tls_loglevel = 0``, implicit-TLS listeners) and delivered it to
the fleet (TLS 1.1-1.3, plaintext, IPv6, the connection cache with ``smtp_tls_connection_reuse``,
a client limited to TLS >= 1.2 against a TLS 1.0/1.1 server, with and without plaintext retry,
LMTP, a refused connection). ``samples/postfix-documented.log`` holds lines in the documented
shapes (the Postfix source's ``tls_log_summary``, ``smtpd_format_cmd_stats`` and ``log_adhoc``)
that a test run cannot produce here: SNI, client port logging, client signatures, Postfix 2.x,
SSLv3, ``orig_to``/``tls=`` fields, LMTP over a UNIX socket, host names.
"""

from __future__ import annotations

import ipaddress
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.base import LineKind
from mailtls.logs.postfix import LOGLEVEL_WARNING, PostfixParser, _peer_of
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation

SAMPLES = Path(__file__).parent / "samples"
IN, OUT = Direction.INBOUND, Direction.OUTBOUND
MTA, SUBMISSION = PeerRole.MTA, PeerRole.SUBMISSION
PLAIN = "plaintext"
UNKNOWN = "TLS of unknown version"


def frame(text: str, program: str = "postfix/smtpd", pid: int | None = 100, second: int = 0) -> str:
    """One line of a Postfix log, in the syslog frame Postfix and syslog daemons write."""
    process = f"{program}[{pid}]" if pid is not None else program
    return f"Jan 10 10:00:{second:02d} mx1 {process}: {text}"


def run(lines: list[str]) -> tuple[PostfixParser, list[LineKind], list[SessionObservation]]:
    """Feed ``lines`` to a new parser, origins "log:1", "log:2", ...; finish() included."""
    parser = PostfixParser(YearGuesser(2025))
    kinds: list[LineKind] = []
    observations: list[SessionObservation] = []
    for number, line in enumerate(lines, start=1):
        result = parser.feed(line, f"log:{number}")
        kinds.append(result.kind)
        observations.extend(result.observations)
    observations.extend(parser.finish())
    return parser, kinds, observations


def kind_of(observation: SessionObservation) -> str:
    if observation.tls_version is not None:
        return observation.tls_version.value
    return UNKNOWN if observation.version_ambiguous else PLAIN


def brief(observation: SessionObservation) -> tuple[object, ...]:
    """What a session says, in one comparable tuple: who, which way, which TLS, where logged."""
    return (
        observation.direction,
        observation.role,
        observation.peer_ip,
        observation.peer_host,
        kind_of(observation),
        observation.cipher,
        observation.origin,
    )


def sample(name: str) -> list[str]:
    return (SAMPLES / name).read_text().splitlines()


# --- one line at a time ------------------------------------------------------------------------

TLS13_SUFFIX = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256"
)

LINE_KINDS = [
    ("", LineKind.UNPARSED),
    ("hello world", LineKind.UNPARSED),
    ("\x00\xff\x1b[31m binary", LineKind.UNPARSED),
    ("Jan 10 10:00:00", LineKind.UNPARSED),
    ("Feb 30 10:00:00 mx1 postfix/smtpd[1]: connect from unknown[192.0.2.1]", LineKind.UNPARSED),
    (frame("connect from unknown[192.0.2.1]"), LineKind.USED),
    (frame("connect from mx.example.net[2001:db8::1]:40000"), LineKind.USED),
    (frame("connect from nothing-in-brackets"), LineKind.UNPARSED),
    (
        frame(f"Anonymous TLS connection established from unknown[192.0.2.1]: {TLS13_SUFFIX}"),
        LineKind.USED,
    ),
    (
        frame("Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1.2 with ciph"),
        LineKind.UNPARSED,
    ),
    (frame("setting up TLS connection from unknown[192.0.2.1]"), LineKind.IGNORED),
    (  # only the smtp client connects "to"
        frame(
            f"Untrusted TLS connection established to mx.example.com[192.0.2.2]:25: {TLS13_SUFFIX}"
        ),
        LineKind.IGNORED,
    ),
    (frame("SSL_accept error from unknown[192.0.2.1]: -1"), LineKind.USED),
    (frame("SSL_accept error from somewhere: -1"), LineKind.UNPARSED),
    (frame("disconnect from unknown[192.0.2.1] ehlo=1 quit=1 commands=2"), LineKind.USED),
    (frame("disconnect from"), LineKind.UNPARSED),  # cut short
    (frame("disconnect from nowhere commands=0/0"), LineKind.UNPARSED),
    (frame("lost connection after DATA (0 bytes) from unknown[192.0.2.1]"), LineKind.IGNORED),
    (frame("timeout after END-OF-MESSAGE from unknown[192.0.2.1]"), LineKind.IGNORED),
    (
        frame("warning: hostname example.net does not resolve to address 192.0.2.1"),
        LineKind.IGNORED,
    ),
    (
        frame("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied"),
        LineKind.IGNORED,
    ),
    (frame("4Dk2Lq0Y5Mz9sQR: client=unknown[192.0.2.1]"), LineKind.IGNORED),
    (frame("the smtpd of some future version says something new"), LineKind.IGNORED),
    (frame("4Dk2: message-id=<x@example.net>", "postfix/cleanup"), LineKind.IGNORED),
    (frame("4Dk2: removed", "postfix/qmgr"), LineKind.IGNORED),
    (
        frame("CONNECT from [192.0.2.1]:4000 to [192.0.2.2]:25", "postfix/postscreen"),
        LineKind.IGNORED,
    ),
    (
        frame(
            f"Untrusted TLS connection established to mx.example.com[192.0.2.2]:25: {TLS13_SUFFIX}",
            "postfix/tlsproxy",
        ),
        LineKind.IGNORED,
    ),
    (frame("imap-login: Login: user=<a>", "dovecot"), LineKind.IGNORED),
    (frame("connect from unknown[192.0.2.1]", "smtpd"), LineKind.IGNORED),  # OpenSMTPD, not ours
    (
        frame(
            f"Untrusted TLS connection established to mx.example.com[192.0.2.2]:25: {TLS13_SUFFIX}",
            "postfix/smtp",
        ),
        LineKind.USED,
    ),
    (
        frame(
            "ABC: to=<a@example.com>, relay=mx.example.com[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 Ok)",
            "postfix/smtp",
        ),
        LineKind.USED,
    ),
    (
        frame(
            "ABC: to=<a@example.com>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to mx.example.com[192.0.2.2]:25: Connection refused)",
            "postfix/smtp",
        ),
        LineKind.IGNORED,
    ),
    (
        frame("ABC: to=<a@example.com>, relay=mx.example.com[192.0.2.2]:25", "postfix/smtp"),
        LineKind.IGNORED,
    ),
    (
        frame("connect to mx.example.com[192.0.2.2]:25: Connection refused", "postfix/smtp"),
        LineKind.USED,
    ),
    (frame("SSL_connect error to mx.example.com[192.0.2.2]:25: -1", "postfix/smtp"), LineKind.USED),
    (frame("SSL_connect error to nowhere", "postfix/smtp"), LineKind.UNPARSED),
    (frame("ABC: Cannot start TLS: handshake failure", "postfix/smtp"), LineKind.USED),
    (
        frame(
            "ABC: host mx.example.com[192.0.2.2] said: 450 try later (in reply to RCPT TO command)",
            "postfix/smtp",
        ),
        LineKind.IGNORED,
    ),
    (
        frame(
            f"Anonymous TLS connection established from unknown[192.0.2.1]: {TLS13_SUFFIX}",
            "postfix/smtp",
        ),
        LineKind.IGNORED,
    ),
]


@pytest.mark.parametrize(("line", "kind"), LINE_KINDS)
def test_each_line_has_its_kind(line: str, kind: LineKind) -> None:
    assert PostfixParser(YearGuesser(2025)).feed(line, "log:1").kind is kind


def test_the_default_year_guesser_reads_a_line() -> None:
    parser = PostfixParser()
    assert parser.feed(frame("connect from unknown[192.0.2.1]"), "x").kind is LineKind.USED
    (session,) = parser.finish()
    assert session.timestamp is not None
    assert session.timestamp.month == 1
    assert parser.format is LogFormat.POSTFIX


# --- inbound sessions --------------------------------------------------------------------------

C = "unknown[192.0.2.1]"
ECDHE = "ECDHE-RSA-AES256-GCM-SHA384"
TLS12_LINE = (
    f"Anonymous TLS connection established from {C}: TLSv1.2 with cipher {ECDHE} (256/256 bits)"
)
SMTPS = "postfix/smtps/smtpd"

INBOUND_CASES = {
    "plaintext": (
        [
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
        ],
        [(MTA, "192.0.2.1", None, PLAIN, None, "log:2")],
    ),
    "TLS 1.2": (
        [
            frame(f"connect from {C}"),
            frame(TLS12_LINE),
            frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4"),
        ],
        [(MTA, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:3")],
    ),
    "TLS 1.3 with the 3.4+ details, SNI and client port logging": (
        [
            frame("connect from mx.example.net[192.0.2.11]:51234"),
            frame(
                f"Verified TLS connection established from mx.example.net[192.0.2.11]:51234 to mail.example.org: {TLS13_SUFFIX} client-signature ECDSA (secp256r1) client-digest SHA256"
            ),
            frame(
                "disconnect from mx.example.net[192.0.2.11]:51234 ehlo=2 starttls=1 quit=1 commands=4"
            ),
        ],
        [(MTA, "192.0.2.11", "mx.example.net", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:3")],
    ),
    "TLS 1.0 as OpenSSL names it": (
        [
            frame(f"connect from {C}"),
            frame(
                f"Anonymous TLS connection established from {C}: TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)"
            ),
            frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4"),
        ],
        [(MTA, "192.0.2.1", None, "TLSv1", "ECDHE-RSA-AES256-SHA", "log:3")],
    ),
    "lost connection and timeout lines come before the one disconnect": (
        [
            frame(f"connect from {C}"),
            frame(TLS12_LINE),
            frame(f"timeout after DATA (0 bytes) from {C}"),
            frame(f"lost connection after DATA from {C}"),
            frame(f"disconnect from {C} ehlo=2 starttls=1 mail=1 rcpt=1 data=0/1 commands=5/6"),
        ],
        [(MTA, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:5")],
    ),
    "STARTTLS without a TLS line: smtpd_tls_loglevel = 0": (
        [
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"),
        ],
        [(MTA, "192.0.2.1", None, UNKNOWN, None, "log:2")],
    ),
    "one STARTTLS of two succeeded": (
        [
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=2 starttls=1/2 quit=1 commands=4/5"),
        ],
        [(MTA, "192.0.2.1", None, UNKNOWN, None, "log:2")],
    ),
    "a failed handshake, then a plaintext retry: two plaintext sessions": (
        [
            frame(f"connect from {C}"),
            frame(f"SSL_accept error from {C}: -1"),
            frame(
                "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol"
            ),
            frame(f"lost connection after STARTTLS from {C}"),
            frame(f"disconnect from {C} ehlo=1 starttls=0/1 commands=1/2"),
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
        ],
        [
            (MTA, "192.0.2.1", None, PLAIN, None, "log:5"),
            (MTA, "192.0.2.1", None, PLAIN, None, "log:7"),
        ],
    ),
    "AUTH makes a submission client": (
        [
            frame(f"connect from {C}", "postfix/submission/smtpd"),
            frame(TLS12_LINE, "postfix/submission/smtpd"),
            frame(
                f"disconnect from {C} ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8",
                "postfix/submission/smtpd",
            ),
        ],
        [(SUBMISSION, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:3")],
    ),
    "a failed AUTH does not": (
        [
            frame(f"connect from {C}"),
            frame(TLS12_LINE),
            frame(f"disconnect from {C} ehlo=2 starttls=1 auth=0/1 quit=1 commands=4/5"),
        ],
        [(MTA, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:3")],
    ),
    "a sasl_method line without command counts (Postfix < 3.0)": (
        [
            frame(f"connect from {C}"),
            frame(TLS12_LINE),
            frame(f"4Dk2Lq0Y5Mz9sQR: client={C}, sasl_method=PLAIN, sasl_username=alice"),
            frame(f"disconnect from {C}"),
        ],
        [(SUBMISSION, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:4")],
    ),
    "implicit TLS (smtps) without a TLS line": (
        [
            frame(f"connect from {C}", SMTPS),
            frame(
                f"disconnect from {C} ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6", SMTPS
            ),
        ],
        [(SUBMISSION, "192.0.2.1", None, UNKNOWN, None, "log:2")],
    ),
    "implicit TLS with a TLS line": (
        [
            frame(f"connect from {C}", SMTPS),
            frame(TLS12_LINE, SMTPS),
            frame(f"disconnect from {C} ehlo=1 quit=1 commands=2", SMTPS),
        ],
        [(MTA, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:3")],
    ),
    "implicit TLS whose handshake failed": (
        [
            frame(f"connect from {C}", "postfix-out/submissions/smtpd"),
            frame(f"SSL_accept error from {C}: lost connection", "postfix-out/submissions/smtpd"),
            frame(f"disconnect from {C} commands=0/0", "postfix-out/submissions/smtpd"),
        ],
        [(MTA, "192.0.2.1", None, PLAIN, None, "log:3")],
    ),
    "SSLv3 is TLS of a version mailtls cannot name": (
        [
            frame(f"connect from {C}"),
            frame(
                f"Anonymous TLS connection established from {C}: SSLv3 with cipher DHE-RSA-AES256-SHA (256/256 bits)"
            ),
            frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4"),
        ],
        [(MTA, "192.0.2.1", None, UNKNOWN, "DHE-RSA-AES256-SHA", "log:3")],
    ),
    "IPv6 in canonical form, a host name, an ISO time stamp": (
        [
            "2025-01-10T10:00:00.123456+01:00 mx1 postfix/smtpd[7]: connect from mail.example.com[2001:DB8:0::25]",
            f"2025-01-10T10:00:01.000000+01:00 mx1 postfix/smtpd[7]: Trusted TLS connection established from mail.example.com[2001:DB8:0::25]: {TLS13_SUFFIX}",
            "2025-01-10T10:00:02.000000+01:00 mx1 postfix/smtpd[7]: disconnect from mail.example.com[2001:DB8:0::25] ehlo=2 starttls=1 quit=1 commands=4",
        ],
        [(MTA, "2001:db8::25", "mail.example.com", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:3")],
    ),
    "a client Postfix has no address for": (
        [
            frame("connect from unknown[unknown]"),
            frame("disconnect from unknown[unknown] commands=0/0"),
        ],
        [(MTA, None, None, PLAIN, None, "log:2")],
    ),
    "a missing disconnect: the next connect of the process ends the session": (
        [
            frame("connect from crashed.example.net[192.0.2.60]"),
            frame(TLS12_LINE),
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=1 quit=1 commands=2"),
        ],
        [
            (MTA, "192.0.2.60", "crashed.example.net", "TLSv1.2", ECDHE, "log:3"),
            (MTA, "192.0.2.1", None, PLAIN, None, "log:4"),
        ],
    ),
    "a session open when the log ends: TLS seen": (
        [
            frame(f"connect from {C}"),
            frame(TLS12_LINE),
            frame(f"4Dk2: client={C}, sasl_method=PLAIN, sasl_username=bob"),
        ],
        [(SUBMISSION, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:3")],
    ),
    "a session open when the log ends: nothing seen yet": (
        [frame(f"connect from {C}")],
        [(MTA, "192.0.2.1", None, PLAIN, None, "log:1")],
    ),
    "a log that begins after the connect, before the TLS line": (
        [frame(TLS12_LINE), frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4")],
        [(MTA, "192.0.2.1", None, "TLSv1.2", ECDHE, "log:2")],
    ),
    "a log that begins after the TLS line: the session is left out": (
        [frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4")],
        [],
    ),
}


@pytest.mark.parametrize(("lines", "expected"), INBOUND_CASES.values(), ids=INBOUND_CASES.keys())
def test_inbound_sessions(lines: list[str], expected: list[tuple[object, ...]]) -> None:
    _, _, observations = run(lines)
    assert [brief(observation)[1:] for observation in observations] == expected
    assert all(observation.direction is IN for observation in observations)
    assert all(observation.source is LogFormat.POSTFIX for observation in observations)


def test_the_session_time_is_its_connect_time() -> None:
    _, _, (session,) = run(
        [
            frame(f"connect from {C}", second=1),
            frame(TLS12_LINE, second=2),
            frame(f"disconnect from {C} commands=0/0", second=9),
        ]
    )
    assert session.timestamp == datetime(2025, 1, 10, 10, 0, 1, tzinfo=UTC)


def test_interleaved_smtpd_processes_keep_their_own_sessions() -> None:
    a, b = "unknown[192.0.2.1]", "mx.example.net[198.51.100.2]"
    lines = [
        frame(f"connect from {a}", pid=1),
        frame(f"connect from {b}", pid=2),
        frame(f"connect from {a}", "postfix-other/smtpd", pid=1),  # another listener, same pid
        frame(
            f"Anonymous TLS connection established from {b}: TLSv1.2 with cipher {ECDHE} (256/256 bits)",
            pid=2,
        ),
        frame(f"Anonymous TLS connection established from {a}: {TLS13_SUFFIX}", pid=1),
        frame(f"disconnect from {a} ehlo=2 starttls=1 quit=1 commands=4", pid=1),
        frame(f"disconnect from {b} ehlo=2 starttls=1 auth=1 quit=1 commands=5", pid=2),
        frame(f"disconnect from {a} ehlo=1 quit=1 commands=2", "postfix-other/smtpd", pid=1),
    ]
    _, _, observations = run(lines)
    assert [brief(observation)[1:] for observation in observations] == [
        (MTA, "192.0.2.1", None, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:6"),
        (SUBMISSION, "198.51.100.2", "mx.example.net", "TLSv1.2", ECDHE, "log:7"),
        (MTA, "192.0.2.1", None, PLAIN, None, "log:8"),
    ]


def test_the_loglevel_zero_warning_names_the_settings() -> None:
    parser, _, _ = run(
        [
            frame(f"connect from {C}"),
            frame(f"disconnect from {C} ehlo=2 starttls=1 quit=1 commands=4"),
        ]
    )
    assert parser.counts.tls_without_details == 1
    (warning,) = parser.warnings()
    assert warning.startswith(LOGLEVEL_WARNING)
    assert "smtpd_tls_loglevel = 1" in warning
    assert "smtp_tls_loglevel = 1" in warning


def test_no_warning_when_the_log_shows_tls() -> None:
    parser, _, _ = run(INBOUND_CASES["TLS 1.2"][0] + INBOUND_CASES["plaintext"][0])
    assert parser.warnings() == ()


def test_postfix_2_logs_without_any_tls_line_get_a_warning() -> None:
    parser, _, observations = run([frame(f"connect from {C}"), frame(f"disconnect from {C}")])
    assert [kind_of(observation) for observation in observations] == [PLAIN]
    assert parser.counts.inbound_without_counts == 1
    (warning,) = parser.warnings()
    assert "no command counts" in warning
    assert "smtpd_tls_loglevel = 1" in warning


def test_cut_sessions_and_unknown_protocols_are_counted_and_told() -> None:
    parser, _, _ = run(
        INBOUND_CASES["a log that begins after the TLS line: the session is left out"][0]
        + INBOUND_CASES["SSLv3 is TLS of a version mailtls cannot name"][0]
    )
    assert parser.counts.cut_sessions == 1
    assert parser.counts.unknown_protocols == 1
    warnings = parser.warnings()
    assert any("SSLv3" in warning for warning in warnings)
    assert any("began before the log did" in warning for warning in warnings)


def test_open_sessions_beyond_the_cap_are_dropped_and_counted() -> None:
    parser = PostfixParser(YearGuesser(2025), max_open=2)
    for pid in (1, 2, 3):
        parser.feed(frame(f"connect from unknown[192.0.2.{pid}]", pid=pid), f"log:{pid}")
    left = parser.finish()
    assert sorted(observation.peer_ip or "" for observation in left) == ["192.0.2.2", "192.0.2.3"]
    assert parser.counts.dropped_sessions == 1
    assert any("were left out" in warning for warning in parser.warnings())
    assert parser.finish() == ()  # finish() empties the parser


def test_connections_beyond_the_cap_are_dropped_and_counted() -> None:
    parser = PostfixParser(YearGuesser(2025), max_open=1)
    tls_to = (
        "Trusted TLS connection established to mx{0}.example.com[192.0.2.{0}]:25: " + TLS13_SUFFIX
    )
    parser.feed(frame(tls_to.format(1), "postfix/smtp", pid=1), "log:1")
    parser.feed(frame(tls_to.format(2), "postfix/smtp", pid=2), "log:2")
    assert [observation.peer_ip for observation in parser.finish()] == ["192.0.2.2"]
    assert parser.counts.dropped_sessions == 1


# --- outbound sessions -------------------------------------------------------------------------

SMTP = "postfix/smtp"
MX = "mx.example.com[192.0.2.2]:25"
TLS_TO_MX = (
    f"Trusted TLS connection established to {MX}: TLSv1.2 with cipher {ECDHE} (256/256 bits)"
)
REUSED_TO_MX = f"Trusted TLS connection reused to {MX}: TLSv1.2 with cipher {ECDHE} (256/256 bits)"


def delivered(
    queue_id: str,
    rcpt: str,
    *,
    relay: str = MX,
    extra: str = "",
    status: str = "sent (250 2.0.0 Ok)",
    tls: str = "",
) -> str:
    """A delivery line as log_adhoc() writes it (``extra``: conn_use=; ``tls``: the 3.11 field)."""
    return f"{queue_id}: to=<{rcpt}@example.com>, relay={relay}, {extra}delay=0.5, delays=0.1/0/0.2/0.2, {tls}dsn=2.0.0, status={status}"


CANNOT = "deferred (Cannot start TLS: handshake failure)"

OUTBOUND_CASES = {
    "three recipients over one TLS connection: one session": (
        [
            frame(TLS_TO_MX, SMTP),
            frame(delivered("A1", "a"), SMTP),
            frame(delivered("A1", "b"), SMTP),
            frame(delivered("A1", "c"), SMTP),
        ],
        [("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:2")],
    ),
    "a message over a cached TLS connection counts once, where it was first used": (
        [
            frame(TLS_TO_MX, SMTP, pid=1),
            frame(delivered("A1", "a"), SMTP, pid=1),
            frame(REUSED_TO_MX, SMTP, pid=2),
            frame(delivered("B2", "b", extra="conn_use=2, "), SMTP, pid=2),
            frame(delivered("B2", "c", extra="conn_use=2, "), SMTP, pid=2),
            frame(REUSED_TO_MX, SMTP, pid=1),
            frame(delivered("C3", "d", extra="conn_use=3, "), SMTP, pid=1),
        ],
        [("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:2")],
    ),
    "a cached plaintext connection counts once too": (
        [
            frame(delivered("A1", "a"), SMTP),
            frame(delivered("B2", "b", extra="conn_use=2, "), SMTP),
        ],
        [("192.0.2.2", "mx.example.com", PLAIN, None, "log:1")],
    ),
    "two messages, two TLS connections, one process": (
        [
            frame(TLS_TO_MX, SMTP),
            frame(delivered("A1", "a"), SMTP),
            frame(TLS_TO_MX, SMTP),
            frame(delivered("B2", "b"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:2"),
            ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:4"),
        ],
    ),
    "a new message without a TLS line or conn_use is a new plaintext connection": (
        [
            frame(TLS_TO_MX, SMTP),
            frame(delivered("A1", "a"), SMTP),
            frame(delivered("B2", "b"), SMTP),
            frame(delivered("B2", "c"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:2"),
            ("192.0.2.2", "mx.example.com", PLAIN, None, "log:3"),
        ],
    ),
    "TLS to one server says nothing about the next": (
        [
            frame(TLS_TO_MX, SMTP),
            frame(delivered("A1", "a", relay="mx2.example.com[192.0.2.3]:25"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:1"),
            ("192.0.2.3", "mx2.example.com", PLAIN, None, "log:2"),
        ],
    ),
    "no connection, no session": (
        [
            frame("connect to mx.example.com[192.0.2.2]:25: Connection refused", SMTP),
            frame(
                delivered(
                    "A1",
                    "a",
                    relay="none",
                    status="deferred (connect to mx.example.com[192.0.2.2]:25: Connection refused)",
                ),
                SMTP,
            ),
        ],
        [],
    ),
    "a failed handshake that defers the mail: one failed (plaintext) session": (
        [
            frame(f"SSL_connect error to {MX}: -1", SMTP),
            frame(
                "warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version",
                SMTP,
            ),
            frame(delivered("A1", "a", status=CANNOT), SMTP),
            frame(delivered("A1", "b", status=CANNOT), SMTP),
        ],
        [("192.0.2.2", "mx.example.com", PLAIN, None, "log:1")],
    ),
    "a failed handshake, then the plaintext retry: two sessions": (
        [
            frame(f"SSL_connect error to {MX}: -1", SMTP),
            frame("A1: Cannot start TLS: handshake failure", SMTP),
            frame(delivered("A1", "a"), SMTP),
            frame(delivered("A1", "b"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", PLAIN, None, "log:1"),
            ("192.0.2.2", "mx.example.com", PLAIN, None, "log:3"),
        ],
    ),
    "tlsproxy's summary line is not counted twice": (
        [
            frame(TLS_TO_MX, "postfix/tlsproxy", pid=9),
            frame(TLS_TO_MX, SMTP),
            frame(delivered("A1", "a"), SMTP),
            frame("DISCONNECT [192.0.2.2]:25", "postfix/tlsproxy", pid=9),
        ],
        [("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:3")],
    ),
    "tlsproxy's failed handshake, mail deferred": (
        [
            frame(
                "TLS handshake failed for service=smtp peer=[192.0.2.2]:25",
                "postfix/tlsproxy",
                pid=9,
            ),
            frame(delivered("A1", "a", status=CANNOT), SMTP),
        ],
        [("192.0.2.2", "mx.example.com", PLAIN, None, "log:2")],
    ),
    "tlsproxy's failed handshake, then the plaintext retry": (
        [
            frame(
                "TLS handshake failed for service=smtp peer=[192.0.2.2]:25",
                "postfix/tlsproxy",
                pid=9,
            ),
            frame("A1: Cannot start TLS: handshake failure", SMTP),
            frame(delivered("A1", "a"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", PLAIN, None, "log:3"),
            ("192.0.2.2", "mx.example.com", PLAIN, None, "log:3"),
        ],
    ),
    "IPv6, orig_to and the tls= field of Postfix 3.11": (
        [
            frame(
                f"Verified TLS connection established to mx.example.org[2001:db8::26]:25: {TLS13_SUFFIX}",
                SMTP,
            ),
            frame(
                delivered(
                    "A1", "d", relay="mx.example.org[2001:db8::26]:25", tls="tls=dane, "
                ).replace("to=<d@example.com>", "to=<d@example.org>, orig_to=<alias@example.net>"),
                SMTP,
            ),
        ],
        [("2001:db8::26", "mx.example.org", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:2")],
    ),
    "a destination given as [address] has no host name": (
        [frame(delivered("A1", "a", relay="192.0.2.9[192.0.2.9]:25"), SMTP)],
        [("192.0.2.9", None, PLAIN, None, "log:1")],
    ),
    "LMTP over TCP is a session, over a UNIX socket it is not": (
        [
            frame(delivered("A1", "a", relay="lmtp.example.net[192.0.2.7]:24"), "postfix/lmtp"),
            frame(
                delivered("B2", "b", relay="mail.example.net[private/dovecot-lmtp]"), "postfix/lmtp"
            ),
        ],
        [("192.0.2.7", "lmtp.example.net", PLAIN, None, "log:1")],
    ),
    "a TLS connection whose deliveries the log does not show ends at the next one": (
        [
            frame(TLS_TO_MX, SMTP),
            frame(
                f"Untrusted TLS connection established to mx2.example.com[192.0.2.3]:25: {TLS13_SUFFIX}",
                SMTP,
            ),
            frame(delivered("A1", "a", relay="mx2.example.com[192.0.2.3]:25"), SMTP),
        ],
        [
            ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:1"),
            ("192.0.2.3", "mx2.example.com", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:3"),
        ],
    ),
    "a TLS connection open when the log ends": (
        [frame(TLS_TO_MX, SMTP)],
        [("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:1")],
    ),
}


@pytest.mark.parametrize(("lines", "expected"), OUTBOUND_CASES.values(), ids=OUTBOUND_CASES.keys())
def test_outbound_sessions(lines: list[str], expected: list[tuple[object, ...]]) -> None:
    _, _, observations = run(lines)
    assert [brief(observation)[2:] for observation in observations] == expected
    assert all(observation.direction is OUT for observation in observations)
    assert all(observation.role is MTA for observation in observations)


def test_an_outbound_tls_session_is_timed_by_its_handshake() -> None:
    _, _, (session,) = run(
        [frame(TLS_TO_MX, SMTP, second=3), frame(delivered("A1", "a"), SMTP, second=8)]
    )
    assert session.timestamp == datetime(2025, 1, 10, 10, 0, 3, tzinfo=UTC)


def test_interleaved_smtp_processes_keep_their_own_connections() -> None:
    other = "mx.example.org[198.51.100.5]:25"
    lines = [
        frame(TLS_TO_MX, SMTP, pid=1),
        frame(delivered("B2", "x", relay=other), SMTP, pid=2),  # pid 2: plaintext to another MX
        frame(delivered("A1", "a"), SMTP, pid=1),
        frame(f"Trusted TLS connection established to {other}: {TLS13_SUFFIX}", SMTP, pid=3),
        frame(delivered("B2", "y", relay=other), SMTP, pid=2),
        frame(delivered("C3", "z", relay=other), SMTP, pid=3),
        frame(delivered("A1", "b"), SMTP, pid=1),
    ]
    _, _, observations = run(lines)
    assert [brief(observation)[2:] for observation in observations] == [
        ("198.51.100.5", "mx.example.org", PLAIN, None, "log:2"),
        ("192.0.2.2", "mx.example.com", "TLSv1.2", ECDHE, "log:3"),
        ("198.51.100.5", "mx.example.org", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:6"),
    ]


def test_reuse_and_handshake_failures_are_counted() -> None:
    lines = OUTBOUND_CASES[
        "a message over a cached TLS connection counts once, where it was first used"
    ][0]
    lines += OUTBOUND_CASES["a failed handshake, then the plaintext retry: two sessions"][0]
    parser, _, _ = run(lines)
    assert parser.counts.reused_connections == 3
    assert parser.counts.failed_handshakes == 1
    assert parser.counts.outbound == 3


def test_outbound_logs_without_any_tls_line_get_a_warning() -> None:
    parser, _, _ = run([frame(delivered("A1", "a"), SMTP)])
    (warning,) = parser.warnings()
    assert "smtp_tls_loglevel = 1" in warning


# --- whole logs --------------------------------------------------------------------------------


def test_the_fleet_log_shows_what_swaks_sent() -> None:
    parser, kinds, observations = run(sample("postfix-fleet.log"))
    client = "127.0.7.21"
    assert [brief(observation) for observation in observations] == [
        # The fleet's own readiness probes: connect, QUIT.
        (IN, MTA, "127.0.0.1", None, PLAIN, None, "log:4"),
        (IN, MTA, "::1", None, PLAIN, None, "log:6"),
        # swaks --tls-protocol tlsv1_2, then default (TLS 1.3), against the modern listener
        (IN, MTA, client, None, "TLSv1.2", ECDHE, "log:12"),
        (IN, MTA, client, None, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:19"),
        # --tls-protocol tlsv1 at SECLEVEL=0 against legacy, tlsv1_1 against all-versions
        (IN, MTA, client, None, "TLSv1", "ECDHE-RSA-AES256-SHA", "log:30"),
        (IN, MTA, client, None, "TLSv1.1", "ECDHE-RSA-AES256-SHA", "log:38"),
        # no STARTTLS on that listener
        (IN, MTA, client, None, PLAIN, None, "log:44"),
        (IN, MTA, "::1", None, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:51"),
        # TLS 1.3 against the TLS 1.2-only listener, TLS 1.0 against modern: handshake refused
        (IN, MTA, client, None, PLAIN, None, "log:58"),
        (IN, MTA, client, None, PLAIN, None, "log:63"),
    ]
    assert all(
        observation.timestamp is not None and observation.timestamp.year == 2025
        for observation in observations
    )
    assert parser.counts.failed_handshakes == 2
    assert parser.warnings() == ()
    assert LineKind.UNPARSED not in kinds


def test_the_relay_log_shows_what_was_sent_through_it() -> None:
    parser, kinds, observations = run(sample("postfix-relay.log"))
    table = Counter((o.direction, o.role, o.peer_ip, kind_of(o)) for o in observations)
    swaks, smtplib, probe = "127.0.7.22", "127.0.7.23", "127.0.7.24"
    assert table == {
        # swaks: four parallel TLS 1.2 sessions; eighteen TLS 1.3 ones; plaintext to the
        # STARTTLS listener and to the loglevel-0 one; STARTTLS and implicit TLS on loglevel 0.
        (IN, MTA, swaks, "TLSv1.2"): 4,
        (IN, MTA, swaks, "TLSv1.3"): 18,
        (IN, MTA, swaks, PLAIN): 2,
        (IN, MTA, swaks, UNKNOWN): 2,
        # smtplib with AUTH: STARTTLS and implicit TLS, STARTTLS on loglevel 0, no TLS at all
        (IN, SUBMISSION, smtplib, "TLSv1.3"): 2,
        (IN, SUBMISSION, smtplib, UNKNOWN): 1,
        (IN, SUBMISSION, smtplib, PLAIN): 1,
        # connect and go; EHLO, QUIT; STARTTLS, QUIT; STARTTLS with a broken handshake
        (IN, MTA, probe, PLAIN): 3,
        (IN, MTA, probe, "TLSv1.3"): 1,
        # Deliveries: seventeen TLS 1.3 connections to the modern listener (a cached connection
        # carried an eighteenth message), one failed LMTP session to it; TLS 1.2 to the TLS
        # 1.2 listener (an anonymous suite); TLS 1.1 to the legacy listener three times, and
        # eight sessions there from the client that wants TLS 1.2: five failed handshakes and
        # three plaintext retries; plaintext to the listener without STARTTLS; IPv6.
        (OUT, MTA, "127.0.2.1", "TLSv1.3"): 17,
        (OUT, MTA, "127.0.2.1", PLAIN): 1,
        (OUT, MTA, "127.0.2.2", "TLSv1.2"): 1,
        (OUT, MTA, "127.0.2.3", "TLSv1.1"): 3,
        (OUT, MTA, "127.0.2.3", PLAIN): 8,
        (OUT, MTA, "127.0.2.4", PLAIN): 1,
        (OUT, MTA, "::1", "TLSv1.3"): 1,
    }
    counts = parser.counts
    assert (counts.failed_handshakes, counts.reused_connections, counts.tls_without_details) == (
        6,
        2,
        3,
    )
    assert parser.warnings() == (
        f"{LOGLEVEL_WARNING} (3 inbound session(s) used TLS of unknown version)",
    )
    assert LineKind.UNPARSED not in kinds
    ciphers = {o.cipher for o in observations if o.direction is OUT and o.peer_ip == "127.0.2.2"}
    assert ciphers == {"ADH-AES256-GCM-SHA384"}


def test_the_documented_shapes() -> None:
    parser, kinds, observations = run(sample("postfix-documented.log"))
    outlook = "example-com.mail.protection.outlook.com"
    aes128 = "ECDHE-RSA-AES128-GCM-SHA256"
    assert [brief(observation) for observation in observations] == [
        (IN, MTA, "192.0.2.10", None, "TLSv1.2", ECDHE, "log:8"),
        (IN, MTA, "192.0.2.11", "mx.example.net", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:10"),
        (IN, MTA, "198.51.100.7", "old.example.net", "TLSv1", "DHE-RSA-AES256-SHA", "log:14"),
        (
            IN,
            MTA,
            "2001:db8::25",
            "mail.example.com",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            "log:17",
        ),
        (IN, SUBMISSION, "192.0.2.50", "laptop.example.org", "TLSv1.2", aes128, "log:20"),
        (IN, MTA, "192.0.2.51", None, "TLSv1.2", aes128, "log:24"),
        (IN, MTA, "198.51.100.9", "ancient.example.net", UNKNOWN, "DHE-RSA-AES256-SHA", "log:27"),
        (IN, MTA, "192.0.2.60", "crashed.example.net", PLAIN, None, "log:30"),  # next connect
        (IN, MTA, "192.0.2.61", None, PLAIN, None, "log:31"),
        (OUT, MTA, "192.0.2.20", outlook, "TLSv1.2", ECDHE, "log:34"),
        (OUT, MTA, "2001:db8::26", "mx.example.org", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "log:37"),
        (OUT, MTA, "198.51.100.30", "old-mx.example.net", PLAIN, None, "log:38"),
        (OUT, MTA, "198.51.100.40", "legacy.example.com", PLAIN, None, "log:43"),
        (OUT, MTA, "198.51.100.40", "legacy.example.com", PLAIN, None, "log:43"),
        # still open at the end: the smtpd session with its TLS, the smtp connection
        (
            IN,
            MTA,
            "192.0.2.70",
            "late.example.net",
            "TLSv1.2",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "log:45",
        ),
        (OUT, MTA, "192.0.2.80", "mx.example.com", "TLSv1.1", "ECDHE-RSA-AES128-SHA", "log:46"),
    ]
    # Inbound sessions are timed by their connect, outbound ones by their TLS line or delivery.
    times = " ".join(o.timestamp.strftime("%M:%S") for o in observations if o.timestamp)
    assert times == (
        "00:00 00:01 00:04 00:06 00:08 00:10 00:12 00:15 00:16 01:00 01:02 01:04 01:07 01:07 01:08 01:09"
    )
    assert parser.counts.cut_sessions == 1
    assert LineKind.UNPARSED not in kinds
    assert kinds.count(LineKind.IGNORED) == 9


# --- nothing raises ----------------------------------------------------------------------------

SAMPLE_LINES = (
    sample("postfix-fleet.log") + sample("postfix-relay.log") + sample("postfix-documented.log")
)


def mutate(line: str, rng: random.Random) -> str:
    """Cut, repeat, splice or overwrite a piece of a real line."""
    if not line:
        return line
    start = rng.randrange(len(line))
    end = rng.randrange(start, len(line) + 1)
    piece = line[start:end]
    choice = rng.randrange(5)
    if choice == 0:
        return line[:start] + line[end:]
    if choice == 1:
        return line[:end] + piece * rng.randrange(2, 6) + line[end:]
    if choice == 2:
        return line[:start] + rng.choice(SAMPLE_LINES)[start:end] + line[end:]
    if choice == 3:
        return line[:start] + "".join(chr(rng.randrange(0, 0x3000)) for _ in piece) + line[end:]
    return (
        line[:start]
        + rng.choice(["[", "]", ":", " ", "=", "/", "9" * 5000, "<", ">", ", "])
        + line[end:]
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=8))
def test_arbitrary_text_never_raises(lines: list[str]) -> None:
    parser = PostfixParser(YearGuesser(2025), max_open=3)
    for line in lines:
        result = parser.feed(line, "x:1")
        assert result.kind in LineKind
    parser.finish()
    parser.warnings()
    assert parser.counts.inbound >= 0


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=12))
def test_mutated_real_lines_never_raise(rng: random.Random, count: int) -> None:
    parser = PostfixParser(YearGuesser(2025), max_open=3)
    lines = [rng.choice(SAMPLE_LINES) for _ in range(count)]
    for line in lines:
        parser.feed(mutate(line, rng), "x:1")
        parser.feed(line, "x:2")
    observations = parser.finish()
    assert all(observation.source is LogFormat.POSTFIX for observation in observations)
    parser.warnings()


def test_a_pid_too_long_for_int_is_unparsed() -> None:
    line = f"Jan 10 10:00:00 mx1 postfix/smtpd[{'9' * 5000}]: connect from unknown[192.0.2.1]"
    assert PostfixParser(YearGuesser(2025)).feed(line, "x").kind is LineKind.UNPARSED


@settings(max_examples=100, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=40))
def test_lines_given_as_one_text_read_like_the_lines(rng: random.Random, count: int) -> None:
    """What LineReader passes along with a batch (block) changes nothing in what is read."""
    lines = [rng.choice(SAMPLE_LINES) for _ in range(count)]
    lines = [mutate(line, rng).replace("\n", "") if rng.random() < 0.5 else line for line in lines]
    as_lines, as_block = PostfixParser(YearGuesser(2025)), PostfixParser(YearGuesser(2025))
    block = "".join(line + "\n" for line in lines)
    assert as_block.feed_lines(lines, "log", 1, block=block) == as_lines.feed_lines(lines, "log", 1)
    assert as_block.finish() == as_lines.finish()


def assert_runs_read_like_lines(lines: list[str], run: int) -> None:
    """feed_lines() in runs of ``run`` lines counts, reports and ends sessions as feed() does."""
    one_by_one = PostfixParser(YearGuesser(2025), max_open=3)
    in_runs = PostfixParser(YearGuesser(2025), max_open=3)
    for start in range(0, len(lines), run):
        piece = lines[start : start + run]
        results = [one_by_one.feed(line, f"log:{start + i}") for i, line in enumerate(piece, 1)]
        kinds = [result.kind for result in results]
        batch = in_runs.feed_lines(piece, "log", start + 1)
        assert batch.used == kinds.count(LineKind.USED)
        assert batch.ignored == kinds.count(LineKind.IGNORED)
        assert batch.unparsed == tuple(i for i, k in enumerate(kinds) if k is LineKind.UNPARSED)
        # Origins included: "log:<number>", spelled out by feed_lines only where needed.
        assert batch.observations == tuple(o for result in results for o in result.observations)
    assert in_runs.finish() == one_by_one.finish()
    assert in_runs.counts == one_by_one.counts
    assert in_runs.warnings() == one_by_one.warnings()


@pytest.mark.parametrize("run", [1, 7, 10_000])
def test_feed_lines_reads_real_logs_like_feed(run: int) -> None:
    assert_runs_read_like_lines(SAMPLE_LINES, run)


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=40))
def test_feed_lines_reads_mutated_lines_like_feed(rng: random.Random, count: int) -> None:
    lines = [rng.choice(SAMPLE_LINES) for _ in range(count)]
    lines = [mutate(line, rng) if rng.random() < 0.5 else line for line in lines]
    assert_runs_read_like_lines(lines, rng.randint(1, count))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.:abcdef١ ", max_size=20))
def test_addresses_are_spelled_as_ipaddress_spells_them(address: str) -> None:
    """The shortcut for canonical IPv4 gives what ip_address() gives, or None when it refuses."""
    try:
        expected: str | None = str(ipaddress.ip_address(address))
    except ValueError:
        expected = None
    assert _peer_of("unknown", address).ip == expected

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.detect import SAMPLE_LINES, detect_format, parser_for
from mailtls.logs.exchange import ExchangeParser
from mailtls.logs.exim import EximParser
from mailtls.logs.opensmtpd import OpenSmtpdParser
from mailtls.logs.postfix import PostfixParser
from mailtls.logs.sendmail import SendmailParser
from mailtls.logs.timestamps import YearGuesser
from mailtls.models import LogFormat

SAMPLES = Path(__file__).parent / "samples"


def _sample(name: str) -> list[str]:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if not line.startswith("# ")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exim-gnutls-debian.log", LogFormat.EXIM),
        ("exim-no-tls-cipher.log", LogFormat.EXIM),
        ("exim-openssl.log", LogFormat.EXIM),
        ("sendmail-mixed.log", LogFormat.SENDMAIL),  # one postfix/smtpd line among them
        ("opensmtpd-current.log", LogFormat.OPENSMTPD),
        ("opensmtpd-6.0.log", LogFormat.OPENSMTPD),
        ("exchange-receive.log", LogFormat.EXCHANGE),
        ("exchange-send.log", LogFormat.EXCHANGE),
    ],
)
def test_samples(name: str, expected: LogFormat) -> None:
    assert detect_format(_sample(name)) is expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["Mar  1 10:00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]"],
            LogFormat.POSTFIX,
        ),
        (
            ["Mar  1 10:00:00 mx postfix-modern/smtpd[1]: connect from x[192.0.2.1]"],
            LogFormat.POSTFIX,
        ),
        (
            [
                "2025-03-01T10:00:00.123456+00:00 mx postfix/smtp[2]: Trusted TLS connection established"
            ],
            LogFormat.POSTFIX,
        ),
        (["2025-03-01 10:00:00 1tAbCd-000Abc-0A => b@example.com R=r T=t"], LogFormat.EXIM),
        (
            ["2025-03-01 10:00:00 16VDhn-000000001bo-D342 <= a@b H=[192.0.2.1] P=smtp"],
            LogFormat.EXIM,
        ),
        (
            ["Mar  1 10:00:00 mx exim[7]: 1tAbCd-000Abc-0A <= a@b H=[192.0.2.1] P=smtp"],
            LogFormat.EXIM,
        ),
        (
            ["Mar  1 10:00:00 mx sendmail[7]: 521A: from=root, size=1, relay=root@localhost"],
            LogFormat.SENDMAIL,
        ),
        (["Mar  1 10:00:00 mx sm-msp-queue[7]: 521A: to=root, stat=Sent"], LogFormat.SENDMAIL),
        (
            ["Mar  1 10:00:00 mx smtpd[7]: 0123456789abcdef smtp connected address=local host=x"],
            LogFormat.OPENSMTPD,
        ),
        (["#Software: Microsoft Exchange Server"], LogFormat.EXCHANGE),
        (["#Log-type: SMTP Send Protocol Log"], LogFormat.EXCHANGE),
        (
            [
                "2025-03-01T10:00:00.100Z,EX01\\Default,08DD5A0000000001,0,10.0.0.1:25,192.0.2.1:5,+,,"
            ],
            LogFormat.EXCHANGE,
        ),
        # mixed: the most votes win
        (
            [
                "Mar  1 10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]",
                "Mar  1 10:00:00 mx postfix/smtpd[1]: disconnect from a[192.0.2.1]",
                "Mar  1 10:00:00 mx sm-mta[1]: STARTTLS=client, relay=x., version=TLSv1.2",
            ],
            LogFormat.POSTFIX,
        ),
        # blank lines are skipped, not counted
        (["", "   ", "Mar  1 10:00:00 mx sm-mta[1]: x"], LogFormat.SENDMAIL),
    ],
)
def test_line_shapes(lines: list[str], expected: LogFormat) -> None:
    assert detect_format(lines) is expected


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["", "  "],
        ["garbage", "\x00\x01\x02", "more garbage"],
        ["Mar  1 10:00:00 mx sshd[7]: Accepted publickey for root"],
        ["Mar  1 10:00:00 mx smtpd[7]: not an OpenSMTPD session line"],  # another smtpd
        ["Mar  1 10:00:00 mx kernel: [ 1.0] eth0: link up"],
        ["Mar  1 10:00:00 mx sm-notify[7]: Version 2.6.2 starting"],  # NFS, not Sendmail
        ["2025-03-01 10:00:00 not an exim message line"],
        ["#Comment: not an Exchange header"],
        ["Mar  1 10:00:00 mx smtpd[" + "9" * 5000 + "]: 0123456789abcdef smtp connected"],
    ],
)
def test_nothing_known(lines: list[str]) -> None:
    assert detect_format(lines) is None


def test_only_the_first_lines_are_read() -> None:
    noise = ["noise"] * SAMPLE_LINES
    assert detect_format([*noise, "#Software: Microsoft Exchange Server"]) is None
    assert (
        detect_format(["", *noise[1:], "#Software: Microsoft Exchange Server"])
        is LogFormat.EXCHANGE
    )


@pytest.mark.parametrize(
    ("log_format", "kind"),
    [
        (LogFormat.POSTFIX, PostfixParser),
        (LogFormat.EXIM, EximParser),
        (LogFormat.SENDMAIL, SendmailParser),
        (LogFormat.OPENSMTPD, OpenSmtpdParser),
        (LogFormat.EXCHANGE, ExchangeParser),
    ],
)
def test_parser_for(log_format: LogFormat, kind: type) -> None:
    parser = parser_for(log_format, YearGuesser(2025))
    assert isinstance(parser, kind)
    assert parser.format is log_format


@pytest.mark.parametrize(
    ("log_format", "line"),
    [
        (
            LogFormat.SENDMAIL,
            "Dec 31 23:59:00 mx sm-mta[1]: STARTTLS=client, relay=x., version=TLSv1.2, verify=OK, cipher=C, bits=1/1",
        ),
        (
            LogFormat.OPENSMTPD,
            "Dec 31 23:59:00 mx smtpd[1]: 0123456789abcdef smtp connected address=192.0.2.1 host=h",
        ),
    ],
)
def test_parser_for_uses_the_given_years(log_format: LogFormat, line: str) -> None:
    parser = parser_for(log_format, YearGuesser(2019))
    found = list(parser.feed(line, "x").observations) + list(parser.finish())
    assert [o.timestamp.year if o.timestamp else None for o in found] == [2019]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=30))
def test_never_raises(lines: list[str]) -> None:
    assert detect_format(lines) in (None, *LogFormat)


def test_postfix_service_names_with_several_parts_are_postfix() -> None:
    lines = [
        "Nov 28 08:00:00 mx postfix/submission/smtpd[1]: connect from a[192.0.2.1]",
        "Nov 28 08:00:01 mx postfix-quiet/smtps/smtpd[2]: connect from b[192.0.2.2]",
    ]
    assert detect_format(lines) is LogFormat.POSTFIX

"""analyse_logs: lines go to the parser in batches, and every line is counted once, by its kind.

Lines that were cut (longer than the reader's limit) still reach the parser, which may open or
end a session with them, but count as unparsed: they are the examples ``--verbose`` shows.
"""

from __future__ import annotations

from pathlib import Path

from mailtls.logs.analyse import UNPARSED_EXAMPLES, analyse_logs
from mailtls.logs.inputs import MAX_LINE_CHARS
from mailtls.logs.report import SessionKind
from mailtls.models import LogFormat

TLS12 = "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"


def session(pid: int, second: int) -> list[str]:
    """One inbound TLS 1.2 session of smtpd ``pid``, and a qmgr line (ignored)."""
    stamp = f"Jan 10 10:{second // 60:02d}:{second % 60:02d} mx1"
    peer = f"unknown[192.0.2.{pid % 250 + 1}]"
    return [
        f"{stamp} postfix/smtpd[{pid}]: connect from {peer}",
        f"{stamp} postfix/smtpd[{pid}]: Anonymous TLS connection established from {peer}: {TLS12}",
        f"{stamp} postfix/qmgr[9]: 1A2B3C4D5E: removed",
        f"{stamp} postfix/smtpd[{pid}]: disconnect from {peer} ehlo=2 starttls=1 quit=1 commands=4",
    ]


def write(path: Path, lines: list[str]) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


def test_every_line_is_counted_once_across_many_batches(tmp_path: Path) -> None:
    # About 1.3 MB: the reader hands it over in many batches, and sessions cross them.
    lines = [line for pid in range(3000) for line in session(pid, pid)]
    lines[5001] = "garbage without a frame"
    report = analyse_logs([write(tmp_path / "mail.log", lines)], year=2025)
    (source,) = report.sources
    assert source.format is LogFormat.POSTFIX
    assert (source.lines, source.used, source.ignored, source.unparsed) == (12000, 8999, 3000, 1)
    assert source.unparsed_examples == (f"{tmp_path / 'mail.log'}:5002: garbage without a frame",)
    # The garbage replaced the TLS line of session 1250: its disconnect line still says
    # starttls=1, so it used TLS of a version the log does not show.
    assert report.totals[SessionKind.TLS1_2] == 2999
    assert report.totals[SessionKind.TLS_UNKNOWN] == 1


def test_a_cut_line_still_reaches_the_parser_but_counts_as_unparsed(tmp_path: Path) -> None:
    lines = [line for pid in range(40) for line in session(pid, pid)]
    tls_line = 4 * 20 + 1  # the TLS line of session 20, 0-based
    lines[tls_line] += " " + "x" * MAX_LINE_CHARS
    name = write(tmp_path / "mail.log", lines)
    report = analyse_logs([name], year=2025)
    (source,) = report.sources
    assert (source.lines, source.too_long, source.unparsed) == (160, 1, 1)
    assert (source.used, source.ignored) == (119, 40)
    assert source.unparsed_examples == (f"{name}:{tls_line + 1}: {lines[tls_line][:200]}",)
    # Its first MAX_LINE_CHARS characters still say TLS 1.2: the session is not plaintext.
    assert report.totals[SessionKind.TLS1_2] == 40


def test_cut_lines_next_to_each_other_and_at_the_ends(tmp_path: Path) -> None:
    lines = [line for pid in range(10) for line in session(pid, pid)]
    long_tail = " " + "y" * (MAX_LINE_CHARS + 10)
    for index in (0, 5, 6, len(lines) - 1):
        lines[index] += long_tail
    report = analyse_logs([write(tmp_path / "mail.log", lines)], year=2025)
    (source,) = report.sources
    assert (source.lines, source.too_long, source.unparsed) == (40, 4, 4)
    assert source.used + source.ignored == 36
    assert [
        example.split(": ", 1)[0].rsplit(":", 1)[1] for example in source.unparsed_examples
    ] == [
        "1",
        "6",
        "7",
        "40",
    ]


def test_an_unknown_format_counts_every_line_as_unparsed(tmp_path: Path) -> None:
    lines = [f"not a mail log, line {number}" for number in range(1, 5001)]
    lines[3000] = "z" * (MAX_LINE_CHARS + 1)
    name = write(tmp_path / "other.log", lines)
    report = analyse_logs([name], year=2025)
    (source,) = report.sources
    assert source.format is None
    assert (source.lines, source.unparsed, source.too_long, source.used) == (5000, 5000, 1, 0)
    assert len(source.unparsed_examples) == UNPARSED_EXAMPLES
    assert source.unparsed_examples[0] == f"{name}:1: not a mail log, line 1"
    assert report.exit_code == 3

from __future__ import annotations

import re

from mailtls.reports.diff import diff_runs
from mailtls.reports.markdown import md, render_diff_markdown, render_markdown
from tests.unit.reports import samples

RUN = samples.run_domains()
REPORT = render_markdown(samples.run_info(), [*RUN, samples.script_injection()])
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def table(heading_start: str, text: str = REPORT) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_domain_table_has_a_row_per_domain_with_constant_columns() -> None:
    rows = table("| Domain |")
    assert len(rows) == 2 + len(RUN) + 1  # heading, rule, domains
    for row in rows:
        assert len(UNESCAPED_PIPE.findall(row)) == 8, row  # 7 columns, a hostile cell included
    contoso = next(r for r in rows if r.startswith("| contoso.example "))
    assert "| TLS 1.1 | plaintext fallback | likely plaintext or fails | critical |" in contoso


def test_summary_tables_add_up_to_the_domains() -> None:
    rows = table("| Best TLS every tested address offers")
    counts = [int(UNESCAPED_PIPE.split(row)[2]) for row in rows[2:]]
    assert sum(counts) == len(RUN) + 1
    assert "| TLS 1.3 | 1 | 8% |" in rows


def test_fixes_are_listed_under_their_findings() -> None:
    section = REPORT[REPORT.index("### contoso.example") :]
    section = section[: section.index("\n### ")]
    lines = section.splitlines()
    finding = next(i for i, line in enumerate(lines) if "`TLS12_UNSUPPORTED`" in line)
    assert "(at mail.contoso.example 192.0.2.40)" in lines[finding]
    assert lines[finding + 1 : finding + 11] == [
        "  - **Fix:** Enable TLS 1.2 for Exchange Server in SCHANNEL and .NET",
        "    1. Install the latest update for your Exchange and Windows version",
        "    2. Enable TLS 1.2 for SChannel (server side), then reboot:",
        # The .reg lines are a literal block inside the step: nothing in them is escaped.
        "       ```",
        "       Windows Registry Editor Version 5.00",
        "       ",
        "       " + samples.SCHANNEL_TLS12_SERVER[2],
        '       "Enabled"=dword:00000001',
        '       "DisabledByDefault"=dword:00000000',
        "       ```",
    ]
    sources = next(line for line in lines if line.startswith("  - Sources: "))
    assert sources.startswith("  - Sources: <https://learn.microsoft.com/exchange/")


def test_steps_given_once_per_domain() -> None:
    section = REPORT[REPORT.index("### contoso.example") :]
    section = section[: section.index("\n### ")]
    assert section.count("TLS 1.0\\Server]") == 1
    tls11 = section[section.index("`TLS11_ENABLED`") :].splitlines()
    assert tls11[1:3] == [
        "  - **Fix:** Turn TLS 1.0 and 1.1 off in SChannel, once no peer needs them",
        "  - Steps as for `TLS10_ENABLED` above.",
    ]


def test_code_in_remedies_stays_code() -> None:
    section = REPORT[REPORT.index("### example.net") :]
    assert "    2. In main.cf: `smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1`" in section
    assert "    3. `postfix reload`" in section


def test_a_literal_block_cannot_be_closed_by_its_content() -> None:
    section = REPORT[REPORT.index("### evil.example") :]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if "A block that tries to end its fence" in line)
    assert lines[start + 1 : start + 6] == [
        "       ````",
        "       ```",
        "       <img src=x onerror=alert(4)>",
        "       | a | b |",
        "       ````",
    ]
    # Inside a code span the markup is inert, and the span stays one.
    assert "    2. Run `<script>alert('code')</script>` and `postfix reload`" in lines


def test_server_text_cannot_make_markup() -> None:
    prose = "\n".join(
        line for line in REPORT.splitlines() if "`" not in line and not line.startswith("       ")
    )  # outside code spans and literal blocks
    assert "<script>" not in prose
    assert "<img" not in prose
    assert "<b>" not in REPORT
    assert "[link](javascript" not in REPORT
    assert "\\[link\\]\\(javascript:alert\\(3\\)\\)" not in REPORT  # parentheses stay as they are
    assert "\\[link\\](javascript:alert(3))" in REPORT
    assert "\\*\\*bold\\*\\*" in REPORT
    assert "\\<script\\>alert" in REPORT
    # A source that is not a web address is shown, escaped, never linked.
    assert "<javascript:" not in REPORT
    assert "javascript:alert('source')" in REPORT


def test_md_escapes_what_markdown_would_act_on() -> None:
    assert md("a|b") == "a\\|b"
    assert md("*x* _y_ `z` ~w~") == "\\*x\\* \\_y\\_ \\`z\\` \\~w\\~"
    assert md("<b>&amp;</b>") == "\\<b\\>\\&amp;\\</b\\>"
    # Never a new line (a new block): the control character is shown as an escape, whose
    # backslash is itself escaped so that it reads as written.
    assert md("line\nbreak") == "line\\\\x0abreak"
    assert md("x" * 500, 20).endswith("(cut, 500 characters)")


def test_the_diff_lists_worse_better_and_one_run_domains() -> None:
    old_run = samples.run_info(5)
    new_run = samples.run_info(7)
    old = [samples.modern(), samples.legacy_postfix(), samples.nxdomain()]
    new = [
        samples.renamed(samples.legacy_exchange(), "example.com"),
        samples.renamed(samples.tls13_everywhere(), "example.net"),
        samples.no_starttls(),
    ]
    text = render_diff_markdown(diff_runs(old_run, old, new_run, new))
    assert text.startswith("# Changes from run 5 to run 7")
    worse = text[text.index("## Worse (1)") : text.index("## Better (1)")]
    assert (
        "- **example.com**: Exchange Online TLS 1.2 → plaintext fallback; best TLS TLS 1.2 → TLS 1.1"
        in worse
    )
    assert "  - new: critical `TLS12_UNSUPPORTED`" in worse
    assert "  - resolved: warning `CERT_EXPIRES_SOON`" in worse
    better = text[text.index("## Better (1)") :]
    assert "- **example.net**:" in better
    assert "## Only in run 5 (1)\n\n- nonexistent.example:" in text
    assert "## Only in run 7 (1)\n\n- example.org: Exchange Online plaintext fallback" in text
    totals = table("| | Run 5 | Run 7 |", text)
    assert "| domains | 3 | 3 |" in totals

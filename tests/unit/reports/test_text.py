from __future__ import annotations

import re

from mailtls.reports.diff import diff_runs
from mailtls.reports.text import render_diff_text, render_run_text
from tests.unit.reports import samples

RUN = samples.run_domains()
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def overview(**options: object) -> str:
    return render_run_text(samples.run_info(), iter(RUN), color=False, **options)  # type: ignore[arg-type]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_overview_shows_the_totals_as_bars() -> None:
    text = overview()
    assert text.startswith("Run 7  customers.txt  12 domains, started 2025-03-14 02:00 UTC")
    tls13 = next(line for line in text.splitlines() if line.strip().startswith("TLS 1.3"))
    assert tls13.split()[-2:] == ["1", "8%"]
    assert "█" in tls13
    not_tested = next(line for line in text.splitlines() if line.strip().startswith("not tested"))
    assert not_tested.split()[-2:] == ["5", "42%"]
    assert "TLS12_UNSUPPORTED" in text


def test_the_worst_domains_come_first_up_to_the_limit() -> None:
    text = overview(attention=3)
    table = text[text.index("Needing attention") :]
    # Null MX needs nothing; northwind.example and the address target are ready and clean
    # enough; example.com has a warning: 12 - 3 = 9 domains need attention.
    assert table.splitlines()[0] == "Needing attention (9 domains; worst first, the first 3 shown)"
    names = [
        line.split()[0]
        for line in table.splitlines()[3:]
        if line.strip() and line.split()[0].endswith(".example")
    ]
    assert names[:3] == ["broken.example", "nonexistent.example", "busy.example"]
    assert "example.com" not in names


def test_a_clean_run_needs_no_attention() -> None:
    text = render_run_text(samples.run_info(), [samples.tls13_everywhere()], color=False)
    assert "none: Exchange Online reaches every domain over TLS 1.2" in text


def test_every_domain_is_counted_even_when_none_is_listed() -> None:
    text = overview(attention=0)
    assert "12 domains," in text
    assert text.endswith("(9 domains; worst first, the first 0 shown)\n")  # and no "none"


def test_plain_text_has_no_escape_codes_and_colour_has_some() -> None:
    hostile = [samples.base.hostile_domain(), samples.script_injection()]
    plain = render_run_text(samples.run_info(), hostile, color=False)
    assert "\x1b" not in plain
    coloured = render_run_text(samples.run_info(), hostile, color=True)
    assert ESCAPE.search(coloured)
    assert "\x1b" not in ESCAPE.sub("", coloured)  # only the renderer's own styles


def test_the_diff_shows_totals_moves_and_findings() -> None:
    old = [samples.modern(), samples.legacy_postfix(), samples.nxdomain(), samples.mixed()]
    new = [
        samples.renamed(samples.legacy_exchange(), "example.com"),
        samples.renamed(samples.tls13_everywhere(), "example.net"),
        samples.no_starttls(),
        samples.mixed(),
    ]
    text = render_diff_text(
        diff_runs(samples.run_info(5), old, samples.run_info(7), new), color=False, width=140
    )
    assert text.startswith("Changes from run 5 (customers.txt)")
    assert (
        flat(text).count(
            "3 domains in both runs: 1 worse, 1 better, 0 with other findings, 1 unchanged"
        )
        == 1
    )
    worse = text[text.index("Worse (1)") : text.index("Better (1)")]
    assert "example.com" in worse
    assert "TLS 1.2 → plaintext fallback" in worse
    assert "+ TLS12_UNSUPPORTED mail.contoso.example 192.0.2.40:25" in worse
    assert "- CERT_EXPIRES_SOON mx2.example.com 192.0.2.20:25" in worse
    better = text[text.index("Better (1)") : text.index("Only in run 5")]
    assert "example.net" in better
    assert "TLS 1.0 → TLS 1.3" in better
    assert "nonexistent.example" in text[text.index("Only in run 5 (1)") :]
    assert "example.org" in text[text.index("Only in run 7 (1)") :]
    domains_row = next(line for line in text.splitlines() if line.strip().startswith("domains"))
    assert domains_row.split()[1:] == ["4", "4"]

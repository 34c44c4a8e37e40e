from __future__ import annotations

import dataclasses
import re

import pytest
from rich.cells import cell_len

from mailtls.knowledge.remedies import AddressFacts, remedy_for
from mailtls.models import (
    CheckReport,
    Confidence,
    Finding,
    FindingCode,
    ProductGuess,
    Remedy,
)
from mailtls.policy.codes import finding
from mailtls.render.text import clean, render_text
from tests.unit.render import samples

SAMPLES = samples.all_samples()
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colour and style codes the renderer itself emits
WIDE, NARROW = 160, 80


def plain(name: str, width: int = 100) -> str:
    return render_text(SAMPLES[name], color=False, width=width)


def flat(text: str) -> str:
    """The words of ``text``, however the layout wrapped them."""
    return " ".join(text.split())


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_modern_domain_shows_versions_ciphers_and_certificates(width: int) -> None:
    text = flat(plain("modern", width))
    assert text.startswith("example.com")
    for fact in (
        "10 mx1.example.com",
        "20 mx2.example.com",
        "192.0.2.10",
        "2001:db8::10",
        "TLSv1.3",
        "TLSv1.2",
        "TLS_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "expires in 12 days",
        "trusted, name ok",
        "CERT_EXPIRES_SOON",
        "TLS13_UNSUPPORTED",
        "Mail flows with Exchange Online over TLS 1.2 in both directions.",
    ):
        assert fact in text, fact
    assert "Addresses not fully tested" not in text


def test_the_wide_layout_keeps_cipher_and_certificate_in_the_table() -> None:
    wide = plain("modern", WIDE).splitlines()
    header = next(line for line in wide if line.startswith("MX / address"))
    assert "Negotiated" in header
    assert "Certificate" in header
    row = next(line for line in wide if line.startswith("  192.0.2.20"))
    assert row.split()[1:9] == ["ok", "yes", "✗", "✗", "✓", "✗", "✓", "TLSv1.2"]
    assert "mx2.example.com" in row


def test_the_narrow_layout_moves_cipher_and_certificate_below_the_table() -> None:
    narrow = plain("modern", NARROW).splitlines()
    header = next(line for line in narrow if line.startswith("MX / address"))
    assert "Certificate" not in header
    detail = next(line for line in narrow if line.startswith("192.0.2.20:"))
    assert "ECDHE-RSA-AES256-GCM-SHA384; certificate mx2.example.com" in detail


@pytest.mark.parametrize("width", [60, NARROW, 100, 120, WIDE])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_no_line_is_wider_than_asked(name: str, width: int) -> None:
    for line in plain(name, width).splitlines():
        assert cell_len(line) <= width, line


def test_legacy_domain_reads_as_tls_1_0_only() -> None:
    text = plain("legacy_tls10", WIDE)
    row = next(line for line in text.splitlines() if line.startswith("  198.51.100.25"))
    assert row.split()[1:9] == ["ok", "yes", "✓", "✗", "✗", "✗", "✗", "TLSv1"]
    assert "expired 40 days ago" in text
    assert "self-signed" in text
    # Grouped by severity, worst first.
    assert text.index("CRITICAL  TLS12_UNSUPPORTED") < text.index("WARNING   TLS10_ENABLED")
    assert "worst: critical" in text.splitlines()[0]


def test_no_starttls_is_said_plainly() -> None:
    text = plain("no_starttls", WIDE)
    row = next(line for line in text.splitlines() if line.startswith("  203.0.113.5"))
    assert row.split()[1:8] == ["ok", "no", "·", "·", "·", "·", "·"]
    assert "STARTTLS_MISSING" in text


def test_rate_limited_address_shows_the_421_reply_and_no_tls_verdict() -> None:
    text = plain("rate_limited")
    assert "rate limited" in text
    assert f"421 {samples.RATE_LIMIT_TEXT}" in text
    assert "Addresses not fully tested:" in text
    row = next(line for line in text.splitlines() if line.startswith("  192.0.2.99"))
    assert " ? " in row  # STARTTLS unknown, not "no"
    assert "20 mx-old.busy.example" in text
    assert "no address" in text
    assert "MX_UNRESOLVABLE" in text


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("nxdomain", "DNS MX nonexistent.example: NXDOMAIN: the name does not exist"),
        ("null_mx", "DNS MX nullmx.example: null MX (0 .): the domain accepts no mail"),
        ("servfail", "DNS MX broken.example: SERVFAIL: the resolver could not get an answer"),
    ],
)
def test_dns_failures_read_clearly_without_a_table(name: str, words: str) -> None:
    text = plain(name, WIDE)
    assert words in text
    assert "MX / address" not in text
    assert "0 addresses" in text.splitlines()[0]


def test_an_address_target_is_named_with_brackets_and_its_port() -> None:
    lines = plain("address_target", WIDE).splitlines()
    assert lines[0].startswith("[2001:db8::25]:2525   worst: info")
    assert any(line.startswith("  [2001:db8::25]:2525 ") for line in lines)
    # The finding's place is the address alone, not "2001:db8::25 2001:db8::25".
    finding_line = next(i for i, line in enumerate(lines) if "TLS13_UNSUPPORTED" in line)
    assert lines[finding_line + 1].split() == ["2001:db8::25"]
    assert "name ok" not in "\n".join(lines)  # no host name to compare against


def test_the_summary_line_counts_the_run() -> None:
    last = plain("all", WIDE).splitlines()[-1]
    assert last == (
        "9 domains, 8 addresses tested (2 could not be tested), worst result: critical, exit code 2"
    )
    assert plain("null_mx").splitlines()[-1] == (
        "1 domain, 0 addresses tested, worst result: info, exit code 0"
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_without_colour_there_is_no_escape_code(name: str) -> None:
    assert "\x1b" not in plain(name)


def test_with_colour_there_are_escape_codes_and_the_same_words() -> None:
    coloured = render_text(SAMPLES["all"], color=True, width=100)
    assert SGR.search(coloured)
    assert SGR.sub("", coloured) == plain("all")


def test_the_environment_does_not_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {color: render_text(SAMPLES["all"], color=color) for color in (False, True)}
    for variable, value in {
        "TERM": "dumb",
        "NO_COLOR": "1",
        "FORCE_COLOR": "1",
        "TTY_COMPATIBLE": "0",
        "COLUMNS": "40",
        "LINES": "5",
    }.items():
        monkeypatch.setenv(variable, value)
    for color in (False, True):
        assert render_text(SAMPLES["all"], color=color) == expected[color]


@pytest.mark.parametrize("color", [False, True])
def test_server_strings_are_shown_never_obeyed(color: bool) -> None:
    text = render_text(SAMPLES["hostile"], color=color, width=100)
    # Markup and emoji codes from the server are printed as typed...
    flat = " ".join(SGR.sub("", text).split())
    assert "[bold red]PWNED[/bold red]" in flat
    assert "[link=https://evil.example]x[/link] :skull:" in flat
    # ...and the only escape sequences are the renderer's own colour codes.
    assert "\x1b" not in SGR.sub("", text)
    for raw in ("\x07", "\x9b", "\u202e"):
        assert raw not in text
    assert "\\x1b[2J\\x1b[31mscreen" in flat  # visible, as an escape
    assert "\\u202egnp.exe" in flat
    # The 10 kB reply is cut, and says so.
    assert samples.HOSTILE_LONG[-11:] not in text
    assert "(cut, 10,132 characters)" in flat
    assert len(text) < 6_000


def test_clean_escapes_and_cuts() -> None:
    assert clean("250 mx.example.com ESMTP") == "250 mx.example.com ESMTP"
    assert clean("naïve ✓ 日本") == "naïve ✓ 日本"
    assert clean("a\x1b[31mb\r\n\t") == "a\\x1b[31mb\\x0d\\x0a\\x09"
    assert clean("x\u200by\u2028z") == "x\\u200by\\u2028z"
    assert clean("\U000e0041") == "\\U000e0041"  # a tag character: invisible, format class
    assert clean("A" * 10, limit=10) == "A" * 10
    assert clean("A" * 11, limit=10) == "A" * 9 + "… (cut, 11 characters)"
    # Escapes count towards the limit: they are what takes up the screen.
    assert clean("\x00" * 5, limit=10) == "\\x00\\x00… (cut, 5 characters)"


# --- the fix under each finding ------------------------------------------------------------------


def with_remedies(report: CheckReport, product: str | None = "postfix") -> CheckReport:
    """The report with every finding carrying its real remedy, for a server taken as ``product``."""
    guess = ProductGuess(product, product or "unknown", None, Confidence.HIGH, ())

    def fix(findings: tuple[Finding, ...], host: str | None) -> tuple[Finding, ...]:
        facts = AddressFacts(mx_host=host)
        return tuple(
            dataclasses.replace(f, remedy=remedy_for(f.code, guess, facts)) for f in findings
        )

    domains = []
    for domain in report.domains:
        hosts = tuple(
            dataclasses.replace(
                mx_host,
                findings=fix(mx_host.findings, mx_host.host),
                addresses=tuple(
                    dataclasses.replace(a, findings=fix(a.findings, mx_host.host))
                    for a in mx_host.addresses
                ),
            )
            for mx_host in domain.mx_hosts
        )
        domains.append(
            dataclasses.replace(domain, mx_hosts=hosts, findings=fix(domain.findings, None))
        )
    return dataclasses.replace(report, domains=tuple(domains))


def test_each_finding_shows_its_fix_with_numbered_steps_and_sources() -> None:
    text = render_text(with_remedies(SAMPLES["legacy_tls10"]), color=False, width=WIDE)
    block = text.split("CRITICAL  TLS12_UNSUPPORTED", 1)[1].split("WARNING", 1)[0]
    assert "Fix: Enable TLS 1.2 on Postfix, for receiving and for sending" in flat(block)
    assert re.search(r"^\s+1\. Minimum versions: ", block, flags=re.MULTILINE)
    assert "smtpd_tls_protocols = >=TLSv1.2" in flat(block)
    assert "Sources: https://" in flat(block)


def test_a_multi_line_step_keeps_its_lines() -> None:
    report = with_remedies(SAMPLES["legacy_tls10"], "exchange-2013-or-later")
    text = render_text(report, color=False, width=WIDE)
    lines = [line.strip() for line in text.splitlines()]
    header = lines.index("Windows Registry Editor Version 5.00")
    assert lines[header + 1] == ""
    assert lines[header + 2].startswith("[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet")


def test_steps_already_shown_are_referred_to() -> None:
    base = SAMPLES["legacy_tls10"]
    tls10 = finding(FindingCode.TLS10_ENABLED, "TLS 1.0 is accepted")
    tls11 = finding(FindingCode.TLS11_ENABLED, "TLS 1.1 is accepted")
    domain = base.domains[0]
    address = dataclasses.replace(domain.mx_hosts[0].addresses[0], findings=(tls10, tls11))
    host = dataclasses.replace(domain.mx_hosts[0], addresses=(address,))
    report = with_remedies(
        dataclasses.replace(base, domains=(dataclasses.replace(domain, mx_hosts=(host,)),))
    )
    text = flat(render_text(report, color=False, width=WIDE))
    assert "steps as for TLS10_ENABLED above" in text
    assert text.count("smtpd_tls_mandatory_protocols = >=TLSv1.2") == 1


def test_advice_can_be_left_out() -> None:
    report = with_remedies(SAMPLES["legacy_tls10"])
    assert "Fix:" in render_text(report, color=False, width=WIDE)
    quiet = render_text(report, color=False, width=WIDE, advice=False)
    assert "Fix:" not in quiet
    assert quiet == render_text(SAMPLES["legacy_tls10"], color=False, width=WIDE)


def test_remedy_text_is_escaped_like_server_text() -> None:
    report = with_remedies(SAMPLES["legacy_tls10"])
    domain = report.domains[0]
    address = domain.mx_hosts[0].addresses[0]
    hostile = Remedy("Fix \x1b[31mred\x1b[0m", ("step\u202eevil", "two\nlines"), None, ())
    marked = dataclasses.replace(address.findings[0], remedy=hostile)
    address = dataclasses.replace(address, findings=(marked,))
    host = dataclasses.replace(domain.mx_hosts[0], addresses=(address,))
    report = dataclasses.replace(report, domains=(dataclasses.replace(domain, mx_hosts=(host,)),))
    text = render_text(report, color=False, width=WIDE)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "Fix \\x1b[31mred\\x1b[0m" in text
    assert "step\\u202eevil" in text


@pytest.mark.parametrize("width", [60, NARROW, WIDE])
@pytest.mark.parametrize("product", ["postfix", "exchange-2013-or-later", None])
def test_fixes_stay_within_the_width(width: int, product: str | None) -> None:
    for name in ("legacy_tls10", "no_starttls", "hostile"):
        if name not in SAMPLES:
            continue
        text = render_text(with_remedies(SAMPLES[name], product), color=True, width=width)
        for line in text.splitlines():
            assert cell_len(SGR.sub("", line)) <= width, line

"""The HTML report of real check results, opened in headless Chromium.

The domains are checked against the fleet (real Postfix listeners and nsd on loopback), plus
one hand-built domain whose server puts HTML and script in its banner and certificate. The page
must load without a single console message (a blocked script, style or fetch would log one:
the page's Content-Security-Policy forbids all three), show one row per domain with the facts
the fleet is configured to show, and lay out within the page on screen and in print.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailtls.models import DomainReport, RunInfo, TlsVersion
from mailtls.net.nameservers import parse_nameserver
from mailtls.reports import ReportFormat, render_report
from mailtls.reports.summary import target_label
from mailtls.scanner import CheckOptions, check_targets
from mailtls.targets import parse_target
from tests.integration.browser import Browser
from tests.integration.fleet import DOMAINS, LISTENERS, Fleet, Listener
from tests.unit.reports import samples

pytestmark = pytest.mark.integration

# The printable width of an A4 page with the report's 12 mm side margins, in CSS pixels.
A4_PRINTABLE_WIDTH = round((210 - 2 * 12) / 25.4 * 96)

VERSION_WORDS = {
    TlsVersion.TLS1_0: "TLS 1.0",
    TlsVersion.TLS1_1: "TLS 1.1",
    TlsVersion.TLS1_2: "TLS 1.2",
    TlsVersion.TLS1_3: "TLS 1.3",
}

ROWS_SCRIPT = """
[...document.querySelectorAll('table.domains tbody tr')].map(tr => ({
  name: tr.cells[0].querySelector('a').textContent,
  href: tr.cells[0].querySelector('a').getAttribute('href'),
  status: (tr.cells[0].querySelector('.status') || {textContent: ''}).textContent,
  mx: tr.cells[1].innerText,
  best: tr.cells[2].innerText.trim(),
  inbound: tr.cells[3].innerText.trim(),
  outbound: tr.cells[4].innerText.trim(),
  worst: tr.cells[5].innerText.trim(),
}))
"""


@pytest.fixture(scope="module")
def checked(fleet: Fleet) -> list[DomainReport]:
    names = [listener.domain for listener in LISTENERS] + [
        DOMAINS.multi, DOMAINS.dual, DOMAINS.implicit, DOMAINS.null_mx, DOMAINS.dangling,
        DOMAINS.no_mail, DOMAINS.missing, DOMAINS.servfail,
    ]  # fmt: skip
    options = CheckOptions(
        nameservers=(parse_nameserver(fleet.nameserver),),
        ca_file=fleet.ca_file,
        ehlo_name="probe.mailtls.test",
        timeout=10.0,
        greeting_timeout=10.0,
        deadline=60.0,
    )
    report = asyncio.run(check_targets([parse_target(name) for name in names], options))
    return [*report.domains, samples.script_injection()]


@pytest.fixture(scope="module")
def page(
    checked: list[DomainReport], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Browser, Path]]:
    started = datetime.now(UTC).replace(microsecond=0)
    info = RunInfo(
        run_id=1,
        label="fleet.txt",
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        tool_version="0.1.0",
        options={},
        targets=len(checked),
        completed=len(checked),
    )
    folder = tmp_path_factory.mktemp("report")
    path = folder / "report.html"
    path.write_text(render_report(info, iter(checked), ReportFormat.HTML), encoding="utf-8")
    with Browser(width=1280, height=900) as browser:
        browser.open(path)
        yield browser, folder


def rows(browser: Browser) -> dict[str, dict[str, str]]:
    found: list[dict[str, str]] = browser.evaluate(ROWS_SCRIPT)
    return {row["name"]: row for row in found}


def test_the_page_loads_without_a_console_message(page: tuple[Browser, Path]) -> None:
    browser, _ = page
    assert browser.console() == []
    assert browser.evaluate("document.scripts.length") == 0
    handlers = browser.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).length"
    )
    assert handlers == 0


def test_every_domain_has_a_row_in_order(
    page: tuple[Browser, Path], checked: list[DomainReport]
) -> None:
    browser, _ = page
    found: list[dict[str, str]] = browser.evaluate(ROWS_SCRIPT)
    assert [row["name"] for row in found] == [target_label(d.target) for d in checked]
    for row in found:
        assert browser.evaluate(f"document.getElementById({row['href'][1:]!r}) !== null")


@pytest.mark.parametrize("listener", LISTENERS, ids=[item.posture.value for item in LISTENERS])
def test_each_posture_shows_its_best_tls_and_readiness(
    page: tuple[Browser, Path], listener: Listener
) -> None:
    row = rows(page[0])[listener.domain]
    if listener.starttls:
        best = max(listener.tls_versions, key=lambda version: version.rank)
        assert row["best"] == VERSION_WORDS[best]
    else:
        assert row["best"] == "no TLS"
    exo_ready = TlsVersion.TLS1_2 in listener.tls_versions and listener.tls12_ciphers is None
    assert row["inbound"] == ("TLS 1.2" if exo_ready else "plaintext fallback")
    assert listener.host in row["mx"]
    assert listener.ip in row["mx"]


@pytest.mark.parametrize(
    ("domain", "best", "inbound", "status"),
    [
        (DOMAINS.multi, "TLS 1.1", "plaintext fallback", ""),  # the legacy MX 20 counts
        (DOMAINS.dual, "TLS 1.3", "TLS 1.2", ""),
        (DOMAINS.implicit, "TLS 1.3", "TLS 1.2", ""),
        (DOMAINS.null_mx, "not tested", "not tested", "accepts no mail (null MX)"),
        (DOMAINS.dangling, "not tested", "not tested", "no MX host has an address"),
        (DOMAINS.no_mail, "not tested", "not tested", "no MX host has an address"),
        (DOMAINS.missing, "not tested", "not tested", "the domain does not exist"),
        (DOMAINS.servfail, "not tested", "not tested", "the DNS lookup failed"),
    ],
)
def test_each_dns_case_shows_what_happened(
    page: tuple[Browser, Path], domain: str, best: str, inbound: str, status: str
) -> None:
    row = rows(page[0])[domain]
    assert (row["best"], row["inbound"], row["status"]) == (best, inbound, status)


def test_server_markup_is_shown_as_text(page: tuple[Browser, Path]) -> None:
    browser, _ = page
    row = rows(browser)["evil.example"]
    section = browser.evaluate(f"document.getElementById({row['href'][1:]!r}).innerText")
    assert '<script>alert("cert")</script>' in section
    assert samples.ATTRIBUTE_BREAKOUT in section
    assert "<script>alert('step')</script>" in section
    assert browser.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    links = browser.evaluate("[...document.links].map(a => a.getAttribute('href'))")
    assert links
    assert all(link.startswith(("#d", "https://")) for link in links)


def test_the_page_fits_the_screen_and_a_printed_page(page: tuple[Browser, Path]) -> None:
    browser, folder = page
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert browser.evaluate(overflow) == 0
    browser.screenshot(folder / "report.png")  # kept in the test's folder for a look by eye
    assert (folder / "report.png").read_bytes().startswith(b"\x89PNG")

    browser.command("Emulation.setEmulatedMedia", {"media": "print"})
    browser.command(
        "Emulation.setDeviceMetricsOverride",
        {"width": A4_PRINTABLE_WIDTH, "height": 1100, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        widest = browser.evaluate(
            "Math.max(...[...document.querySelectorAll('table')]"
            ".map(t => t.getBoundingClientRect().right))"
        )
        assert widest <= A4_PRINTABLE_WIDTH + 0.5
        sticky = browser.evaluate(
            "getComputedStyle(document.querySelector('table.domains th')).position"
        )
        assert sticky == "static"
    finally:
        browser.command("Emulation.clearDeviceMetricsOverride")
        browser.command("Emulation.setEmulatedMedia", {"media": ""})
    browser.pdf(folder / "report.pdf")
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert browser.console() == []

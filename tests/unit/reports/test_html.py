from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from mailtls.models import DomainReport, FindingCode
from mailtls.policy.codes import finding
from mailtls.reports.html import CONTENT_SECURITY_POLICY, STYLE, render_html
from mailtls.reports.summary import summarise_domain
from tests.unit.reports import samples


class Page(HTMLParser):
    """The parts of a rendered page the tests look at, as a browser's parser sees them."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []  # the domain table's body rows, as cell texts
        self._in_domains = False
        self._cell: list[str] | None = None
        self._open: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table" and attributes.get("class") == "domains":
            self._in_domains = True
        elif self._in_domains and tag == "tr":
            self.rows.append([])
        elif self._in_domains and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_domains = False
        elif tag == "td" and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def body_rows(self) -> list[list[str]]:
        return [row for row in self.rows if row]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def render(*domains: DomainReport, **run: object) -> str:
    return render_html(samples.run_info(**run), domains)  # type: ignore[arg-type]


RUN = samples.run_domains()
PAGE_SOURCE = render(*RUN, samples.script_injection())
PAGE = Page(PAGE_SOURCE)


def test_every_domain_has_one_row_in_order_with_its_facts() -> None:
    rows = PAGE.body_rows
    assert len(rows) == len(RUN) + 1
    for row, domain in zip(rows, RUN, strict=False):
        summary = summarise_domain(domain)
        assert row[0].startswith(summary.domain)
    by_name = {row[0].split(" ")[0]: row for row in rows}
    assert by_name["example.com"][2:6] == ["TLS 1.2", "TLS 1.2", "likely TLS 1.2", "warning"]
    assert by_name["contoso.example"][2:7] == [
        "TLS 1.1",
        "plaintext fallback",
        "likely plaintext or fails",
        "critical",
        "Microsoft Exchange Server 2010 or older",
    ]
    assert by_name["example.org"][2] == "no TLS"
    assert by_name["northwind.example"][2:6] == [
        "TLS 1.3",
        "TLS 1.2",
        "likely TLS 1.2",
        "no findings",
    ]
    assert by_name["nonexistent.example"][0] == "nonexistent.example the domain does not exist"
    assert by_name["busy.example"][1] == "mx.busy.example 192.0.2.99 mx-old.busy.example no address"


def test_each_row_links_to_its_domain_section() -> None:
    ids = {attrs["id"] for tag, attrs in PAGE.tags if tag == "article"}
    anchors = [
        attrs["href"]
        for tag, attrs in PAGE.tags
        if tag == "a" and (attrs.get("href") or "").startswith("#")
    ]
    assert len(anchors) == len(RUN) + 1
    assert {anchor[1:] for anchor in anchors} == ids


def test_findings_show_their_fix_with_steps_and_linked_sources() -> None:
    section = _section(PAGE_SOURCE, "contoso.example")
    assert "Enable TLS 1.2 for Exchange Server in SCHANNEL and .NET" in section
    assert section.count("<li>") >= 4  # the remedy's four steps
    assert (
        '<a href="https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/'
        'security-best-practices/exchange-tls-configuration" rel="noopener noreferrer">'
    ) in section
    # TLS 1.3 missing calls for nothing: its message stands alone.
    tls13 = section[section.index("<code>TLS13_UNSUPPORTED</code>") :]
    tls13 = tls13[: tls13.index("</li>")]
    assert "TLS 1.3 is not offered" in tls13
    assert "Fix:" not in tls13


def test_steps_given_under_one_finding_are_referred_to_under_the_next() -> None:
    section = _section(PAGE_SOURCE, "contoso.example")
    assert section.count("TLS 1.0\\Server]") == 1
    tls11 = section[section.index("<code>TLS11_ENABLED</code>") :]
    tls11 = tls11[: tls11.index("</li>")]
    assert "Turn TLS 1.0 and 1.1 off in SChannel, once no peer needs them" in tls11
    assert "Steps as for TLS10_ENABLED above." in tls11
    assert "<ol>" not in tls11


def test_remedy_code_and_literal_blocks_keep_their_shape() -> None:
    section = _section(PAGE_SOURCE, "contoso.example")
    block = re.search(r"<pre>(.*?)</pre>", section, re.DOTALL)
    assert block is not None
    assert block.group(1).split("\n") == [
        "Windows Registry Editor Version 5.00",
        "",
        samples.SCHANNEL_TLS12_SERVER[2],
        "&quot;Enabled&quot;=dword:00000001",
        "&quot;DisabledByDefault&quot;=dword:00000000",
    ]
    assert "<li>Enable TLS 1.2 for SChannel (server side), then reboot:<pre>" in section
    net = _section(PAGE_SOURCE, "example.net")
    assert (
        "<li>In main.cf: <code>smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1</code></li>"
        in net
    )
    evil = _section(PAGE_SOURCE, "evil.example")
    assert "Run <code>&lt;script&gt;alert(&#x27;code&#x27;)&lt;/script&gt;</code> and" in evil
    assert "<pre>```\n&lt;img src=x onerror=alert(4)&gt;\n| a | b |</pre>" in evil


def test_a_finding_at_several_addresses_is_listed_once_with_every_place() -> None:
    domain = samples.tls13_everywhere()
    host = domain.mx_hosts[0]
    expired = finding(FindingCode.CERT_EXPIRED, "the certificate expired 3 days ago")
    addresses = tuple(dataclasses.replace(a, findings=(expired,)) for a in host.addresses)
    page = render(
        dataclasses.replace(domain, mx_hosts=(dataclasses.replace(host, addresses=addresses),))
    )
    assert page.count("<code>CERT_EXPIRED</code>") == 1 + 1  # top findings and the domain
    assert "at mx.northwind.example 192.0.2.10, mx.northwind.example 2001:db8::10" in page


def test_a_domain_without_findings_says_there_is_nothing_to_fix() -> None:
    assert "No findings: nothing to fix." in _section(PAGE_SOURCE, "northwind.example")


def test_untested_domains_show_their_dns_answers() -> None:
    section = _section(PAGE_SOURCE, "broken.example")
    assert "DNS MX broken.example: SERVFAIL" in section


def test_server_text_is_escaped_everywhere() -> None:
    assert "<script" not in PAGE_SOURCE.lower()
    assert "<svg onload" not in PAGE_SOURCE.lower()
    assert "<img" not in PAGE_SOURCE.lower()
    assert "<b>now</b>" not in PAGE_SOURCE
    text = PAGE.all_text
    assert samples.SCRIPT_SUBJECT in text  # shown as text, exactly
    assert "<script>alert('step')</script>" in text
    assert samples.ATTRIBUTE_BREAKOUT in text
    for tag, attrs in PAGE.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert tag not in ("script", "img", "iframe", "object", "embed", "link")


def test_only_web_links_become_links() -> None:
    hrefs = [attrs["href"] for tag, attrs in PAGE.tags if tag == "a"]
    assert hrefs
    for href in hrefs:
        assert href is not None
        assert href.startswith(("#d", "https://")), href
    assert "javascript:alert(&#x27;source&#x27;)" in PAGE_SOURCE  # shown, not linked


def test_long_server_text_is_cut() -> None:
    hostile = samples.base.hostile_domain()
    page = render(hostile)
    assert "TAIL-MARKER" not in page
    assert "characters)" in page  # the cut says how long the original was
    assert "\x1b" not in page
    assert "\u202e" not in page


def test_the_page_loads_nothing_and_runs_nothing() -> None:
    metas = [attrs for tag, attrs in PAGE.tags if tag == "meta"]
    policy = next(m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy")
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to default-src 'none'
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    style = re.search(r"<style>(.*?)</style>", PAGE_SOURCE, re.DOTALL)
    assert style is not None
    assert style.group(1) == STYLE  # the hash names exactly the style sheet in the page
    assert not any("style" in attrs for _, attrs in PAGE.tags)  # the policy forbids them
    assert not re.search(r"(src|href)=\"(https?:)?//", PAGE_SOURCE.replace('<a href="https://', ""))
    assert "@import" not in STYLE
    assert "url(" not in STYLE


def test_charts_are_proportional_to_the_counts() -> None:
    # The stacked bar of best TLS: segment widths add up to the whole bar.
    stack = re.search(
        r'<svg class="stack"[^>]*aria-label="Domains by best TLS version">(.*?)</svg>', PAGE_SOURCE
    )
    assert stack is not None
    widths = [
        float(w)
        for w in re.findall(
            r'<rect class="c-[a-z0-9]+" x="[0-9.]+" y="0" width="([0-9.]+)"', stack.group(1)
        )
    ]
    assert sum(widths) == pytest.approx(1000, abs=0.05)
    total = len(RUN) + 1
    # northwind.example alone offers TLS 1.3 everywhere: one domain in thirteen.
    assert widths[0] == pytest.approx(1000 / total, abs=0.01)
    donut = re.findall(r'stroke-dasharray="([0-9.]+) ([0-9.]+)"', PAGE_SOURCE)
    assert sum(float(share) for share, _ in donut) == pytest.approx(100, abs=0.01)
    assert "TLS12_UNSUPPORTED" in PAGE_SOURCE.split('id="domains"')[0]  # in the top findings


def test_an_unfinished_run_says_so() -> None:
    page = render(samples.modern(), finished=False, targets=10, completed=1)
    assert "This run has not finished" in page
    assert "1 of 10 domains have a result" in page
    complete = render(samples.modern(), targets=1, completed=1)
    assert 'class="notice"' not in complete


def test_an_empty_run_renders() -> None:
    page = render()
    assert "No domain in this run has a result yet." in page
    assert "0 domains" in page


def test_a_naive_run_time_is_refused() -> None:
    info = dataclasses.replace(
        samples.run_info(), started_at=samples.RUN_STARTED.replace(tzinfo=None)
    )
    with pytest.raises(ValueError, match="naive"):
        render_html(info, [samples.modern()])


def test_domains_are_read_once_from_an_iterator() -> None:
    def once() -> Iterator[DomainReport]:
        yield from RUN

    assert render_html(samples.run_info(), once()) == render(*RUN)


def test_a_large_run_renders_in_one_pass() -> None:
    domains = samples.many_domains(2000)
    page = Page(render_html(samples.run_info(targets=2000, completed=2000), iter(domains)))
    assert len(page.body_rows) == 2000
    assert page.body_rows[1999][0] == "d01999.example the domain does not exist"  # 1999 % 5 == 4


def _section(page: str, name: str) -> str:
    start = page.index(f'{name} <span class="badge')
    return page[start : page.index("</article>", start)]

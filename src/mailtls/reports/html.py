"""A run as one self-contained HTML file that a service provider can hand to a customer.

Summary charts (best TLS per domain, Exchange Online readiness, top findings) drawn as inline
SVG, a table of every domain, and per domain its addresses and its findings with their fixes.

Self-contained means no network at view time: the style sheet is inline, the charts are SVG
drawn here, there is no script and no external font or image. A Content-Security-Policy in the
page enforces that: nothing may load, no script may run, and only this page's own style sheet
(named by its hash) applies — so even a mistake in escaping could not run a server's script.

Everything a server or a DNS answer supplied is untrusted: it goes through ``render.text.clean``
(control and bidi characters as escapes, bounded length) and is HTML-escaped; links are made
only from the knowledge base's http(s) sources.

The page holds every domain; it is meant for up to some tens of thousands of domains (a few
kilobytes each). Domains are walked once, in the order given.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable, Sequence
from html import escape

from mailtls.models import (
    ALL_TLS_VERSIONS,
    AddressReport,
    AddressStatus,
    DnsStatus,
    DomainReport,
    ExoInbound,
    ExoOutbound,
    MxHostReport,
    RunInfo,
    Severity,
    TlsVersion,
    VersionSupport,
)
from mailtls.policy.codes import CODES
from mailtls.render.text import SHORT_VERSION_NAMES, clean
from mailtls.reports.summary import (
    BestTls,
    DomainStatus,
    DomainSummary,
    RunSummary,
    RunTally,
    summarise_domain,
)
from mailtls.reports.wording import (
    BEST_TLS_WORDS,
    INBOUND_LONG_WORDS,
    INBOUND_WORDS,
    OUTBOUND_WORDS,
    STATUS_WORDS,
    SUPPORT_MARKS,
    GroupedFinding,
    address_label,
    certificate_name,
    code_spans,
    completeness,
    count_words,
    dns_words,
    expiry_words,
    grouped_findings,
    is_web_link,
    percent,
    software_words,
    step_parts,
    trust_words,
    utc_time,
)

MAX_TEXT = 160  # one reply line, a certificate subject, a finding message
MAX_NAME = 80  # host names and the like in table cells
MAX_ADDRESSES_LISTED = 4  # per MX host in the domain table; the details list all
MAX_SCOPES_LISTED = 8
MAX_REMEDY_LINE = 1000  # a remedy's line: a registry path with its value, a config line
TOP_FINDINGS = 10
_NOTHING = '<span class="muted">—</span>'

_BEST_TLS_CLASS = {
    BestTls.TLS1_3: "c-tls13",
    BestTls.TLS1_2: "c-tls12",
    BestTls.TLS1_1: "c-tls11",
    BestTls.TLS1_0: "c-tls10",
    BestTls.NO_TLS: "c-none",
    BestTls.NOT_TESTED: "c-untested",
}
_INBOUND_CLASS = {
    ExoInbound.TLS12: "c-good",
    ExoInbound.PLAINTEXT_FALLBACK: "c-bad",
    ExoInbound.NOT_TESTED: "c-untested",
}
_OUTBOUND_CLASS = {
    ExoOutbound.LIKELY_TLS12: "c-good",
    ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL: "c-bad",
    ExoOutbound.UNKNOWN: "c-untested",
}

STYLE = """
:root { --text: #1d2433; --muted: #5b6475; --line: #d9dee7; --band: #f4f6f9;
  --crit: #b42318; --warn: #a15c07; --info: #1d5fa8; --ok: #1f7a4d; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1180px; padding: 32px 28px 48px; color: var(--text);
  background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; font-variant-numeric: tabular-nums; }
h1 { font-size: 28px; line-height: 1.2; margin: 4px 0 8px; font-weight: 650; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 2px solid
  var(--text); font-weight: 650; }
h3 { font-size: 17px; margin: 0 0 6px; font-weight: 650; overflow-wrap: anywhere; }
h4 { font-size: 14px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
a { color: var(--info); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono",
  monospace; font-size: .92em; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase;
  letter-spacing: .06em; }
.meta { margin: 0; color: var(--muted); }
.notice { margin: 14px 0 0; padding: 10px 14px; border-left: 4px solid var(--warn);
  background: #fff7e8; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px;
  margin: 24px 0 8px; }
.figure { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.figure .number { display: block; font-size: 26px; font-weight: 650; line-height: 1.2; }
.figure .label { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 20px;
  margin-top: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
figcaption { font-weight: 650; margin-bottom: 10px; }
figure p.note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
svg { display: block; font-family: inherit; }
svg.stack { width: 100%; height: 34px; }
svg.donut { width: 132px; height: 132px; flex: none; }
.donut circle { fill: none; stroke-width: 6; }
.donut .ring { stroke: #edf0f4; }
.donut text { fill: var(--text); text-anchor: middle; }
.donut .big { font-size: 8px; font-weight: 650; }
.donut .small { font-size: 3.6px; fill: var(--muted); }
.readiness { display: flex; gap: 18px; align-items: center; flex-wrap: wrap; }
.readiness > div { flex: 1 1 220px; min-width: 0; }
figure.top-findings { margin-top: 20px; }
.subhead { margin: 14px 0 6px; }
svg.bar { width: 100%; height: 12px; }
svg.bar .track { fill: #edf0f4; }
ul.legend { list-style: none; padding: 0; margin: 10px 0 0; font-size: 14px; }
ul.legend li { display: flex; align-items: baseline; gap: 8px; padding: 2px 0; }
ul.legend .value { margin-left: auto; white-space: nowrap; color: var(--muted); }
ul.legend .value b { color: var(--text); }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; flex: none;
  align-self: center; }
.c-tls13 { fill: #17663f; stroke: #17663f; background: #17663f; }
.c-tls12 { fill: #47a06e; stroke: #47a06e; background: #47a06e; }
.c-tls11 { fill: #e0a43a; stroke: #e0a43a; background: #e0a43a; }
.c-tls10 { fill: #d9682b; stroke: #d9682b; background: #d9682b; }
.c-none { fill: #b42318; stroke: #b42318; background: #b42318; }
.c-untested { fill: #a9b1be; stroke: #a9b1be; background: #a9b1be; }
.c-good { fill: #1f7a4d; stroke: #1f7a4d; background: #1f7a4d; }
.c-bad { fill: #b42318; stroke: #b42318; background: #b42318; }
.s-critical { fill: var(--crit); background: var(--crit); }
.s-warning { fill: #d08a1e; background: #d08a1e; }
.s-info { fill: var(--info); background: var(--info); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
.scroll { overflow-x: auto; }
th, td { text-align: left; vertical-align: top; padding: 7px 8px; border-bottom: 1px solid
  var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  font-weight: 600; background: #fff; }
table.domains thead th { position: sticky; top: 0; box-shadow: 0 1px 0 var(--line); }
table.domains tbody tr:nth-child(even) { background: var(--band); }
td.name { font-weight: 600; overflow-wrap: break-word; }
td.name .status { display: block; font-weight: 400; font-size: 13px; color: var(--muted); }
td.mx { font-size: 13px; overflow-wrap: anywhere; }
td.mx .ips { color: var(--muted); }
td.num, th.num { text-align: right; white-space: nowrap; }
td.mark, th.mark { text-align: center; white-space: nowrap; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
.nowrap { white-space: nowrap; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 600; letter-spacing: .02em; color: #fff; white-space: nowrap; }
.badge.sev-critical { background: var(--crit); }
.badge.sev-warning { background: #d08a1e; }
.badge.sev-info { background: var(--info); }
.badge.sev-none { background: var(--ok); }
.yes { color: var(--ok); font-weight: 600; }
.no { color: var(--crit); font-weight: 600; }
.domain { border-top: 1px solid var(--line); padding: 22px 0 8px; }
.domain .verdict { margin: 4px 0 10px; }
table.addresses { font-size: 13px; }
table.addresses td { overflow-wrap: anywhere; }
table.addresses tr.host td { background: var(--band); font-weight: 600; }
table.addresses td.ip { padding-left: 22px; white-space: nowrap; }
.small { font-size: 12px; color: var(--muted); display: block; }
ul.dns { margin: 4px 0 10px; padding-left: 20px; font-size: 14px; overflow-wrap: anywhere; }
ol.findings { list-style: none; margin: 0; padding: 0; }
li.finding { border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px;
  padding: 8px 12px; margin: 6px 0; }
li.finding.sev-critical { border-left-color: var(--crit); }
li.finding.sev-warning { border-left-color: #d08a1e; }
li.finding.sev-info { border-left-color: var(--info); }
.finding-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
.finding-head .title { color: var(--muted); }
.finding p { margin: 4px 0 0; overflow-wrap: anywhere; }
.finding .where { color: var(--muted); font-size: 13px; }
.fix { margin-top: 8px; padding: 8px 12px; background: #f1f7f3; border-radius: 6px; }
.fix ol { margin: 6px 0 0; padding-left: 22px; }
.fix li { overflow-wrap: anywhere; }
.fix .sources { font-size: 13px; }
.fix code { background: #e3eee7; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
.fix pre { margin: 6px 0 4px; padding: 8px 10px; background: #fff; border: 1px solid var(--line);
  border-radius: 4px; font-size: 12px; overflow-x: auto; }
.fix .sources a { overflow-wrap: anywhere; }
p.clean { color: var(--ok); margin: 6px 0; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 12px;
  color: var(--muted); font-size: 13px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0; }
footer dt { font-weight: 600; color: var(--text); }
footer dd { margin: 0; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  h3, h4 { break-after: avoid; }
  table.domains thead th { position: static; box-shadow: none; }
  thead { display: table-header-group; }
  tr, li.finding, figure, .figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .fix .sources a::after { content: " <" attr(href) ">"; }
  .fix pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 7.5pt; }
  .charts { grid-template-columns: 1fr 1fr; }
  .scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  table.addresses { font-size: 8pt; }
  th { font-size: 7pt; letter-spacing: 0; padding: 4px 5px; }
  td { padding: 4px 5px; }
  .nowrap, table.addresses td.ip, th.mark { white-space: normal; }
  td.mx { overflow-wrap: break-word; }
  .figures { grid-template-columns: repeat(5, 1fr); gap: 8px; }
  .figure { padding: 8px 10px; }
  .figure .number { font-size: 16pt; }
  table.domains, table.addresses { table-layout: fixed; }
  td { overflow-wrap: anywhere; }
  .badge { font-size: 7pt; padding: 0 5px; }
  col.w-domain { width: 19%; } col.w-mx { width: 22%; } col.w-best { width: 9%; }
  col.w-in { width: 11%; } col.w-out { width: 11%; } col.w-worst { width: 11%; }
  col.w-software { width: 17%; }
  col.w-address { width: 16%; } col.w-status { width: 11%; } col.w-starttls { width: 8%; }
  col.w-version { width: 4%; } col.w-exo { width: 6%; } col.w-negotiated { width: 15%; }
  col.w-certificate { width: 16%; } col.w-product { width: 12%; }
}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def render_html(info: RunInfo, domains: Iterable[DomainReport]) -> str:
    """The run as one HTML document, ``domains`` walked once in the order given."""
    tally = RunTally()
    rows: list[str] = []
    sections: list[str] = []
    for index, report in enumerate(domains):
        summary = summarise_domain(report)
        tally.add(summary)
        anchor = f"d{index}"
        rows.append(_domain_row(report, summary, anchor))
        sections.append(_domain_section(report, summary, anchor))
    run = tally.result(info)
    title = f"Mail TLS report: {clean(info.label, MAX_NAME)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="mailtls">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _header(run),
        _key_figures(run),
        _charts(run),
        '<section id="domains">',
        "<h2>Domains</h2>",
        _domain_table(rows),
        "</section>",
        '<section id="details">',
        "<h2>Findings and fixes per domain</h2>",
        *sections,
        "</section>",
        _footer(info),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _t(text: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text as HTML: inert characters, bounded length, escaped for content and
    attribute values alike."""
    return escape(clean(text, limit), quote=True)


# --- the top of the page -----------------------------------------------------------------------


def _header(run: RunSummary) -> str:
    info = run.run
    when = f"started {utc_time(info.started_at)}"
    if info.finished_at is not None:
        when += f", finished {utc_time(info.finished_at)}"
    meta = (
        f"List <b>{_t(info.label, MAX_NAME)}</b> · "
        f"{count_words(run.domains, 'domain', 'domains')} · {when} · "
        f"mailtls {_t(info.tool_version, 40)}"
    )
    notice = completeness(info)
    return "\n".join(
        [
            "<header>",
            f'<p class="eyebrow">mailtls report · run {info.run_id}</p>',
            "<h1>Mail server TLS and Exchange Online readiness</h1>",
            f'<p class="meta">{meta}</p>',
            f'<p class="notice">{escape(notice)}</p>' if notice else "",
            "</header>",
        ]
    )


def _key_figures(run: RunSummary) -> str:
    total = run.domains
    ready = run.by_exo_inbound[ExoInbound.TLS12]
    fallback = run.by_exo_inbound[ExoInbound.PLAINTEXT_FALLBACK]
    untested = run.by_exo_inbound[ExoInbound.NOT_TESTED]
    critical = run.by_worst_severity[Severity.CRITICAL]
    figures = [
        (str(total), "domains in this report"),
        (f"{ready} · {percent(ready, total)}", "Exchange Online can deliver over TLS 1.2"),
        (f"{fallback} · {percent(fallback, total)}", "fall back to plaintext with Exchange Online"),
        (f"{untested} · {percent(untested, total)}", "not tested (no answer, no mail server)"),
        (f"{critical} · {percent(critical, total)}", "with at least one critical finding"),
    ]
    cards = "".join(
        f'<div class="figure"><span class="number">{escape(number)}</span>'
        f'<span class="label">{escape(label)}</span></div>'
        for number, label in figures
    )
    return f'<section class="figures" aria-label="Key figures">{cards}</section>'


def _charts(run: RunSummary) -> str:
    return "\n".join(
        [
            '<section id="summary">',
            "<h2>Summary</h2>",
            '<div class="charts">',
            _tls_chart(run),
            _readiness_chart(run),
            "</div>",
            _top_findings(run),
            "</section>",
        ]
    )


def _tls_chart(run: RunSummary) -> str:
    total = run.domains
    entries = [
        (BEST_TLS_WORDS[best], count, _BEST_TLS_CLASS[best])
        for best, count in run.by_best_tls.items()
    ]
    return "\n".join(
        [
            "<figure>",
            "<figcaption>Best TLS version every tested address offers</figcaption>",
            _stacked_bar(entries, total, "Domains by best TLS version"),
            _legend(entries, total),
            '<p class="note">A domain counts with the weakest of its addresses: senders may '
            "reach any of them.</p>",
            "</figure>",
        ]
    )


def _readiness_chart(run: RunSummary) -> str:
    total = run.domains
    inbound = [
        (INBOUND_LONG_WORDS[state], count, _INBOUND_CLASS[state])
        for state, count in run.by_exo_inbound.items()
    ]
    outbound = [
        (OUTBOUND_WORDS[state], count, _OUTBOUND_CLASS[state])
        for state, count in run.by_exo_outbound.items()
    ]
    ready = run.by_exo_inbound[ExoInbound.TLS12]
    return "\n".join(
        [
            "<figure>",
            "<figcaption>Exchange Online readiness</figcaption>",
            '<div class="readiness">',
            _donut(inbound, total, percent(ready, total), "TLS 1.2"),
            "<div>",
            '<div class="muted">Mail from Exchange Online to the domain</div>',
            _legend(inbound, total),
            "</div>",
            "</div>",
            '<div class="muted subhead">Mail from the domain to Exchange Online (inferred from '
            "its servers' TLS)</div>",
            _stacked_bar(outbound, total, "Domains by outbound readiness"),
            _legend(outbound, total),
            "</figure>",
        ]
    )


def _stacked_bar(entries: Sequence[tuple[str, int, str]], total: int, label: str) -> str:
    width = 1000.0
    shapes = ['<rect class="track" x="0" y="0" width="1000" height="34" fill="#edf0f4"/>']
    position = 0.0
    for words, count, css_class in entries:
        if not count or not total:
            continue
        size = width * count / total
        shapes.append(
            f'<rect class="{css_class}" x="{position:.2f}" y="0" width="{size:.2f}" height="34">'
            f"<title>{escape(words)}: {count} ({percent(count, total)})</title></rect>"
        )
        position += size
    return (
        f'<svg class="stack" viewBox="0 0 1000 34" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}">{"".join(shapes)}</svg>'
    )


def _donut(entries: Sequence[tuple[str, int, str]], total: int, big: str, small: str) -> str:
    # A circle of circumference 100: each segment's dash length is its percentage.
    radius = 100 / (2 * math.pi)
    shapes = [f'<circle class="ring" cx="21" cy="21" r="{radius:.4f}"/>']
    start = 0.0
    for words, count, css_class in entries:
        if not count or not total:
            continue
        share = 100 * count / total
        shapes.append(
            f'<circle class="{css_class}" cx="21" cy="21" r="{radius:.4f}" '
            f'stroke-dasharray="{share:.3f} {100 - share:.3f}" '
            f'stroke-dashoffset="{25 - start:.3f}">'
            f"<title>{escape(words)}: {count} ({percent(count, total)})</title></circle>"
        )
        start += share
    shapes.append(f'<text class="big" x="21" y="22.5">{escape(big)}</text>')
    shapes.append(f'<text class="small" x="21" y="27.5">{escape(small)}</text>')
    return (
        '<svg class="donut" viewBox="0 0 42 42" role="img" '
        f'aria-label="Exchange Online readiness: {escape(big)} {escape(small)}">'
        f"{''.join(shapes)}</svg>"
    )


def _legend(entries: Sequence[tuple[str, int, str]], total: int) -> str:
    items = "".join(
        f'<li><span class="swatch {css_class}"></span><span>{escape(words)}</span>'
        f'<span class="value"><b>{count}</b> · {percent(count, total)}</span></li>'
        for words, count, css_class in entries
    )
    return f'<ul class="legend">{items}</ul>'


def _bar(value: int, largest: int, css_class: str) -> str:
    width = 100 * value / largest if largest else 0
    return (
        '<svg class="bar" viewBox="0 0 100 12" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="track" x="0" y="0" width="100" height="12" rx="2"/>'
        f'<rect class="{css_class}" x="0" y="0" width="{width:.2f}" height="12" rx="2"/></svg>'
    )


def _top_findings(run: RunSummary) -> str:
    top = run.top_findings(TOP_FINDINGS)
    if not top:
        return "<figure><figcaption>Top findings</figcaption><p>No findings.</p></figure>"
    largest = max(tally.domains for tally in top)
    rows = "".join(
        "<tr>"
        f'<td><code>{escape(tally.code.value)}</code><span class="small">'
        f"{escape(tally.title)}</span></td>"
        f'<td><span class="badge sev-{tally.severity.value}">{tally.severity.value}</span></td>'
        f"<td>{_bar(tally.domains, largest, 's-' + tally.severity.value)}</td>"
        f'<td class="num"><b>{tally.domains}</b> · {percent(tally.domains, run.domains)}</td>'
        "</tr>"
        for tally in top
    )
    more = len(run.findings) - len(top)
    note = (
        f'<p class="note">{count_words(more, "other finding", "other findings")} '
        "affect fewer domains.</p>"
        if more > 0
        else ""
    )
    return (
        '<figure class="top-findings"><figcaption>Top findings (domains affected)</figcaption>'
        '<table><thead><tr><th>Finding</th><th>Severity</th><th class="bar-col">Share</th>'
        f'<th class="num">Domains</th></tr></thead><tbody>{rows}</tbody></table>{note}</figure>'
    )


# --- the domain table --------------------------------------------------------------------------


def _domain_table(rows: list[str]) -> str:
    if not rows:
        return "<p>No domain in this run has a result yet.</p>"
    columns = "".join(
        f'<col class="w-{name}">'
        for name in ("domain", "mx", "best", "in", "out", "worst", "software")
    )
    head = (
        f"<colgroup>{columns}</colgroup>"
        "<thead><tr><th>Domain</th><th>MX hosts and addresses</th><th>Best TLS</th>"
        "<th>Exchange Online in</th><th>Exchange Online out</th><th>Worst</th>"
        "<th>Software</th></tr></thead>"
    )
    return (
        f'<div class="scroll"><table class="domains">{head}<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def _domain_row(report: DomainReport, summary: DomainSummary, anchor: str) -> str:
    status = (
        ""
        if summary.status is DomainStatus.TESTED
        else f'<span class="status">{escape(STATUS_WORDS[summary.status])}</span>'
    )
    software = ", ".join(_t(str(product), MAX_NAME) for product in summary.products)
    return (
        f'<tr><td class="name"><a href="#{anchor}">{_t(summary.domain, MAX_NAME)}</a>{status}</td>'
        f'<td class="mx">{_mx_cell(report.mx_hosts)}</td>'
        f'<td class="nowrap">{_best_tls(summary.best_tls)}</td>'
        f'<td class="nowrap">{_inbound(summary.exo_inbound)}</td>'
        f'<td class="nowrap">{_outbound(summary.exo_outbound)}</td>'
        f"<td>{_severity_badge(summary.worst_severity)}</td>"
        f"<td>{software or _NOTHING}</td></tr>"
    )


def _mx_cell(hosts: tuple[MxHostReport, ...]) -> str:
    if not hosts:
        return '<span class="muted">—</span>'
    lines = []
    for host in hosts:
        ips = [_t(address_label(a), MAX_NAME) for a in host.addresses[:MAX_ADDRESSES_LISTED]]
        more = len(host.addresses) - MAX_ADDRESSES_LISTED
        if more > 0:
            ips.append(f"+{more} more")
        listed = ", ".join(ips) if ips else "no address"
        lines.append(f'{_t(host.host, MAX_NAME)} <span class="ips">{listed}</span>')
    return "<br>".join(lines)


def _best_tls(best: BestTls) -> str:
    return f'<span class="dot {_BEST_TLS_CLASS[best]}"></span>{escape(BEST_TLS_WORDS[best])}'


def _inbound(state: ExoInbound) -> str:
    return f'<span class="dot {_INBOUND_CLASS[state]}"></span>{escape(INBOUND_WORDS[state])}'


def _outbound(state: ExoOutbound) -> str:
    return f'<span class="dot {_OUTBOUND_CLASS[state]}"></span>{escape(OUTBOUND_WORDS[state])}'


def _severity_badge(severity: Severity | None) -> str:
    if severity is None:
        return '<span class="badge sev-none">no findings</span>'
    return f'<span class="badge sev-{severity.value}">{severity.value}</span>'


# --- one domain in detail ----------------------------------------------------------------------


def _domain_section(report: DomainReport, summary: DomainSummary, anchor: str) -> str:
    parts = [
        f'<article class="domain" id="{anchor}">',
        f"<h3>{_t(summary.domain, MAX_NAME)} {_severity_badge(summary.worst_severity)}</h3>",
        f'<p class="verdict"><b>Exchange Online:</b> {_t(report.verdict.summary, 2 * MAX_TEXT)}'
        "</p>",
    ]
    addresses = [a for host in report.mx_hosts for a in host.addresses]
    if not addresses or any(outcome.status is not DnsStatus.OK for outcome in report.dns):
        parts.append(_dns_list(report))
    if report.mx_hosts:
        parts.append(_address_table(report.mx_hosts))
    findings = grouped_findings(report)
    if findings:
        parts.append("<h4>Findings</h4>")
        parts.append('<ol class="findings">')
        given: dict[tuple[str, ...], str] = {}  # steps already given -> the code they were under
        parts.extend(_finding_item(item, given) for item in findings)
        parts.append("</ol>")
    else:
        parts.append('<p class="clean">No findings: nothing to fix.</p>')
    parts.append("</article>")
    return "\n".join(parts)


def _dns_list(report: DomainReport) -> str:
    if not report.dns:
        return '<ul class="dns"><li>No DNS lookup was made.</li></ul>'
    items = "".join(
        f"<li>DNS {_t(outcome.rdtype, 12)} {_t(outcome.name, MAX_NAME)}: "
        f"{_t(dns_words(outcome), 2 * MAX_TEXT)}</li>"
        for outcome in report.dns
    )
    return f'<ul class="dns">{items}</ul>'


def _address_table(hosts: tuple[MxHostReport, ...]) -> str:
    versions = "".join(
        f'<th class="mark">{SHORT_VERSION_NAMES[version]}</th>' for version in ALL_TLS_VERSIONS
    )
    columns = "".join(
        f'<col class="w-{name}">'
        for name in (
            "address", "status", "starttls", *["version"] * len(ALL_TLS_VERSIONS), "exo",
            "negotiated", "certificate", "product",
        )
    )  # fmt: skip
    head = (
        f"<colgroup>{columns}</colgroup>"
        "<thead><tr><th>MX host / address</th><th>Status</th>"
        f'<th class="mark">STARTTLS</th>{versions}<th class="mark">EXO suites</th>'
        "<th>Negotiated</th><th>Certificate</th><th>Software</th></tr></thead>"
    )
    rows: list[str] = []
    for host in hosts:
        preference = f"{host.preference} " if host.preference is not None else ""
        implicit = ' <span class="muted">(implicit MX)</span>' if host.implicit else ""
        label = f"{preference}{_t(host.host, MAX_NAME)}{implicit}"
        if host.addresses:
            rows.append(f'<tr class="host"><td colspan="11">{label}</td></tr>')
        else:
            lookups = "; ".join(f"{_t(o.rdtype, 12)} {escape(o.status.value)}" for o in host.dns)
            rows.append(
                f'<tr class="host"><td colspan="11">{label} '
                f'<span class="no">no address</span> <span class="muted">{lookups}</span></td>'
                "</tr>"
            )
        rows.extend(_address_row(address) for address in host.addresses)
    return (
        f'<div class="scroll"><table class="addresses">{head}<tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def _address_row(address: AddressReport) -> str:
    status = escape(address.status.value.replace("_", " "))
    if address.status is not AddressStatus.OK and address.status_detail:
        status += f'<span class="small">{_t(address.status_detail)}</span>'
    marks = "".join(
        _support_cell(
            address.tls_versions.get(version, VersionSupport.NOT_TESTED),
            needed=version is TlsVersion.TLS1_2,
        )
        for version in ALL_TLS_VERSIONS
    )
    software = software_words(address.product)
    return (
        f'<tr><td class="ip mono">{_t(address_label(address), MAX_NAME)}</td>'
        f"<td>{status}</td>"
        f'<td class="mark">{_starttls(address.starttls)}</td>{marks}'
        f"{_support_cell(address.exo_ciphers, needed=True)}"
        f"<td>{_negotiated(address)}</td>"
        f"<td>{_certificate(address)}</td>"
        f"<td>{_t(software, MAX_NAME) if software else _NOTHING}</td></tr>"
    )


def _starttls(starttls: bool | None) -> str:
    if starttls is None:
        return '<span class="muted">?</span>'
    return '<span class="yes">yes</span>' if starttls else '<span class="no">no</span>'


def _support_cell(support: VersionSupport, *, needed: bool) -> str:
    mark = SUPPORT_MARKS[support]
    if support is VersionSupport.SUPPORTED:
        css = "yes"
    elif support is VersionSupport.UNSUPPORTED and needed:
        css = "no"
    else:
        css = "muted"
    words = support.value.replace("_", " ")
    return f'<td class="mark"><span class="{css}" title="{words}">{mark}</span></td>'


def _negotiated(address: AddressReport) -> str:
    handshake = address.negotiated
    if handshake is None:
        return '<span class="muted">—</span>'
    version = escape(handshake.version.value)
    if handshake.version.rank < TlsVersion.TLS1_2.rank:
        version = f'<span class="no">{version}</span>'
    return f'{version}<span class="small mono">{_t(handshake.cipher, MAX_NAME)}</span>'


def _certificate(address: AddressReport) -> str:
    certificate = address.certificate
    if certificate is None:
        return '<span class="muted">—</span>'
    expiry = expiry_words(certificate.days_left)
    if certificate.days_left <= 14:
        expiry = f'<span class="no">{escape(expiry)}</span>'
    trust = trust_words(certificate)
    trust_class = "muted" if certificate.trusted and certificate.name_matches is not False else "no"
    return (
        f"{_t(certificate_name(certificate), MAX_NAME)}"
        f'<span class="small">{expiry}, <span class="{trust_class}">{escape(trust)}</span>'
        "</span>"
    )


def _finding_item(item: GroupedFinding, given: dict[tuple[str, ...], str]) -> str:
    """One finding with its fix; steps already given under another finding are referred to."""
    finding = item.finding
    severity = finding.severity.value
    parts = [
        f'<li class="finding sev-{severity}">',
        '<div class="finding-head">',
        f'<span class="badge sev-{severity}">{severity}</span>',
        f"<code>{escape(finding.code.value)}</code>",
        f'<span class="title">{escape(CODES[finding.code].title)}</span>',
        "</div>",
        f"<p>{_t(finding.message, 2 * MAX_TEXT)}</p>",
    ]
    if item.scopes:
        shown = ", ".join(_t(scope, MAX_NAME) for scope in item.scopes[:MAX_SCOPES_LISTED])
        more = len(item.scopes) - MAX_SCOPES_LISTED
        if more > 0:
            shown += f" and {more} more"
        parts.append(f'<p class="where">at {shown}</p>')
    remedy = finding.remedy
    if remedy is not None:
        parts.append('<div class="fix">')
        parts.append(f"<b>Fix:</b> {_prose(remedy.summary)}")
        same_as = given.get(remedy.steps)
        if same_as is not None:
            parts.append(f'<p class="muted">Steps as for {escape(same_as)} above.</p>')
        else:
            if remedy.steps:
                given[remedy.steps] = finding.code.value
                parts.append(f"<ol>{''.join(_step(step) for step in remedy.steps)}</ol>")
            if remedy.sources:
                parts.append(f'<p class="sources">Sources: {_sources(remedy.sources)}</p>')
        parts.append("</div>")
    parts.append("</li>")
    return "".join(parts)


def _prose(text: str) -> str:
    """Remedy text: escaped, with its backtick-quoted spans as code."""
    return "".join(
        f"<code>{escape(piece)}</code>" if is_code else escape(piece)
        for piece, is_code in code_spans(clean(text, MAX_REMEDY_LINE))
    )


def _step(step: str) -> str:
    parts = step_parts(step)
    block = ""
    if parts.block:
        lines = "\n".join(_t(line, MAX_REMEDY_LINE) for line in parts.block)
        block = f"<pre>{lines}</pre>"
    return f"<li>{_prose(parts.prose)}{block}</li>"


def _sources(sources: tuple[str, ...]) -> str:
    links = []
    for source in sources:
        text = _t(source, 2 * MAX_TEXT)
        if is_web_link(source):
            href = escape(source, quote=True)
            links.append(f'<a href="{href}" rel="noopener noreferrer">{text}</a>')
        else:
            links.append(text)
    return ", ".join(links)


def _footer(info: RunInfo) -> str:
    definitions = [
        (
            "Best TLS",
            "The highest TLS version that every tested address of the domain accepts. An "
            "address without STARTTLS counts as “no TLS”.",
        ),
        (
            "Exchange Online in",
            "Whether Exchange Online, which refuses TLS 1.0 and 1.1, can deliver mail to the "
            "domain over TLS 1.2 with its own cipher suites. Otherwise its mail travels in "
            "plaintext, or fails where a connector requires TLS.",
        ),
        (
            "Exchange Online out",
            "Whether the domain's servers can likely send to Exchange Online over TLS 1.2, "
            "inferred from the TLS they offer as receivers.",
        ),
        (
            "Not tested",
            "The server could not be examined (no answer, busy, refused) or the domain has no "
            "mail server; this says nothing about its TLS.",
        ),
    ]
    rows = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in definitions)
    return (
        f"<footer><b>How to read this report</b><dl>{rows}</dl>"
        f"<p>Generated by mailtls {_t(info.tool_version, 40)} from run {info.run_id}.</p>"
        "</footer>"
    )

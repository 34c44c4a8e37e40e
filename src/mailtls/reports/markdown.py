"""A run, or the diff of two runs, as Markdown (GitHub-flavoured tables) for tickets and wikis.

Server and DNS texts go through ``render.text.clean`` and then have every character Markdown or
HTML would act on backslash-escaped, so a banner cannot open a link, a table cell or a tag. A URL
that a server wrote stays visible text; GitHub-flavoured viewers may still turn bare
``https://...`` text into a link, always showing the address itself. Links are made only from
the knowledge base's http(s) sources.

The run report holds every domain's section in memory until its summary (which needs all
domains) is written above them; domains are walked once, in the order given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mailtls.models import DomainReport, RunInfo
from mailtls.policy.codes import CODES
from mailtls.render.text import clean
from mailtls.reports.diff import DomainChange, LocatedFinding, Movement, RunDiff
from mailtls.reports.summary import (
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
    GroupedFinding,
    address_label,
    code_spans,
    completeness,
    count_words,
    grouped_findings,
    is_web_link,
    percent,
    run_title,
    step_parts,
    totals_compared,
    utc_time,
)

MAX_TEXT = 160
MAX_NAME = 80
MAX_SCOPES_LISTED = 8
MAX_REMEDY_LINE = 1000
TOP_FINDINGS = 10

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can start
# markup mid-line: emphasis, code, link and image brackets (with "[" escaped, "(" and "!" are
# inert), HTML and autolinks, entities, table cells, strike-through, a heading's closing "#".
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~&])")


def md(text: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text as inert Markdown, on one line, cut to a bounded length."""
    return _MARKUP.sub(r"\\\1", clean(text, limit))


def _prose(text: str) -> str:
    """Remedy text: escaped, its backtick-quoted spans kept as code spans (inert inside)."""
    return "".join(
        f"`{piece}`" if is_code else _MARKUP.sub(r"\\\1", piece)
        for piece, is_code in code_spans(clean(text, MAX_REMEDY_LINE))
    )


def _fenced(lines: tuple[str, ...], indent: str) -> list[str]:
    """A literal block; the fence is longer than any backtick run inside, so none closes it."""
    cleaned = [clean(line, MAX_REMEDY_LINE) for line in lines]
    longest = max((len(run) for line in cleaned for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{indent}{fence}", *(f"{indent}{line}" for line in cleaned), f"{indent}{fence}"]


def render_markdown(info: RunInfo, domains: Iterable[DomainReport]) -> str:
    tally = RunTally()
    rows: list[str] = []
    sections: list[str] = []
    for report in domains:
        summary = summarise_domain(report)
        tally.add(summary)
        rows.append(_domain_row(report, summary))
        sections.append(_domain_section(report, summary))
    run = tally.result(info)
    lines = [
        "# Mail server TLS and Exchange Online readiness",
        "",
        _run_line(run),
    ]
    notice = completeness(info)
    if notice:
        lines += ["", f"> **Note:** {notice}"]
    lines += ["", "## Summary", "", *_summary_tables(run)]
    lines += ["", "## Domains", ""]
    if rows:
        lines += [
            "| Domain | MX hosts and addresses | Best TLS | Exchange Online in "
            "| Exchange Online out | Worst | Software |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    else:
        lines.append("No domain in this run has a result yet.")
    lines += ["", "## Findings and fixes per domain"]
    for section in sections:
        lines += ["", section]
    lines += ["", _definitions()]
    return "\n".join(lines) + "\n"


def _run_line(run: RunSummary) -> str:
    info = run.run
    when = f"started {utc_time(info.started_at)}"
    if info.finished_at is not None:
        when += f", finished {utc_time(info.finished_at)}"
    return (
        f"Run {info.run_id} · list {md(info.label, MAX_NAME)} · "
        f"{count_words(run.domains, 'domain', 'domains')} · {when} · "
        f"mailtls {md(info.tool_version, 40)}"
    )


def _share_table(heading: str, entries: Sequence[tuple[str, int]], total: int) -> list[str]:
    return [
        f"| {heading} | Domains | Share |",
        "|---|--:|--:|",
        *(f"| {words} | {count} | {percent(count, total)} |" for words, count in entries),
    ]


def _summary_tables(run: RunSummary) -> list[str]:
    total = run.domains
    lines = _share_table(
        "Best TLS every tested address offers",
        [(BEST_TLS_WORDS[best], count) for best, count in run.by_best_tls.items()],
        total,
    )
    lines.append("")
    lines += _share_table(
        "Exchange Online → domain",
        [(INBOUND_LONG_WORDS[state], count) for state, count in run.by_exo_inbound.items()],
        total,
    )
    lines.append("")
    lines += _share_table(
        "Domain → Exchange Online (inferred)",
        [(OUTBOUND_WORDS[state], count) for state, count in run.by_exo_outbound.items()],
        total,
    )
    lines += ["", "### Top findings", ""]
    top = run.top_findings(TOP_FINDINGS)
    if not top:
        return [*lines, "No findings."]
    lines += ["| Finding | Severity | Domains | Share |", "|---|---|--:|--:|"]
    lines += [
        f"| `{tally.code.value}` {md(tally.title)} | {tally.severity.value} | {tally.domains} "
        f"| {percent(tally.domains, total)} |"
        for tally in top
    ]
    return lines


def _domain_row(report: DomainReport, summary: DomainSummary) -> str:
    name = md(summary.domain, MAX_NAME)
    if summary.status is not DomainStatus.TESTED:
        name += f" ({STATUS_WORDS[summary.status]})"
    hosts = "<br>".join(
        f"{md(host.host, MAX_NAME)}: "
        + (", ".join(md(address_label(a), MAX_NAME) for a in host.addresses) or "no address")
        for host in report.mx_hosts
    )
    software = ", ".join(md(str(product), MAX_NAME) for product in summary.products)
    worst = summary.worst_severity.value if summary.worst_severity else "no findings"
    return (
        f"| {name} | {hosts or '—'} | {BEST_TLS_WORDS[summary.best_tls]} "
        f"| {INBOUND_WORDS[summary.exo_inbound]} | {OUTBOUND_WORDS[summary.exo_outbound]} "
        f"| {worst} | {software or '—'} |"
    )


def _domain_section(report: DomainReport, summary: DomainSummary) -> str:
    lines = [
        f"### {md(summary.domain, MAX_NAME)}",
        "",
        f"Exchange Online: {md(report.verdict.summary, 2 * MAX_TEXT)}",
        "",
    ]
    findings = grouped_findings(report)
    if not findings:
        lines.append("No findings: nothing to fix.")
    given: dict[tuple[str, ...], str] = {}  # steps already given -> the code they were under
    for item in findings:
        lines.extend(_finding_lines(item, given))
    return "\n".join(lines)


def _finding_lines(item: GroupedFinding, given: dict[tuple[str, ...], str]) -> list[str]:
    """One finding with its fix; steps already given under another finding are referred to."""
    finding = item.finding
    where = ""
    if item.scopes:
        shown = ", ".join(md(scope, MAX_NAME) for scope in item.scopes[:MAX_SCOPES_LISTED])
        more = len(item.scopes) - MAX_SCOPES_LISTED
        where = f" (at {shown}{f' and {more} more' if more > 0 else ''})"
    lines = [
        f"- **{finding.severity.value}** `{finding.code.value}` {md(CODES[finding.code].title)}: "
        f"{md(finding.message, 2 * MAX_TEXT)}{where}"
    ]
    remedy = finding.remedy
    if remedy is not None:
        lines.append(f"  - **Fix:** {_prose(remedy.summary)}")
        same_as = given.get(remedy.steps)
        if same_as is not None:
            lines.append(f"  - Steps as for `{same_as}` above.")
            return lines
        if remedy.steps:
            given[remedy.steps] = finding.code.value
        for number, step in enumerate(remedy.steps, start=1):
            parts = step_parts(step)
            marker = f"    {number}. "
            lines.append(f"{marker}{_prose(parts.prose)}")
            if parts.block:
                lines.extend(_fenced(parts.block, " " * len(marker)))
        if remedy.sources:
            lines.append(f"  - Sources: {_sources(remedy.sources)}")
    return lines


def _sources(sources: tuple[str, ...]) -> str:
    # An autolink <...> cannot hold spaces or angle brackets, which ``is_web_link`` rules out.
    return ", ".join(
        f"<{source}>" if is_web_link(source) else md(source, 2 * MAX_TEXT) for source in sources
    )


def _definitions() -> str:
    return (
        "---\n\n"
        "*Best TLS*: the highest TLS version every tested address of the domain accepts "
        "(an address without STARTTLS counts as no TLS). *Exchange Online in*: whether Exchange "
        "Online, which refuses TLS 1.0 and 1.1, can deliver to the domain over TLS 1.2; "
        "otherwise its mail travels in plaintext, or fails where a connector requires TLS. "
        "*Exchange Online out*: inferred from the TLS the domain's servers offer. "
        "*Not tested*: the server could not be examined; this says nothing about its TLS."
    )


# --- the diff ----------------------------------------------------------------------------------


def render_diff_markdown(diff: RunDiff) -> str:
    old, new = diff.old.run, diff.new.run
    lines = [
        f"# Changes from run {old.run_id} to run {new.run_id}",
        "",
        f"From {md(run_title(old), MAX_NAME)}, started {utc_time(old.started_at)}, "
        f"to {md(run_title(new), MAX_NAME)}, started {utc_time(new.started_at)}.",
        "",
        _diff_counts(diff),
        "",
        "| | Run " + str(old.run_id) + " | Run " + str(new.run_id) + " |",
        "|---|--:|--:|",
        *(
            f"| {words} | {before} | {after} |"
            for words, before, after in totals_compared(diff.old, diff.new)
        ),
    ]
    for title, changes in (
        ("Worse", diff.worse),
        ("Better", diff.better),
        ("Findings changed, same posture", _same(diff)),
    ):
        if changes:
            lines += ["", f"## {title} ({len(changes)})", ""]
            for change in changes:
                lines.extend(_change_lines(change))
    for title, summaries in (
        (f"Only in run {old.run_id}", diff.only_old),
        (f"Only in run {new.run_id}", diff.only_new),
    ):
        if summaries:
            lines += ["", f"## {title} ({len(summaries)})", ""]
            lines += [f"- {md(s.domain, MAX_NAME)}: {_posture_words(s)}" for s in summaries]
    return "\n".join(lines) + "\n"


def _same(diff: RunDiff) -> tuple[DomainChange, ...]:
    return tuple(change for change in diff.changed if change.movement is Movement.SAME)


def _diff_counts(diff: RunDiff) -> str:
    both = len(diff.changed) + diff.unchanged
    return (
        f"{count_words(both, 'domain', 'domains')} in both runs: {len(diff.worse)} worse, "
        f"{len(diff.better)} better, {len(_same(diff))} with other findings, "
        f"{diff.unchanged} unchanged. {len(diff.only_old)} only in the old run, "
        f"{len(diff.only_new)} only in the new run."
    )


def _posture_words(summary: DomainSummary) -> str:
    worst = summary.worst_severity.value if summary.worst_severity else "no findings"
    return (
        f"Exchange Online {INBOUND_WORDS[summary.exo_inbound]}, best TLS "
        f"{BEST_TLS_WORDS[summary.best_tls]}, worst {worst}"
    )


def _change_lines(change: DomainChange) -> list[str]:
    old, new = change.old, change.new
    moves = []
    if old.exo_inbound is not new.exo_inbound:
        moves.append(
            f"Exchange Online {INBOUND_WORDS[old.exo_inbound]} → {INBOUND_WORDS[new.exo_inbound]}"
        )
    if old.best_tls is not new.best_tls:
        moves.append(f"best TLS {BEST_TLS_WORDS[old.best_tls]} → {BEST_TLS_WORDS[new.best_tls]}")
    if old.worst_severity is not new.worst_severity:
        before = old.worst_severity.value if old.worst_severity else "none"
        after = new.worst_severity.value if new.worst_severity else "none"
        moves.append(f"worst {before} → {after}")
    if old.status is not new.status:
        moves.append(f"{STATUS_WORDS[old.status]} → {STATUS_WORDS[new.status]}")
    lines = [f"- **{md(change.domain, MAX_NAME)}**" + (f": {'; '.join(moves)}" if moves else "")]
    lines += [f"  - new: {_located(item)}" for item in change.new_findings]
    lines += [f"  - resolved: {_located(item)}" for item in change.resolved_findings]
    return lines


def _located(item: LocatedFinding) -> str:
    where = " ".join(md(part, MAX_NAME) for part in (item.mx_host, item.address) if part)
    finding = item.finding
    return f"{finding.severity.value} `{finding.code.value}` {md(finding.message)}" + (
        f" (at {where})" if where else ""
    )

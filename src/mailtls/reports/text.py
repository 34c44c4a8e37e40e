"""A run's overview and the diff of two runs as terminal text (rich), like ``render.text``.

The overview shows the totals as bars (best TLS, Exchange Online readiness), the top findings,
and the domains that need attention, worst first (``summary.posture_key``), up to a limit. The
diff shows the totals side by side, then the domains that got worse, better, or changed
findings, with each new and resolved finding, then the domains only one run has.

Server and DNS texts go through ``render.text.clean`` and are passed to rich as ``Text``, never
as markup. With ``color=False`` the output holds no escape sequence at all.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from mailtls.models import DomainReport, ExoInbound, ExoOutbound, RunInfo, Severity
from mailtls.render.console import ReportConsole
from mailtls.render.text import SEVERITY_STYLES, clean
from mailtls.reports.diff import DomainChange, LocatedFinding, Movement, RunDiff
from mailtls.reports.summary import (
    BestTls,
    DomainStatus,
    DomainSummary,
    RunSummary,
    RunTally,
    posture_key,
    summarise_domain,
)
from mailtls.reports.wording import (
    BEST_TLS_WORDS,
    INBOUND_WORDS,
    OUTBOUND_WORDS,
    STATUS_WORDS,
    completeness,
    count_words,
    percent,
    run_title,
    totals_compared,
    utc_time,
)

MAX_NAME = 60
MAX_TEXT = 160
BAR_WIDTH = 24
TOP_FINDINGS = 10
ATTENTION = 20

_BEST_TLS_STYLES = {
    BestTls.TLS1_3: "green",
    BestTls.TLS1_2: "green",
    BestTls.TLS1_1: "red",
    BestTls.TLS1_0: "red",
    BestTls.NO_TLS: "bold red",
    BestTls.NOT_TESTED: "dim",
}
_INBOUND_STYLES = {
    ExoInbound.TLS12: "green",
    ExoInbound.PLAINTEXT_FALLBACK: "bold red",
    ExoInbound.NOT_TESTED: "dim",
}
_OUTBOUND_STYLES = {
    ExoOutbound.LIKELY_TLS12: "green",
    ExoOutbound.LIKELY_PLAINTEXT_OR_FAIL: "red",
    ExoOutbound.UNKNOWN: "dim",
}
_MOVEMENT_STYLES = {Movement.WORSE: "bold red", Movement.BETTER: "green", Movement.SAME: "yellow"}


# --- the run overview --------------------------------------------------------------------------


def render_run_text(
    info: RunInfo,
    domains: Iterable[DomainReport],
    *,
    color: bool,
    width: int | None = None,
    attention: int = ATTENTION,
) -> str:
    """The run's totals and its ``attention`` worst domains; ``domains`` walked once."""
    tally = RunTally()
    needing = 0

    def needing_attention() -> Iterator[DomainSummary]:
        nonlocal needing
        for report in domains:
            summary = summarise_domain(report)
            tally.add(summary)
            if _needs_attention(summary):
                needing += 1
                yield summary

    stream = needing_attention()
    worst = heapq.nsmallest(attention, stream, key=lambda s: (posture_key(s), s.domain))
    for _ in stream:  # nsmallest(0, ...) reads nothing: the totals need every domain
        pass
    run = tally.result(info)
    output = ReportConsole(color=color, width=width)
    console = output.console
    console.print(_run_header(run))
    notice = completeness(info)
    if notice:
        console.print(Text(notice, style="yellow"))
    console.print()
    console.print(_share_block(run))
    console.print()
    console.print(_top_findings_block(run))
    console.print()
    console.print(
        Text.assemble(
            ("Needing attention", "bold"),
            f" ({count_words(needing, 'domain', 'domains')}; worst first"
            + (f", the first {len(worst)} shown" if needing > len(worst) else "")
            + ")",
        )
    )
    if worst:
        console.print(_summary_table(worst))
    elif not needing:
        console.print(
            Text(
                "none: Exchange Online reaches every domain over TLS 1.2, and no domain has a "
                "warning",
                style="green",
            )
        )
    return output.text()


def _needs_attention(summary: DomainSummary) -> bool:
    """Exchange Online cannot reach it over TLS 1.2, or it has a warning or worse; a domain
    that accepts no mail (null MX) by its own choice needs nothing."""
    if summary.status is DomainStatus.NULL_MX:
        return False
    return summary.exo_inbound is not ExoInbound.TLS12 or (
        summary.worst_severity is not None and summary.worst_severity is not Severity.INFO
    )


def _run_header(run: RunSummary) -> Text:
    info = run.run
    header = Text.assemble((f"Run {info.run_id}", "bold"), "  ")
    header.append(clean(info.label, MAX_NAME))
    when = f"started {utc_time(info.started_at)}"
    if info.finished_at is not None:
        when += f", finished {utc_time(info.finished_at)}"
    header.append(f"  {count_words(run.domains, 'domain', 'domains')}, {when}", style="dim")
    return header


def _bar(count: int, total: int) -> str:
    filled = round(BAR_WIDTH * count / total) if total else 0
    if count and not filled:
        filled = 1
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _share_block(run: RunSummary) -> Table:
    total = run.domains
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    sections: list[tuple[str, list[tuple[str, int, str]]]] = [
        (
            "Best TLS every tested address offers",
            [(BEST_TLS_WORDS[b], n, _BEST_TLS_STYLES[b]) for b, n in run.by_best_tls.items()],
        ),
        (
            "Exchange Online → domain",
            [(INBOUND_WORDS[s], n, _INBOUND_STYLES[s]) for s, n in run.by_exo_inbound.items()],
        ),
        (
            "Domain → Exchange Online (inferred)",
            [(OUTBOUND_WORDS[s], n, _OUTBOUND_STYLES[s]) for s, n in run.by_exo_outbound.items()],
        ),
    ]
    for index, (title, rows) in enumerate(sections):
        if index:
            grid.add_row("")
        grid.add_row(Text(title, style="bold"))
        for words, count, style in rows:
            grid.add_row(
                Text(f"  {words}"),
                Text(_bar(count, total), style=style),
                Text(str(count)),
                Text(percent(count, total), style="dim"),
            )
    return grid


def _top_findings_block(run: RunSummary) -> Table | Text:
    top = run.top_findings(TOP_FINDINGS)
    if not top:
        return Text("No findings.", style="green")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    table.title = "Top findings"
    table.add_column("Severity", no_wrap=True)
    table.add_column("Code", no_wrap=True)
    table.add_column("Domains", justify="right", no_wrap=True)
    table.add_column("Share", justify="right", no_wrap=True)
    table.add_column("What it means", overflow="fold")
    for tally in top:
        table.add_row(
            Text(tally.severity.value, style=SEVERITY_STYLES[tally.severity]),
            Text(tally.code.value, style="bold"),
            str(tally.domains),
            percent(tally.domains, run.domains),
            tally.title,
        )
    return table


def _summary_table(summaries: Sequence[DomainSummary]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Domain", overflow="fold")
    table.add_column("Exchange Online", no_wrap=True)
    table.add_column("Best TLS", no_wrap=True)
    table.add_column("Worst", no_wrap=True)
    table.add_column("Findings", overflow="fold")
    for summary in summaries:
        name = Text(clean(summary.domain, MAX_NAME))
        if summary.status is not DomainStatus.TESTED:
            name.append(f"\n{STATUS_WORDS[summary.status]}", style="dim")
        table.add_row(
            name,
            Text(INBOUND_WORDS[summary.exo_inbound], style=_INBOUND_STYLES[summary.exo_inbound]),
            Text(BEST_TLS_WORDS[summary.best_tls], style=_BEST_TLS_STYLES[summary.best_tls]),
            _severity_text(summary.worst_severity),
            Text(" ".join(item.code.value for item in summary.codes)),
        )
    return table


def _severity_text(severity: Severity | None) -> Text:
    if severity is None:
        return Text("none", style="green")
    return Text(severity.value, style=SEVERITY_STYLES[severity])


# --- the diff ----------------------------------------------------------------------------------


def render_diff_text(diff: RunDiff, *, color: bool, width: int | None = None) -> str:
    old, new = diff.old.run, diff.new.run
    output = ReportConsole(color=color, width=width)
    console = output.console
    header = Text.assemble(("Changes", "bold"), " from ")
    header.append(clean(run_title(old), MAX_NAME))
    header.append(f", started {utc_time(old.started_at)}, to ", style="dim")
    header.append(clean(run_title(new), MAX_NAME))
    header.append(f", started {utc_time(new.started_at)}", style="dim")
    console.print(header)
    console.print(_diff_counts(diff))
    console.print()
    console.print(_totals_table(diff))
    for title, movement in (
        ("Worse", Movement.WORSE),
        ("Better", Movement.BETTER),
        ("Findings changed, same posture", Movement.SAME),
    ):
        changes = [c for c in diff.changed if c.movement is movement]
        if changes:
            console.print()
            console.print(Text.assemble((f"{title} ({len(changes)})", _MOVEMENT_STYLES[movement])))
            console.print(_changes_table(changes))
    for title, summaries in (
        (f"Only in run {old.run_id}", diff.only_old),
        (f"Only in run {new.run_id}", diff.only_new),
    ):
        if summaries:
            console.print()
            console.print(Text(f"{title} ({len(summaries)})", style="bold"))
            console.print(_summary_table(summaries))
    return output.text()


def _diff_counts(diff: RunDiff) -> Text:
    both = len(diff.changed) + diff.unchanged
    same = sum(1 for c in diff.changed if c.movement is Movement.SAME)
    line = Text(f"{count_words(both, 'domain', 'domains')} in both runs: ")
    line.append(f"{len(diff.worse)} worse", style="bold red" if diff.worse else "")
    line.append(", ")
    line.append(f"{len(diff.better)} better", style="green" if diff.better else "")
    line.append(f", {same} with other findings, {diff.unchanged} unchanged; ")
    line.append(
        f"{len(diff.only_old)} only in the old run, {len(diff.only_new)} only in the new run"
    )
    return line


def _totals_table(diff: RunDiff) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column(f"Run {diff.old.run.run_id}", justify="right")
    table.add_column(f"Run {diff.new.run.run_id}", justify="right")
    table.add_column("Change", justify="right")
    for words, before, after in totals_compared(diff.old, diff.new):
        change = after - before
        table.add_row(
            words,
            str(before),
            str(after),
            Text(f"{change:+d}" if change else "", style="bold" if change else ""),
        )
    return table


def _changes_table(changes: Sequence[DomainChange]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Domain", overflow="fold")
    table.add_column("Exchange Online", overflow="fold")
    table.add_column("Best TLS", overflow="fold")
    table.add_column("Worst", overflow="fold")
    table.add_column("Findings", overflow="fold", ratio=1)
    for change in changes:
        old, new = change.old, change.new
        table.add_row(
            Text(clean(change.domain, MAX_NAME), style="bold"),
            _moved(INBOUND_WORDS[old.exo_inbound], INBOUND_WORDS[new.exo_inbound]),
            _moved(BEST_TLS_WORDS[old.best_tls], BEST_TLS_WORDS[new.best_tls]),
            _moved(
                old.worst_severity.value if old.worst_severity else "none",
                new.worst_severity.value if new.worst_severity else "none",
            ),
            _finding_lines(change),
        )
    return table


def _moved(before: str, after: str) -> Text:
    if before == after:
        return Text(after, style="dim")
    return Text(f"{before} → {after}")


def _finding_lines(change: DomainChange) -> Text:
    lines = Text()
    for sign, items, style in (
        ("+", change.new_findings, "red"),
        ("-", change.resolved_findings, "green"),
    ):
        for item in items:
            if lines.plain:
                lines.append("\n")
            lines.append(f"{sign} {item.finding.code.value}", style=style)
            where = _where(item)
            if where:
                lines.append(f" {where}", style="dim")
    return lines


def _where(item: LocatedFinding) -> str:
    return " ".join(clean(part, MAX_NAME) for part in (item.mx_host, item.address) if part)

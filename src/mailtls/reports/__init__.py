"""Reports over a scan run's results: summaries, the diff of two runs, HTML/CSV/JSON/Markdown.

Pure: run info and domain reports in (as ``mailtls check`` produces them; the store supplies
them, often as an iterator), values and strings out. Nothing here reads the database, the clock
or the network.

- ``summarise_run(info, domains) -> RunSummary`` and ``summarise_domain(report)``
  (``reports.summary``: what "best TLS" and the posture order mean);
- ``diff_runs(old, old_domains, new, new_domains) -> RunDiff`` (``reports.diff``);
- ``render_report(info, domains, ReportFormat)``, ``write_report(..., out)`` and
  ``render_diff(diff, DiffFormat)`` (``reports.formats``);
- ``render_run_text(info, domains, color=...)``: the run's overview for a terminal.
"""

from mailtls.reports.diff import DomainChange, LocatedFinding, Movement, RunDiff, diff_runs
from mailtls.reports.formats import (
    DiffFormat,
    ReportFormat,
    render_diff,
    render_report,
    write_report,
)
from mailtls.reports.summary import (
    BestTls,
    DomainStatus,
    DomainSummary,
    RunSummary,
    posture_key,
    summarise_domain,
    summarise_run,
)
from mailtls.reports.text import render_run_text

__all__ = [
    "BestTls",
    "DiffFormat",
    "DomainChange",
    "DomainStatus",
    "DomainSummary",
    "LocatedFinding",
    "Movement",
    "ReportFormat",
    "RunDiff",
    "RunSummary",
    "diff_runs",
    "posture_key",
    "render_diff",
    "render_report",
    "render_run_text",
    "summarise_domain",
    "summarise_run",
    "write_report",
]

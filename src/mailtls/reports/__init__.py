"""Reports over a scan run's results: summaries and the diff of two runs.

Pure: run info and domain reports in (as ``mailtls check`` produces them; the store supplies
them, often as an iterator), values out. Nothing here reads the database, the clock or the
network.

- ``summarise_run(info, domains) -> RunSummary`` and ``summarise_domain(report)``
  (``reports.summary``: what "best TLS" and the posture order mean);
- ``diff_runs(old, old_domains, new, new_domains) -> RunDiff`` (``reports.diff``).
"""

from mailtls.reports.diff import DomainChange, LocatedFinding, Movement, RunDiff, diff_runs
from mailtls.reports.summary import (
    BestTls,
    DomainStatus,
    DomainSummary,
    RunSummary,
    posture_key,
    summarise_domain,
    summarise_run,
)

__all__ = [
    "BestTls",
    "DomainChange",
    "DomainStatus",
    "DomainSummary",
    "LocatedFinding",
    "Movement",
    "RunDiff",
    "RunSummary",
    "diff_runs",
    "posture_key",
    "summarise_domain",
    "summarise_run",
]

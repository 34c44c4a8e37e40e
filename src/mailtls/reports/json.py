"""A run, or the diff of two runs, as one JSON document.

The run report::

    {"document": "mailtls-report", "report_version": "1", "schema_version": "1",
     "run": {...RunInfo},
     "domains": [{"summary": {...DomainSummary}, "report": {...DomainReport}}, ...],
     "summary": {...RunSummary without "run"}}

``report`` is the domain exactly as ``mailtls check --json`` writes it (``render.jsonout``, schema
version ``schema_version``), so one parser reads both. The run's summary comes *after* the
domains: the document is written while the domains are read (``write_json_report`` holds one
domain at a time), and the totals are known only at the end.

The diff document is ``RunDiff`` converted by the same rules: ``old`` and ``new`` are the runs'
summaries (each with its ``run``), ``changed`` the domains in both runs whose posture or findings
differ (``movement`` says better, worse or same), ``only_old``, ``only_new`` and ``unchanged``.

Both documents are ASCII (``\\u`` escapes), as ``render.jsonout`` writes them, so server text
cannot carry terminal control sequences into a file someone later prints.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TextIO

from mailtls.models import SCHEMA_VERSION, DomainReport, RunInfo
from mailtls.render.jsonout import dump_json, to_jsonable
from mailtls.reports.diff import RunDiff
from mailtls.reports.summary import RunTally, summarise_domain

# Bump when a field of the report or diff document changes meaning or disappears.
REPORT_VERSION = "1"
_INDENT = "  "


def render_json_report(info: RunInfo, domains: Iterable[DomainReport]) -> str:
    out = io.StringIO()
    write_json_report(info, domains, out)
    return out.getvalue()


def write_json_report(info: RunInfo, domains: Iterable[DomainReport], out: TextIO) -> None:
    out.write("{\n")
    out.write(f'{_INDENT}"document": "mailtls-report",\n')
    out.write(f'{_INDENT}"report_version": {dump_json(REPORT_VERSION)},\n')
    out.write(f'{_INDENT}"schema_version": {dump_json(SCHEMA_VERSION)},\n')
    out.write(f'{_INDENT}"run": {_nested(info, 1)},\n')
    out.write(f'{_INDENT}"domains": [')
    tally = RunTally()
    for index, report in enumerate(domains):
        summary = summarise_domain(report)
        tally.add(summary)
        entry = {"summary": summary, "report": report}
        out.write(("," if index else "") + f"\n{_INDENT * 2}{_nested(entry, 2)}")
    out.write(f"\n{_INDENT}]," if tally.domains else "],")
    totals = _object(tally.result(info))
    del totals["run"]  # written once, above
    out.write(f'\n{_INDENT}"summary": {_nested(totals, 1)}\n')
    out.write("}\n")


def render_json_diff(diff: RunDiff) -> str:
    document = {
        "document": "mailtls-diff",
        "report_version": REPORT_VERSION,
        "schema_version": SCHEMA_VERSION,
        **_object(diff),
    }
    return dump_json(document) + "\n"


def _object(value: object) -> dict[str, object]:
    converted = to_jsonable(value)
    if not isinstance(converted, dict):
        raise TypeError(f"{type(value).__name__} does not become a JSON object")
    return dict(converted)


def _nested(value: object, level: int) -> str:
    """``value`` as indented JSON whose lines after the first sit ``level`` steps in."""
    return dump_json(value).replace("\n", "\n" + _INDENT * level)

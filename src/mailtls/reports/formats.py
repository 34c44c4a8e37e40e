"""Which report and diff formats exist, and one entry point for each (the command line's seam).

``render_report`` and ``render_diff`` return the whole document as a string. ``write_report``
writes to a text stream instead; for CSV and JSON it holds one domain at a time, which is what a
run over a hundred thousand domains needs. HTML and Markdown hold every domain until the summary
above them is known (meant for up to some tens of thousands of domains).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from enum import StrEnum
from typing import TextIO

from mailtls.models import DomainReport, RunInfo
from mailtls.reports.csv import write_csv
from mailtls.reports.diff import RunDiff
from mailtls.reports.html import render_html
from mailtls.reports.json import render_json_diff, write_json_report
from mailtls.reports.markdown import render_diff_markdown, render_markdown
from mailtls.reports.text import render_diff_text


class ReportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JSON = "json"
    MARKDOWN = "md"


class DiffFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "md"


def write_report(
    info: RunInfo, domains: Iterable[DomainReport], format: ReportFormat, out: TextIO
) -> None:
    """Writes the report to ``out``; ``domains`` is walked once, in the order given."""
    if format is ReportFormat.CSV:
        write_csv(info, domains, out)
    elif format is ReportFormat.JSON:
        write_json_report(info, domains, out)
    elif format is ReportFormat.HTML:
        out.write(render_html(info, domains))
    else:
        out.write(render_markdown(info, domains))


def render_report(info: RunInfo, domains: Iterable[DomainReport], format: ReportFormat) -> str:
    out = io.StringIO()
    write_report(info, domains, format, out)
    return out.getvalue()


def render_diff(
    diff: RunDiff, format: DiffFormat, *, color: bool = False, width: int | None = None
) -> str:
    """The diff as text (``color`` and ``width`` apply to text only), JSON or Markdown."""
    if format is DiffFormat.TEXT:
        return render_diff_text(diff, color=color, width=width)
    if format is DiffFormat.JSON:
        return render_json_diff(diff)
    return render_diff_markdown(diff)

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from mailtls.models import DomainReport
from mailtls.reports import (
    DiffFormat,
    ReportFormat,
    diff_runs,
    render_diff,
    render_report,
    write_report,
)
from mailtls.reports.csv import render_csv
from mailtls.reports.html import render_html
from mailtls.reports.json import render_json_report
from mailtls.reports.markdown import render_markdown
from tests.unit.reports import samples

RUN = samples.run_domains()
INFO = samples.run_info()
RENDERERS = {
    ReportFormat.HTML: render_html,
    ReportFormat.CSV: render_csv,
    ReportFormat.JSON: render_json_report,
    ReportFormat.MARKDOWN: render_markdown,
}


def test_the_formats_are_named_as_the_command_line_names_them() -> None:
    assert [f.value for f in ReportFormat] == ["html", "csv", "json", "md"]
    assert [f.value for f in DiffFormat] == ["text", "json", "md"]


@pytest.mark.parametrize("format", list(ReportFormat))
def test_each_format_reads_the_domains_once_and_shows_them_all(format: ReportFormat) -> None:
    reads = 0

    def domains() -> Iterator[DomainReport]:
        nonlocal reads
        reads += 1
        yield from RUN

    text = render_report(INFO, domains(), format)
    assert reads == 1
    assert text == RENDERERS[format](INFO, RUN)
    for domain in RUN:
        assert domain.target.name in text
    out = io.StringIO()
    write_report(INFO, iter(RUN), format, out)
    assert out.getvalue() == text


@pytest.mark.parametrize("format", list(DiffFormat))
def test_each_diff_format_names_the_changed_domains(format: DiffFormat) -> None:
    old = [samples.modern(), samples.nxdomain()]
    new = [samples.renamed(samples.legacy_exchange(), "example.com"), samples.no_starttls()]
    text = render_diff(diff_runs(samples.run_info(5), old, INFO, new), format)
    for name in ("example.com", "nonexistent.example", "example.org"):
        assert name in text
    assert "\x1b" not in text
    if format is DiffFormat.JSON:
        json.loads(text)

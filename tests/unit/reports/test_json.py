from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import jsonschema

from mailtls.models import SCHEMA_VERSION, CheckReport, DomainReport
from mailtls.render.jsonout import render_json
from mailtls.reports.diff import diff_runs
from mailtls.reports.json import (
    REPORT_VERSION,
    render_json_diff,
    render_json_report,
    write_json_report,
)
from mailtls.reports.summary import summarise_run
from mailtls.schema import check_report_schema
from tests.unit.reports import samples

RUN = samples.run_domains()
INFO = samples.run_info()


def report(*domains: DomainReport) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json_report(INFO, domains))
    return document


def test_the_document_holds_run_domains_and_summary() -> None:
    document = report(*RUN)
    assert list(document) == [
        "document",
        "report_version",
        "schema_version",
        "run",
        "domains",
        "summary",
    ]
    assert document["document"] == "mailtls-report"
    assert (document["report_version"], document["schema_version"]) == (
        REPORT_VERSION,
        SCHEMA_VERSION,
    )
    assert document["run"] == {
        "run_id": 7,
        "label": "customers.txt",
        "started_at": "2025-03-14T02:00:00Z",
        "finished_at": "2025-03-14T02:03:12Z",
        "tool_version": "0.1.0",
        "options": {"timeout": "30", "concurrency": "50"},
        "targets": 12,
        "completed": 12,
    }
    assert [d["summary"]["domain"] for d in document["domains"]] == [
        d.target.name if d.target.port == 25 else f"[{d.target.name}]:{d.target.port}" for d in RUN
    ]


def test_each_domain_is_the_check_documents_domain() -> None:
    document = report(*RUN)
    check = json.loads(render_json(_check_report(RUN)))
    assert [d["report"] for d in document["domains"]] == check["domains"]
    wrapped = {**check, "domains": [d["report"] for d in document["domains"]]}
    jsonschema.validate(wrapped, check_report_schema())


def test_domain_summaries_carry_the_report_decisions() -> None:
    document = report(samples.legacy_exchange(), samples.nxdomain())
    contoso, missing = (d["summary"] for d in document["domains"])
    assert contoso["best_tls"] == "TLSv1.1"
    assert contoso["exo_inbound"] == "plaintext_fallback"
    assert contoso["worst_severity"] == "critical"
    assert contoso["severity_counts"] == {"critical": 1, "warning": 2, "info": 1}
    assert contoso["products"] == [
        {"name": "Microsoft Exchange Server 2010 or older", "version": None}
    ]
    assert missing["status"] == "nxdomain"
    assert missing["best_tls"] == "not_tested"


def test_the_summary_is_the_run_summary() -> None:
    document = report(*RUN)
    summary = summarise_run(INFO, RUN)
    assert document["summary"]["domains"] == summary.domains
    assert document["summary"]["by_best_tls"] == {
        k.value: v for k, v in summary.by_best_tls.items()
    }
    assert [f["code"] for f in document["summary"]["findings"]] == [
        f.code.value for f in summary.findings
    ]
    assert "run" not in document["summary"]


def test_an_empty_run_is_a_valid_document() -> None:
    document = report()
    assert document["domains"] == []
    assert document["summary"]["domains"] == 0


def test_server_text_stays_ascii() -> None:
    text = render_json_report(INFO, [samples.base.hostile_domain(), samples.script_injection()])
    assert text.isascii()
    assert "\x1b" not in text
    json.loads(text)


def test_domains_are_written_as_they_are_read() -> None:
    out = io.StringIO()
    written: list[int] = []

    def domains() -> Iterator[DomainReport]:
        for domain in RUN:
            written.append(len(out.getvalue()))
            yield domain

    write_json_report(INFO, domains(), out)
    assert written == sorted(written)
    assert written[-1] > written[1] > written[0]
    json.loads(out.getvalue())


def test_the_diff_document() -> None:
    old = [samples.modern(), samples.nxdomain()]
    new = [samples.renamed(samples.legacy_exchange(), "example.com"), samples.no_starttls()]
    document = json.loads(render_json_diff(diff_runs(samples.run_info(5), old, INFO, new)))
    assert document["document"] == "mailtls-diff"
    assert document["old"]["run"]["run_id"] == 5
    assert document["new"]["run"]["run_id"] == 7
    (change,) = document["changed"]
    assert change["movement"] == "worse"
    assert change["old"]["best_tls"] == "TLSv1.2"
    assert change["new"]["best_tls"] == "TLSv1.1"
    new_codes = {(f["finding"]["code"], f["mx_host"], f["address"]) for f in change["new_findings"]}
    assert ("TLS12_UNSUPPORTED", "mail.contoso.example", "192.0.2.40:25") in new_codes
    remedy = next(
        f["finding"]["remedy"]
        for f in change["new_findings"]
        if f["finding"]["code"] == "TLS12_UNSUPPORTED"
    )
    assert remedy["summary"] == samples.EXCHANGE_TLS12.summary
    assert [s["domain"] for s in document["only_old"]] == ["nonexistent.example"]
    assert [s["domain"] for s in document["only_new"]] == ["example.org"]
    assert document["unchanged"] == 0


def _check_report(domains: tuple[DomainReport, ...]) -> CheckReport:
    return CheckReport(
        schema_version=SCHEMA_VERSION,
        tool_version="0.1.0",
        generated_at=samples.RUN_STARTED,
        domains=domains,
        exit_code=2,
    )

"""The decoder reads back exactly what the encoder writes, and refuses what does not fit."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from mailtls.models import (
    CheckReport,
    DomainReport,
    Finding,
    FindingCode,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    Remedy,
    Severity,
)
from mailtls.render.jsonin import from_jsonable
from mailtls.render.jsonout import dump_json, to_jsonable
from tests.unit.render import samples


@pytest.mark.parametrize("name", sorted(samples.all_samples()))
def test_every_sample_report_round_trips(name: str) -> None:
    report = samples.all_samples()[name]
    decoded = from_jsonable(CheckReport, json.loads(dump_json(report)))
    assert decoded == report


def test_domains_round_trip_on_their_own() -> None:
    for report in samples.all_samples().values():
        for domain in report.domains:
            assert from_jsonable(DomainReport, to_jsonable(domain)) == domain


def test_a_remedy_round_trips_and_its_absence_reads_as_none() -> None:
    remedy = Remedy(
        "Allow TLS 1.2", ("smtpd_tls_protocols = >=TLSv1.2",), "postfix", ("https://x",)
    )
    finding = Finding(FindingCode.TLS12_UNSUPPORTED, Severity.CRITICAL, "no TLS 1.2", remedy)
    assert from_jsonable(Finding, to_jsonable(finding)) == finding
    older = {"code": "TLS10_ENABLED", "severity": "warning", "message": "TLS 1.0 on"}
    assert from_jsonable(Finding, older).remedy is None


def test_an_address_reads_its_flattened_endpoint() -> None:
    domain = next(iter(samples.all_samples().values())).domains[0]
    address = domain.mx_hosts[0].addresses[0]
    data = to_jsonable(address)
    assert isinstance(data, dict)
    assert "endpoint" not in data
    assert "ip" in data
    assert from_jsonable(type(address), data).endpoint == address.endpoint


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"code": "NO_SUCH_CODE", "severity": "warning", "message": "m"}, "Finding.code"),
        ({"code": "TLS10_ENABLED", "severity": "warning"}, "Finding.message"),
        ({"code": "TLS10_ENABLED", "severity": "warning", "message": 5}, "expected str"),
        (["not", "an", "object"], "an object for Finding"),
    ],
)
def test_what_does_not_fit_is_refused_with_its_path(data: object, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        from_jsonable(Finding, data)


def test_naive_times_bad_base64_and_true_for_a_number_are_refused() -> None:
    report = samples.all_samples()[sorted(samples.all_samples())[0]]
    data = to_jsonable(report)
    assert isinstance(data, dict)
    with pytest.raises(ValueError, match="UTC offset"):
        from_jsonable(CheckReport, {**data, "generated_at": "2025-01-01T00:00:00"})
    with pytest.raises(ValueError, match="expected int"):
        from_jsonable(CheckReport, {**data, "exit_code": True})
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    assert from_jsonable(CheckReport, {**data, "generated_at": "2025-01-01T00:00:00Z"}) == (
        dataclasses.replace(report, generated_at=moment)
    )


def test_bytes_must_be_base64() -> None:
    probe = ProbeResult(ProbeKind.DEFAULT, ProbeOutcome.NEGOTIATED, chain_der=(b"\x30\x82",))
    data = to_jsonable(probe)
    assert from_jsonable(ProbeResult, data) == probe
    assert isinstance(data, dict)
    with pytest.raises(ValueError, match=r"chain_der\[0\]"):
        from_jsonable(ProbeResult, {**data, "chain_der": ["not base64!"]})

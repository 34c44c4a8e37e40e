from __future__ import annotations

import base64
import dataclasses
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

from mailtls.models import (
    AddressReport,
    CheckReport,
    Endpoint,
    Severity,
    TlsVersion,
    VersionSupport,
)
from mailtls.render.jsonout import render_json, to_jsonable
from mailtls.schema import check_report_schema
from tests.unit.render import samples

VERSION_NAMES = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
SAMPLES = samples.all_samples()


def document(report: CheckReport) -> dict[str, Any]:
    loaded = json.loads(render_json(report))
    assert isinstance(loaded, dict)
    return loaded


def addresses_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        address
        for domain in doc["domains"]
        for mx_host in domain["mx_hosts"]
        for address in mx_host["addresses"]
    ]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        check_report_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(doc: object) -> list[str]:
    return [error.message for error in validator().iter_errors(doc)]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_validates_against_the_schema(name: str) -> None:
    assert schema_errors(document(SAMPLES[name])) == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_address_carries_the_fields_the_issue_requires(name: str) -> None:
    for address in addresses_of(document(SAMPLES[name])):
        assert isinstance(address["ip"], str)
        assert isinstance(address["port"], int)
        assert "endpoint" not in address
        assert isinstance(address["status"], str)
        assert address["starttls"] in (True, False, None)
        assert list(address["tls_versions"]) == VERSION_NAMES
        assert set(address["tls_versions"].values()) <= {"supported", "unsupported", "not_tested"}
        assert isinstance(address["connections"], int)
        for finding in address["findings"]:
            assert finding["code"]
            assert finding["severity"] in {"info", "warning", "critical"}


def test_the_schema_rejects_documents_that_break_the_contract() -> None:
    # Proof that the validation above can fail: each change breaks one promise of the schema.
    def broken(change: Any) -> list[str]:
        doc = document(SAMPLES["modern"])
        change(doc, addresses_of(doc)[0])
        return schema_errors(doc)

    assert broken(lambda doc, address: address["tls_versions"].pop("TLSv1.3"))
    assert broken(lambda doc, address: address.update(endpoint={"ip": "192.0.2.10"}))
    assert broken(lambda doc, address: address.pop("ip"))
    assert broken(lambda doc, address: address.update(status="no_starttls"))
    assert broken(lambda doc, address: address.update(starttls="yes"))
    assert broken(lambda doc, address: doc.update(generated_at="2025-03-14T09:27:00+01:00"))
    assert broken(lambda doc, address: doc.update(schema_version="0"))
    assert broken(lambda doc, address: address["findings"].append({"code": "X"}))


def test_address_facts_are_where_a_consumer_looks_for_them() -> None:
    doc = document(SAMPLES["modern"])
    first, ipv6, mx2 = addresses_of(doc)
    assert (first["ip"], first["port"], ipv6["ip"]) == ("192.0.2.10", 25, "2001:db8::10")
    assert list(first)[:3] == ["ip", "port", "mx_host"]  # the endpoint sits where it was
    assert first["status"] == "ok"
    assert first["starttls"] is True
    assert first["negotiated"] == {
        "version": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384",
        "bits": 256,
        "key_exchange": None,
    }
    assert mx2["tls_versions"] == {
        "TLSv1": "unsupported",
        "TLSv1.1": "unsupported",
        "TLSv1.2": "supported",
        "TLSv1.3": "unsupported",
    }
    assert mx2["certificate"]["days_left"] == 12
    assert mx2["certificate"]["leaf"]["dns_names"] == ["mx2.example.com", "mail.example.com"]
    assert [f["code"] for f in mx2["findings"]] == ["TLS13_UNSUPPORTED", "CERT_EXPIRES_SOON"]
    assert first["connections"] == 5


def test_the_rate_limited_reply_is_kept_word_for_word() -> None:
    (busy,) = addresses_of(document(SAMPLES["rate_limited"]))
    assert busy["status"] == "rate_limited"
    assert busy["starttls"] is None
    assert busy["replies"] == [
        {
            "stage": "greeting",
            "command": None,
            "reply": {"code": 421, "lines": [samples.RATE_LIMIT_TEXT]},
        }
    ]
    assert busy["probes"][0]["reply_class"] == "rate_limited"


def test_dns_failures_have_no_addresses_but_say_why() -> None:
    (nxdomain,) = document(SAMPLES["nxdomain"])["domains"]
    assert nxdomain["mx_hosts"] == []
    assert nxdomain["dns"][0]["status"] == "nxdomain"
    assert nxdomain["findings"][0]["code"] == "DOMAIN_NXDOMAIN"
    (null_mx,) = document(SAMPLES["null_mx"])["domains"]
    assert null_mx["dns"][0]["records"] == ["0 ."]


def test_chain_der_is_a_list_of_base64_der_certificates() -> None:
    probe = addresses_of(document(SAMPLES["modern"]))[0]["probes"][0]
    decoded = [base64.b64decode(item, validate=True) for item in probe["chain_der"]]
    assert decoded == [samples.LEAF_DER, samples.INTERMEDIATE_DER]


def test_timestamps_are_utc_with_a_z_suffix() -> None:
    doc = document(SAMPLES["modern"])
    assert doc["generated_at"] == "2025-03-14T09:27:00.250000Z"
    assert doc["domains"][0]["started_at"] == "2025-03-14T09:26:53Z"
    berlin = timezone(timedelta(hours=1))
    assert to_jsonable(datetime(2025, 3, 14, 10, 0, tzinfo=berlin)) == "2025-03-14T09:00:00Z"


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_jsonable(datetime(2025, 3, 14, 9, 0))


def test_enum_keyed_maps_follow_the_enum_order_and_missing_versions_are_not_tested() -> None:
    shuffled = {
        TlsVersion.TLS1_3: VersionSupport.SUPPORTED,
        TlsVersion.TLS1_0: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_2: VersionSupport.SUPPORTED,
    }
    assert list(to_jsonable(shuffled)) == ["TLSv1", "TLSv1.2", "TLSv1.3"]  # type: ignore[arg-type]

    report = SAMPLES["modern"]
    first = report.domains[0].mx_hosts[0].addresses[0]
    partial = dataclasses.replace(first, tls_versions=shuffled)
    doc = document(_with_first_address(report, partial))
    assert addresses_of(doc)[0]["tls_versions"] == {
        "TLSv1": "unsupported",
        "TLSv1.1": "not_tested",
        "TLSv1.2": "supported",
        "TLSv1.3": "supported",
    }
    assert schema_errors(doc) == []


def test_generic_conversions() -> None:
    assert to_jsonable(b"\x00\xffder") == "AP9kZXI="
    assert to_jsonable((1, 2.5, "x", None, True)) == [1, 2.5, "x", None, True]
    assert to_jsonable(Severity.CRITICAL) == "critical"
    assert to_jsonable({"timeout": "30"}) == {"timeout": "30"}
    assert to_jsonable(Endpoint("::1", 25)) == {"ip": "::1", "port": 25}
    with pytest.raises(TypeError):
        to_jsonable({1: "x"})
    with pytest.raises(TypeError):
        to_jsonable({1, 2})


def test_rendering_is_stable_and_round_trips() -> None:
    report = SAMPLES["all"]
    text = render_json(report)
    assert text == render_json(report)
    assert json.dumps(json.loads(text), indent=2) == text
    compact = render_json(report, indent=None)
    assert "\n" not in compact
    assert json.loads(compact) == json.loads(text)


def test_server_strings_survive_exactly_but_as_ascii_escapes() -> None:
    text = render_json(SAMPLES["hostile"])
    assert text.isascii()
    assert "\x1b" not in text
    (hostile,) = addresses_of(json.loads(text))
    assert hostile["banner"]["lines"] == [
        samples.HOSTILE_MARKUP,
        samples.HOSTILE_ANSI,
        samples.HOSTILE_LONG,
    ]


def test_a_nan_cannot_slip_into_the_document() -> None:
    report = SAMPLES["nxdomain"]
    bad = dataclasses.replace(
        report, domains=(dataclasses.replace(report.domains[0], elapsed_seconds=math.nan),)
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        render_json(bad)


def _with_first_address(report: CheckReport, address: AddressReport) -> CheckReport:
    domain = report.domains[0]
    mx_host = domain.mx_hosts[0]
    mx_host = dataclasses.replace(mx_host, addresses=(address, *mx_host.addresses[1:]))
    domain = dataclasses.replace(domain, mx_hosts=(mx_host, *domain.mx_hosts[1:]))
    return dataclasses.replace(report, domains=(domain, *report.domains[1:]))

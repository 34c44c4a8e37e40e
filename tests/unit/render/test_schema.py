from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from mailtls import schema as schema_module
from mailtls.models import ALL_TLS_VERSIONS, CheckReport
from mailtls.render.jsonout import render_json
from mailtls.schema import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    check_report_schema,
    check_report_schema_json,
)
from tests.unit.render.samples import all_samples

REPOSITORY = Path(__file__).resolve().parents[3]
COMMITTED_SCHEMA = REPOSITORY / "docs" / "schema" / "check-v2.json"


def test_the_committed_schema_file_is_current() -> None:
    committed = COMMITTED_SCHEMA.read_text(encoding="utf-8")
    assert committed == check_report_schema_json() + "\n", (
        "docs/schema/check-v2.json differs from the schema the models generate; regenerate it "
        "with: mailtls schema > docs/schema/check-v2.json"
    )


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = check_report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_VERSION in schema["$id"] == SCHEMA_ID
    assert SCHEMA_VERSION in schema["title"]
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_each_call_returns_a_fresh_schema() -> None:
    first = check_report_schema()
    first["$defs"].clear()
    assert check_report_schema()["$defs"]


def object_schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema that describes an object with named properties."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for value in node.values():
            yield from object_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from object_schemas(value)


def test_objects_are_closed_and_every_field_is_required() -> None:
    objects = list(object_schemas(check_report_schema()))
    assert len(objects) > 10
    for node in objects:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])


def test_every_definition_and_every_field_is_described() -> None:
    schema = check_report_schema()
    assert schema["description"].startswith("The result of `mailtls check`")
    undescribed = [
        name for name, definition in schema["$defs"].items() if not definition.get("description")
    ]
    assert undescribed == []
    missing = [
        f"{name}.{field}"
        for name, definition in {"CheckReport": schema, **schema["$defs"]}.items()
        if definition.get("type") == "object"
        for field, field_schema in definition["properties"].items()
        if not field_schema.get("description")
    ]
    assert missing == []


def test_documented_enums_describe_every_value() -> None:
    definitions = {**check_report_schema()["$defs"], **schema_module.logs_report_schema()["$defs"]}
    for enum_type, meanings in schema_module._ENUM_VALUE_DOCS.items():
        assert set(meanings) == set(enum_type), enum_type.__name__
        description = definitions[enum_type.__name__]["description"]
        for member in enum_type:
            assert f"- `{member.value}`: " in description


def test_python_types_map_to_json_types() -> None:
    schema = check_report_schema()
    definitions = schema["$defs"]
    address = definitions["AddressReport"]["properties"]
    assert list(address)[:2] == ["ip", "port"]  # the endpoint, flattened
    assert "endpoint" not in address
    assert "Endpoint" not in definitions
    assert address["starttls"]["type"] == ["boolean", "null"]
    assert address["certificate"]["anyOf"] == [
        {"$ref": "#/$defs/CertificateReport"},
        {"type": "null"},
    ]
    assert address["findings"] == {
        "description": address["findings"]["description"],
        "type": "array",
        "items": {"$ref": "#/$defs/Finding"},
    }
    assert address["tls_versions"]["required"] == [version.value for version in ALL_TLS_VERSIONS]
    assert definitions["VersionSupport"]["enum"] == ["supported", "unsupported", "not_tested"]
    assert schema["properties"]["generated_at"]["format"] == "date-time"
    assert schema["properties"]["options"]["additionalProperties"] == {"type": "string"}
    chain = definitions["ProbeResult"]["properties"]["chain_der"]
    assert chain["items"] == {"type": "string", "contentEncoding": "base64"}
    assert definitions["CertificateReport"]["properties"]["days_left"]["type"] == "integer"
    assert definitions["ProbeResult"]["properties"]["elapsed_seconds"]["type"] == "number"


def test_the_document_and_the_schema_list_the_same_fields_in_the_same_order() -> None:
    schema = check_report_schema()
    document = json.loads(render_json(all_samples()["all"]))
    assert list(document) == list(schema["properties"])
    address = document["domains"][0]["mx_hosts"][0]["addresses"][0]
    assert list(address) == list(schema["$defs"]["AddressReport"]["properties"])
    assert isinstance(all_samples()["all"], CheckReport)


def test_the_engine_stamps_reports_with_this_schema_version() -> None:
    from mailtls import scanner  # noqa: PLC0415 - the engine only matters to this one test

    assert scanner.SCHEMA_VERSION == SCHEMA_VERSION

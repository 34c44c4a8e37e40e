"""The ``mailtls check`` report as one JSON document, described by ``mailtls.schema``.

Conversion rules, shared with the schema generator so that document and schema cannot drift:

- A dataclass becomes an object with its fields in declaration order; properties such as
  ``SmtpReply.text`` are not emitted (they are derived from fields that are).
- ``AddressReport.endpoint`` is flattened (see ``FLATTENED_FIELDS``): each address object carries
  ``ip`` and ``port`` at its top level, because consumers key on the address.
- A ``str`` enum becomes its value. A dict keyed by a ``str`` enum is keyed by the values, in
  the enum's declaration order, so ``tls_versions`` always reads TLSv1, TLSv1.1, TLSv1.2, TLSv1.3.
- A datetime becomes ISO 8601 in UTC with a ``Z`` suffix. A naive datetime is refused: its
  moment is unknown, and guessing would put wrong times in a machine-readable record.
- Tuples and lists become arrays; ``None`` becomes ``null``.
- Bytes become standard base64 strings. ``ProbeResult.chain_der`` is therefore a list of base64
  DER certificates, as presented on that connection: ``CertificateReport`` judges only the chain
  of the default probe, and keeping every probe's chain lets a consumer re-examine evidence
  (a server may present another certificate to a TLS 1.0 client).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeAlias

from mailtls.models import (
    ALL_TLS_VERSIONS,
    AddressReport,
    CheckReport,
    DaneAddressResult,
    DomainReport,
    MxHostReport,
    VersionSupport,
)

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None

# Dataclass fields whose own fields are lifted into the parent object instead of nesting.
FLATTENED_FIELDS: Mapping[type, frozenset[str]] = {
    AddressReport: frozenset({"endpoint"}),
    DaneAddressResult: frozenset({"endpoint"}),
}


def to_jsonable(value: object) -> JsonValue:
    """Turn a model value (dataclass, enum, datetime, tuple, dict, bytes, scalar) into JSON data."""
    if value is None or isinstance(value, bool | int | float):
        return value
    # Before ``str``: a StrEnum is a str, and must become its plain value.
    if isinstance(value, Enum):
        return _enum_value(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return utc_timestamp(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return _mapping_to_jsonable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_to_jsonable(value)
    raise TypeError(f"no JSON form for {type(value).__name__}: {value!r}")


def render_json(report: CheckReport, *, indent: int | None = 2) -> str:
    """The report as a JSON document (no trailing newline); ``indent=None`` gives one line.

    Non-ASCII text is written as ``\\u`` escapes, so server-supplied strings cannot carry
    terminal control sequences into a file someone later prints.
    """
    return dump_json(_with_every_tls_version(report), indent=indent)


def dump_json(value: object, *, indent: int | None = 2) -> str:
    """Any model value as JSON text, with the same safety rules as ``render_json``."""
    return dump_jsonable(to_jsonable(value), indent=indent)


def dump_jsonable(data: JsonValue, *, indent: int | None = 2) -> str:
    """JSON data (from :func:`to_jsonable`) as text, with the safety rules of ``render_json``."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        data, indent=indent, separators=separators, ensure_ascii=True, allow_nan=False
    )


def dump_jsonable_rows(data: JsonValue, *, indent: int = 2) -> str:
    """JSON data as text laid out like ``dump_jsonable``, but for arrays of objects: each object
    on one line of its own, a row. For tables of tens of thousands of rows (a large log's
    peers): Python's JSON encoder indents in Python but writes one line in C, five times
    faster, and a row per line reads and greps well."""
    return _laid_out(data, indent, 0)


def _laid_out(value: JsonValue, indent: int, level: int) -> str:
    inner, outer = " " * (indent * (level + 1)), " " * (indent * level)
    if isinstance(value, dict) and value:
        members = (
            f"{inner}{_one_line(key)}: {_laid_out(item, indent, level + 1)}"
            for key, item in value.items()
        )
        return "{\n" + ",\n".join(members) + f"\n{outer}}}"
    if isinstance(value, list) and value:
        if all(isinstance(item, dict) for item in value):
            rows = (inner + _one_line(item) for item in value)
        else:
            rows = (inner + _laid_out(item, indent, level + 1) for item in value)
        return "[\n" + ",\n".join(rows) + f"\n{outer}]"
    return _one_line(value)


# One encoder for every row: json.dumps() with options builds a new one per call.
_one_line = json.JSONEncoder(separators=(", ", ": "), ensure_ascii=True, allow_nan=False).encode


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; raises ``ValueError`` for a naive datetime."""
    if moment.tzinfo is UTC:  # most times already are: no conversion (tens of thousands a report)
        return moment.isoformat().replace("+00:00", "Z")
    if moment.utcoffset() is None:
        raise ValueError(f"cannot place a naive datetime in UTC: {moment.isoformat()}")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def flattened_fields(cls: type) -> frozenset[str]:
    """Names of the fields of ``cls`` whose own fields are lifted into ``cls``'s object."""
    return FLATTENED_FIELDS.get(cls, frozenset())


def _enum_value(member: Enum) -> str:
    if not isinstance(member.value, str):
        raise TypeError(f"only str enums have a JSON form, not {type(member).__name__}")
    return member.value


@functools.cache  # one per enum type: a large report has thousands of mappings keyed by one
def _declaration_order(enum_type: type[Enum]) -> dict[object, int]:
    return {member: index for index, member in enumerate(enum_type)}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # per dataclass: a few dozen models


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _mapping_to_jsonable(mapping: Mapping[object, object]) -> dict[str, JsonValue]:
    keys = list(mapping)
    key_types = {type(key) for key in keys}
    if len(key_types) == 1 and issubclass(enum_type := key_types.pop(), Enum):
        # Declaration order, not insertion order: equal reports give equal documents.
        keys.sort(key=_declaration_order(enum_type).__getitem__)
    result: dict[str, JsonValue] = {}
    for key in keys:
        if isinstance(key, Enum):
            name = _enum_value(key)
        elif isinstance(key, str):
            name = key
        else:
            raise TypeError(f"JSON object keys must be str or str enums, not {key!r}")
        result[name] = to_jsonable(mapping[key])
    return result


def _dataclass_to_jsonable(instance: object) -> dict[str, JsonValue]:
    owner: type[Any] = type(instance)
    flatten = flattened_fields(owner)
    result: dict[str, JsonValue] = {}
    for field_name in _field_names(owner):
        converted = to_jsonable(getattr(instance, field_name))
        if field_name not in flatten:
            _put(result, field_name, converted, type(instance))
            continue
        if not isinstance(converted, dict):
            raise TypeError(f"{type(instance).__name__}.{field_name} is not an object")
        for name, inner in converted.items():
            _put(result, name, inner, type(instance))
    return result


def _put(target: dict[str, JsonValue], name: str, value: JsonValue, owner: type) -> None:
    if name in target:
        raise ValueError(f"flattening {owner.__name__} gives the key {name!r} twice")
    target[name] = value


def _with_every_tls_version(report: CheckReport) -> CheckReport:
    """Every address lists all four TLS versions: one missing from the engine was not tested."""
    return dataclasses.replace(
        report, domains=tuple(_complete_domain(domain) for domain in report.domains)
    )


def _complete_domain(domain: DomainReport) -> DomainReport:
    return dataclasses.replace(
        domain, mx_hosts=tuple(_complete_mx_host(mx_host) for mx_host in domain.mx_hosts)
    )


def _complete_mx_host(mx_host: MxHostReport) -> MxHostReport:
    return dataclasses.replace(
        mx_host, addresses=tuple(_complete_address(address) for address in mx_host.addresses)
    )


def _complete_address(address: AddressReport) -> AddressReport:
    if all(version in address.tls_versions for version in ALL_TLS_VERSIONS):
        return address
    complete = {
        version: address.tls_versions.get(version, VersionSupport.NOT_TESTED)
        for version in ALL_TLS_VERSIONS
    }
    return dataclasses.replace(address, tls_versions=complete)

"""Model values back from the JSON that ``mailtls.render.jsonout.to_jsonable`` makes.

The store keeps each domain's report as that JSON; ``show``, ``diff`` and ``report`` read it
back into the same frozen dataclasses the renderers take. Decoding follows the dataclasses'
type hints, so it cannot drift from the encoder: both are driven by the models, and a test
round-trips real reports through both.

The input is our own output, but it comes from a database a user may have edited or a newer
mailtls may have written: anything that does not fit the models raises ``ValueError`` naming
the path to the offending value, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from mailtls.render.jsonout import flattened_fields

T = TypeVar("T")

Decoder = Callable[[object, str], Any]


def from_jsonable(cls: type[T], data: object) -> T:
    """``data`` (parsed JSON) as an instance of the dataclass ``cls``."""
    hint: object = cls  # a class is hashable; mypy's Hashable check does not see it for type[T]
    value: T = _decoder_for(hint)(data, cls.__name__)
    return value


@functools.cache
def _decoder_for(hint: object) -> Decoder:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _union_decoder(typing.get_args(hint))
    if origin is tuple:
        return _tuple_decoder(typing.get_args(hint))
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        return _dict_decoder(key_type, value_type)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _dataclass_decoder(hint)
        if issubclass(hint, Enum):
            return _enum_decoder(hint)
        if hint is datetime:
            return _decode_datetime
        if hint is bytes:
            return _decode_bytes
        if hint in (str, int, float, bool):
            return _scalar_decoder(hint)
        if hint is type(None):
            return _decode_none
    raise TypeError(f"no JSON decoding for {hint!r}")


def _fail(path: str, expected: str, data: object) -> typing.NoReturn:
    shown = repr(data)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise ValueError(f"{path}: expected {expected}, found {shown}")


def _decode_none(data: object, path: str) -> None:
    if data is not None:
        _fail(path, "null", data)


def _scalar_decoder(kind: type) -> Decoder:
    def decode(data: object, path: str) -> object:
        # bool is an int in Python; JSON true must not pass for a number, nor 1 for true.
        if kind is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if type(data) is not kind:
            _fail(path, kind.__name__, data)
        return data

    return decode


def _decode_datetime(data: object, path: str) -> datetime:
    if not isinstance(data, str):
        _fail(path, "an ISO 8601 time", data)
    try:
        moment = datetime.fromisoformat(data)
    except ValueError:
        _fail(path, "an ISO 8601 time", data)
    if moment.utcoffset() is None:
        _fail(path, "a time with its UTC offset", data)
    return moment


def _decode_bytes(data: object, path: str) -> bytes:
    if not isinstance(data, str):
        _fail(path, "base64 text", data)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        _fail(path, "base64 text", data)


def _enum_decoder(enum_type: type[Enum]) -> Decoder:
    def decode(data: object, path: str) -> Enum:
        try:
            return enum_type(data)
        except ValueError:
            _fail(path, f"one of {', '.join(str(m.value) for m in enum_type)}", data)

    return decode


def _union_decoder(members: tuple[object, ...]) -> Decoder:
    optional = type(None) in members
    others = [member for member in members if member is not type(None)]
    if len(others) != 1:
        raise TypeError(f"no JSON decoding for a union of {members!r}")
    inner = _decoder_for(others[0])

    def decode(data: object, path: str) -> object:
        if data is None and optional:
            return None
        return inner(data, path)

    return decode


def _tuple_decoder(arguments: tuple[object, ...]) -> Decoder:
    if len(arguments) != 2 or arguments[1] is not Ellipsis:
        raise TypeError(f"only tuple[X, ...] has a JSON decoding, not tuple{list(arguments)}")
    item = _decoder_for(arguments[0])

    def decode(data: object, path: str) -> tuple[object, ...]:
        if not isinstance(data, list):
            _fail(path, "an array", data)
        return tuple(item(value, f"{path}[{index}]") for index, value in enumerate(data))

    return decode


def _dict_decoder(key_type: object, value_type: object) -> Decoder:
    key = _decoder_for(key_type)
    value = _decoder_for(value_type)

    def decode(data: object, path: str) -> dict[object, object]:
        if not isinstance(data, dict):
            _fail(path, "an object", data)
        return {
            key(name, f"{path} key"): value(item, f"{path}.{name}") for name, item in data.items()
        }

    return decode


def _dataclass_decoder(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    flatten = flattened_fields(cls)
    fields = dataclasses.fields(cls)
    # A flattened field's own fields sit at the parent's top level (AddressReport's ip, port).
    lifted: dict[str, tuple[str, ...]] = {
        field.name: tuple(inner.name for inner in dataclasses.fields(hints[field.name]))
        for field in fields
        if field.name in flatten
    }

    def decode(data: object, path: str) -> object:
        if not isinstance(data, Mapping):
            _fail(path, f"an object for {cls.__name__}", data)
        values: dict[str, object] = {}
        for field in fields:
            field_path = f"{path}.{field.name}"
            if field.name in lifted:
                inner = {name: data[name] for name in lifted[field.name] if name in data}
                values[field.name] = _decoder_for(hints[field.name])(inner, path)
            elif field.name in data:
                values[field.name] = _decoder_for(hints[field.name])(data[field.name], field_path)
            elif not _has_default(field):
                _fail(field_path, "a value", None)
        return cls(**values)

    return decode


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return (
        field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    )

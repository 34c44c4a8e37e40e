"""``reg export`` / regedit files: parse, and apply several in order into one snapshot.

Both formats regedit reads are accepted: ``Windows Registry Editor Version 5.00`` (regedit and
``reg export`` write it as UTF-16LE with a BOM) and ``REGEDIT4`` (ANSI). Values: ``dword:``,
strings, ``hex:`` binary, ``hex(b):`` QWORD, ``hex(2):`` expandable and ``hex(7):`` multi-strings,
``hex(4):`` little-endian DWORD, and deletions (``"name"=-`` and ``[-key]``), applied as regedit
would apply them. Lines ending in a backslash continue on the next line.

Every malformed line is an ``InputError`` naming file and line: a file cut short or a file of
another kind must not be read as "these values are absent".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mailtls.advise.errors import InputError
from mailtls.advise.models import RegistryKey, RegistrySnapshot, RegistryValue, RegistryValueKind

HEADER_5 = "Windows Registry Editor Version 5.00"
HEADER_4 = "REGEDIT4"

_ROOTS = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
_FULL_ROOTS = frozenset(_ROOTS.values())
_NAME = re.compile(r'^(?:@|"((?:[^"\\]|\\.)*)")\s*=\s*(.*)$', re.S)
_HEX_TYPE = re.compile(r"^hex(?:\(([0-9a-fA-F]{1,8})\))?:(.*)$", re.S)
_STRING = re.compile(r'^"((?:[^"\\]|\\.)*)"$', re.S)
_HEX_PAIR = re.compile(r"[0-9a-fA-F]{2}")
_DWORD = re.compile(r"^dword:([0-9a-fA-F]{1,8})$")


@dataclass(frozen=True)
class _Operation:
    line: int
    key: str  # normalised path
    delete_key: bool = False
    name: str | None = None  # None: the key line itself
    value: RegistryValue | None = None  # None with a name: delete the value


def normalise_key(path: str) -> str:
    """``HKLM\\X`` -> ``HKEY_LOCAL_MACHINE\\X``; backslashes kept, trailing ones dropped."""
    root, _, rest = path.strip().partition("\\")
    root = _ROOTS.get(root.upper(), root.upper() if root.upper() in _FULL_ROOTS else root)
    return f"{root}\\{rest}".rstrip("\\") if rest else root


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined, each with the number of its first line."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if pending:
            if not line.strip():
                raise _Truncated(start)  # a continuation never ends in a blank line
            line = line.lstrip()
        elif not line.strip():
            continue
        if not pending:
            start = number
        if line.endswith("\\") and not line.lstrip().startswith(("[", ";")):
            pending.append(line[:-1])
            continue
        pending.append(line)
        yield start, "".join(pending)
        pending = []
    if pending:
        raise _Truncated(start)


class _Truncated(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _hex_bytes(text: str, source: str, line: int) -> bytes:
    cleaned = "".join(text.split())
    if not cleaned:
        return b""
    parts = cleaned.split(",")
    if parts[-1] == "":
        parts.pop()
    if any(len(part) != 2 or not _HEX_PAIR.fullmatch(part) for part in parts):
        raise InputError(source, f"malformed hex data {text.strip()[:40]!r}", line)
    return bytes(int(part, 16) for part in parts)


def _text_from(data: bytes, unicode: bool) -> str:
    text = (
        data.decode("utf-16-le", errors="replace") if unicode else data.decode("cp1252", "replace")
    )
    return text


def _parse_value(text: str, name: str, source: str, line: int, unicode: bool) -> RegistryValue:
    origin = f"{source}:{line}"
    text = text.strip()
    if text.startswith('"'):
        quoted = _STRING.match(text)
        if quoted is None:
            raise InputError(source, "string value without its closing quote (truncated?)", line)
        return RegistryValue(name, RegistryValueKind.STRING, _unescape(quoted.group(1)), origin)
    dword = _DWORD.match(text)
    if dword:
        return RegistryValue(name, RegistryValueKind.DWORD, int(dword.group(1), 16), origin)
    hexed = _HEX_TYPE.match(text)
    if hexed is None:
        raise InputError(source, f"unknown value {text[:40]!r}", line)
    kind_number = int(hexed.group(1), 16) if hexed.group(1) else 3
    data = _hex_bytes(hexed.group(2), source, line)
    if kind_number in {0xB, 4}:
        size = 8 if kind_number == 0xB else 4
        if len(data) != size:
            raise InputError(
                source, f"hex({kind_number:x}) needs {size} bytes, not {len(data)}", line
            )
        kind = RegistryValueKind.QWORD if size == 8 else RegistryValueKind.DWORD
        return RegistryValue(name, kind, int.from_bytes(data, "little"), origin)
    if kind_number == 2:
        expanded = _text_from(data, unicode).rstrip("\x00")
        return RegistryValue(name, RegistryValueKind.EXPAND_STRING, expanded, origin)
    if kind_number == 7:
        strings = tuple(s for s in _text_from(data, unicode).split("\x00") if s)
        return RegistryValue(name, RegistryValueKind.MULTI_STRING, strings, origin)
    return RegistryValue(name, RegistryValueKind.BINARY, data, origin)


def parse_registry_export(text: str, source: str) -> tuple[_Operation, ...]:
    """The operations of one file, in order; ``InputError`` for anything regedit would refuse."""
    try:
        lines = list(_logical_lines(text.lstrip("\ufeff")))
    except _Truncated as cut:
        raise InputError(
            source, "a value continues past the end of the file (truncated?)", cut.line
        ) from None
    if not lines:
        raise InputError(source, "empty: not a registry export")
    first_line, header = lines[0]
    if header.strip() == HEADER_5:
        unicode = True
    elif header.strip() == HEADER_4:
        unicode = False
    else:
        raise InputError(
            source,
            f"not a registry export: the first line is {header.strip()[:50]!r}, not "
            f"{HEADER_5!r} or {HEADER_4!r}",
            first_line,
        )
    operations: list[_Operation] = []
    key: str | None = None
    for number, line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise InputError(source, "key line without its closing ']' (truncated?)", number)
            inner = stripped[1:-1]
            delete = inner.startswith("-")
            key = normalise_key(inner[1:] if delete else inner)
            if key.split("\\", 1)[0] not in _FULL_ROOTS:
                raise InputError(source, f"{inner[:60]!r} starts with no registry root", number)
            operations.append(_Operation(number, key, delete_key=delete))
            if delete:
                key = None  # values after a deleted key belong to no key
            continue
        match = _NAME.match(stripped)
        if match is None:
            raise InputError(source, f"not a registry line: {stripped[:50]!r}", number)
        if key is None:
            raise InputError(source, "value outside a key", number)
        name = "" if stripped.startswith("@") else _unescape(match.group(1))
        if match.group(2).strip() == "-":
            operations.append(_Operation(number, key, name=name))
        else:
            value = _parse_value(match.group(2), name, source, number, unicode)
            operations.append(_Operation(number, key, name=name, value=value))
    return tuple(operations)


def merge_registry(files: Sequence[tuple[str, str]]) -> RegistrySnapshot:
    """Apply ``(source, text)`` files in order: later values win, deletions remove."""
    keys: dict[str, dict[str, RegistryValue]] = {}
    paths: dict[str, tuple[str, str]] = {}
    for source, text in files:
        for op in parse_registry_export(text, source):
            lowered = op.key.lower()
            if op.delete_key:
                for existing in [k for k in keys if k == lowered or k.startswith(lowered + "\\")]:
                    del keys[existing]
                    del paths[existing]
                continue
            if lowered not in keys:
                keys[lowered] = {}
                paths[lowered] = (op.key, f"{source}:{op.line}")
            if op.name is None:
                continue
            if op.value is None:
                keys[lowered].pop(op.name.lower(), None)
            else:
                keys[lowered][op.name.lower()] = op.value
    return RegistrySnapshot(
        keys={
            lowered: RegistryKey(paths[lowered][0], dict(values), paths[lowered][1])
            for lowered, values in keys.items()
        },
        sources=tuple(source for source, _ in files),
    )

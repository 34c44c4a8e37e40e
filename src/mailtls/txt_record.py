"""The field grammar the MTA-STS and TLS-RPT TXT records share (RFC 8461 3.1, RFC 8460 3).

Both are a version, then ``name=value`` fields separated by ``;`` with optional spaces and tabs
around it and after the last field, names of one grammar and extension values of visible ASCII
but ``;`` and ``=``::

    ext-name  = (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".")
    ext-value = 1*(%x21-3A / %x3C / %x3E-7E)

Each record module keeps its own version and the fields it knows (``id``, ``rua``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

WSP = " \t"  # the spaces the grammar allows around a separator
_EXTENSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_EXTENSION_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_SHOWN = 80  # characters of a bad field quoted in a problem


def announces(text: str, version: str) -> bool:
    """Whether a TXT record is one of ``version``, by the version and the separator after it."""
    if not text.startswith(version):
        return False
    return text[len(version) :].lstrip(WSP).startswith(";")


def split_fields(after_version: str) -> tuple[str, list[str]]:
    """What stands between the version and the first ``;``, and the fields after it (the
    optional separator at the end dropped)."""
    first, *fields = after_version.split(";")
    if fields and not fields[-1].strip(WSP):
        fields.pop()
    return first, fields


def named_fields(fields: list[str], own: frozenset[str]) -> Iterator[tuple[str, str]]:
    """Each field's name and value, in order; ``ValueError`` at the first that breaks the
    grammar. The values of the names in ``own`` are the caller's to check."""
    for position, raw in enumerate(fields, 1):
        field = raw.strip(WSP)
        if not field:
            raise ValueError(f"field {position} is empty (two ';' in a row)")
        name, equals, value = field.partition("=")
        if not equals or not _EXTENSION_NAME.fullmatch(name):
            raise ValueError(f"field {position} is not name=value: {shown(field)!r}")
        if name not in own and not _EXTENSION_VALUE.fullmatch(value):
            raise ValueError(
                f"the value of {name!r} must be visible ASCII without ';', '=' or spaces: "
                f"{shown(value)!r}"
            )
        yield name, value


def shown(text: str) -> str:
    """A record's text as quoted in a problem: cut after a few dozen characters."""
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"

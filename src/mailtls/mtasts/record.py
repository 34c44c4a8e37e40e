"""The ``_mta-sts`` TXT record (RFC 8461 3.1): does a domain announce a policy, and which id?

The grammar, as senders apply it::

    sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]
    sts-field       = sts-id / sts-extension
    sts-version     = %s"v=STSv1"
    sts-id          = %s"id=" 1*32(ALPHA / DIGIT)     ; required
    sts-sep         = *WSP %x3B *WSP                   ; ";"
    sts-extension   = sts-ext-name "=" sts-ext-value
    sts-ext-name    = (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".")
    sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)     ; visible ASCII but ";" and "="

Names and the version are case-sensitive. Of several TXT records at ``_mta-sts.<domain>``,
senders discard those that do not begin with the version; if not exactly one remains, or that one
is invalid, the domain has no MTA-STS policy for them. An ``id`` given twice counts once, the
first (RFC 8461 3.2's rule for repeated fields, which senders also apply here).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

STS_VERSION: Final = "v=STSv1"

_WSP = " \t"
_EXTENSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXTENSION_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_SHOWN = 80  # characters of a bad field quoted in a problem


@dataclass(frozen=True)
class StsRecord:
    id: str
    extensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StsRecordLookup:
    """What senders make of the TXT records at ``_mta-sts.<domain>``.

    ``record`` set: the one valid record. ``problem`` set: the domain meant to announce a policy
    (a record begins, or nearly begins, with ``v=STSv1``) but senders find none usable. Neither:
    no MTA-STS record at all.
    """

    record: StsRecord | None
    problem: str | None


def parse_sts_record(text: str) -> StsRecord:
    """One ``v=STSv1`` record; ``ValueError`` saying what is wrong with it."""
    if not text.startswith(STS_VERSION):
        raise ValueError(f"the record does not begin with {STS_VERSION!r}: {_shown(text)!r}")
    first, *fields = text[len(STS_VERSION) :].split(";")
    if first.strip(_WSP):
        raise ValueError(f"{STS_VERSION!r} must be followed by ';', not {_shown(first)!r}")
    if fields and not fields[-1].strip(_WSP):
        fields.pop()  # the optional separator at the end
    if not fields:
        raise ValueError("the record has no fields after the version (an id is required)")
    record_id: str | None = None
    extensions: list[tuple[str, str]] = []
    for position, raw in enumerate(fields, 1):
        field = raw.strip(_WSP)
        if not field:
            raise ValueError(f"field {position} is empty (two ';' in a row)")
        name, equals, value = field.partition("=")
        if not equals or not _EXTENSION_NAME.fullmatch(name):
            raise ValueError(f"field {position} is not name=value: {_shown(field)!r}")
        if name == "id":
            if not _ID.fullmatch(value):
                raise ValueError(f"the id must be 1 to 32 letters or digits, not {_shown(value)!r}")
            record_id = record_id or value
        elif not _EXTENSION_VALUE.fullmatch(value):
            raise ValueError(
                f"the value of {name!r} must be visible ASCII without ';', '=' or spaces: "
                f"{_shown(value)!r}"
            )
        else:
            extensions.append((name, value))
    if record_id is None:
        hint = (
            " (field names are case-sensitive: 'id')"
            if any(name.lower() == "id" for name, _ in extensions)
            else ""
        )
        raise ValueError(f"the record has no id field{hint}")
    return StsRecord(id=record_id, extensions=tuple(extensions))


def select_sts_record(texts: Sequence[str]) -> StsRecordLookup:
    """The record senders use among the TXT records at ``_mta-sts.<domain>`` (RFC 8461 3.1)."""
    candidates = [text for text in texts if _announces(text)]
    near_misses = [
        text for text in texts if not _announces(text) and text[:7].lower() == STS_VERSION.lower()
    ]
    if len(candidates) > 1:
        return StsRecordLookup(
            None,
            f"{len(candidates)} TXT records begin with {STS_VERSION!r}: senders use none of them "
            "and act as if there were no policy (RFC 8461 3.1)",
        )
    if not candidates:
        if near_misses:
            text = near_misses[0]
            case = "" if text.startswith(STS_VERSION) else " (the version is case-sensitive)"
            return StsRecordLookup(
                None,
                f"{_shown(text)!r} does not begin with {STS_VERSION!r} followed by ';'{case}: "
                "senders discard it and act as if there were no policy",
            )
        return StsRecordLookup(None, None)
    try:
        return StsRecordLookup(parse_sts_record(candidates[0]), None)
    except ValueError as error:
        return StsRecordLookup(None, f"{error}; senders act as if there were no policy")


def _announces(text: str) -> bool:
    """Whether a TXT record is a ``v=STSv1`` record, by its version and the separator after it."""
    if not text.startswith(STS_VERSION):
        return False
    rest = text[len(STS_VERSION) :]
    return rest.lstrip(_WSP).startswith(";")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"

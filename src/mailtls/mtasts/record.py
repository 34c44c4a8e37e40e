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

from mailtls.txt_record import WSP, announces, named_fields, shown, split_fields

STS_VERSION: Final = "v=STSv1"

_ID = re.compile(r"[A-Za-z0-9]{1,32}")


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
        raise ValueError(f"the record does not begin with {STS_VERSION!r}: {shown(text)!r}")
    first, fields = split_fields(text[len(STS_VERSION) :])
    if first.strip(WSP):
        raise ValueError(f"{STS_VERSION!r} must be followed by ';', not {shown(first)!r}")
    if not fields:
        raise ValueError("the record has no fields after the version (an id is required)")
    record_id: str | None = None
    extensions: list[tuple[str, str]] = []
    for name, value in named_fields(fields, own=frozenset({"id"})):
        if name == "id":
            if not _ID.fullmatch(value):
                raise ValueError(f"the id must be 1 to 32 letters or digits, not {shown(value)!r}")
            record_id = record_id or value
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
    candidates = [text for text in texts if announces(text, STS_VERSION)]
    near_misses = [
        text
        for text in texts
        if not announces(text, STS_VERSION) and text[:7].lower() == STS_VERSION.lower()
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
                f"{shown(text)!r} does not begin with {STS_VERSION!r} followed by ';'{case}: "
                "senders discard it and act as if there were no policy",
            )
        return StsRecordLookup(None, None)
    try:
        return StsRecordLookup(parse_sts_record(candidates[0]), None)
    except ValueError as error:
        return StsRecordLookup(None, f"{error}; senders act as if there were no policy")

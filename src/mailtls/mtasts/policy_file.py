"""The MTA-STS policy file (RFC 8461 3.2) and its MX patterns (RFC 8461 4.1).

The grammar, as senders apply it::

    sts-policy-record        = sts-policy-field *WSP
                               *(sts-policy-term-sep sts-policy-field *WSP)
                               [sts-policy-term-sep]
    sts-policy-field         = version / mode / max_age / mx / extension
    sts-policy-field-delim   = ":" *WSP
    version                  = %s"version" delim %s"STSv1"                 ; required
    mode                     = %s"mode" delim (%s"testing" / %s"enforce" / %s"none")  ; required
    max_age                  = %s"max_age" delim 1*10(DIGIT)                ; required, <= 31557600
    mx                       = %s"mx" delim ["*."] Domain      ; one or more, unless mode is none
    extension                = ext-name delim ext-value                     ; ignored
    ext-name                 = (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".")
    ext-value                = vchar [*(SP / vchar) vchar]       ; visible ASCII or UTF-8
    sts-policy-term-sep      = CRLF / LF

Field names and values are case-sensitive; a field other than ``mx`` given twice counts once,
the first. ``Domain`` is RFC 5321's: letters, digits and hyphens in dot-separated labels, without
a trailing dot. The grammar has no room for blank lines, so a policy with one is invalid for
strict parsers (mox, for one). How large a policy may be is the fetcher's limit.
"""

from __future__ import annotations

import re
from typing import Final

from mailtls.models import MtaStsMode, MtaStsPolicy
from mailtls.tls.names import normalise_host_name

POLICY_VERSION: Final = "STSv1"
MAX_AGE_LIMIT: Final = 31_557_600  # seconds: about a year, the RFC's maximum
RECOMMENDED_MIN_MAX_AGE: Final = 86_400  # a day; RFC 8461 3.2 expects "weeks or greater"

_WSP = " \t"
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_MX_PATTERN = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*")
# sts-policy-vchar: visible ASCII, or any non-ASCII character (UTF-8 in the file).
_EXTENSION_VALUE = re.compile(
    r"[\x21-\x7e\x80-\U0010ffff](?:[\x20-\x7e\x80-\U0010ffff]*[\x21-\x7e\x80-\U0010ffff])?"
)
_REQUIRED = ("version", "mode", "max_age")
_KNOWN = frozenset({*_REQUIRED, "mx"})
_MAX_PROBLEMS = 8  # a megabyte of garbage yields a readable list, not a megabyte of problems
_SHOWN = 60


def parse_policy(text: str) -> tuple[MtaStsPolicy | None, tuple[str, ...]]:
    """The policy, or ``None`` and what is wrong with it (line numbers from 1).

    Problems are given only for an invalid policy, so a policy and problems never come together.
    """
    problems: list[str] = []
    if text.startswith("\ufeff"):
        problems.append("the policy starts with a byte order mark, which is no field name")
        text = text[1:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the optional terminator after the last field
    if not lines:
        return None, ("the policy is empty",)
    values: dict[str, str] = {}
    patterns: list[str] = []
    unknown_names: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.removesuffix("\r")
        problem = _read_field(line, values, patterns, unknown_names)
        if problem is not None:
            problems.append(f"line {number}: {problem}")
    problems.extend(_missing_fields(values, patterns, unknown_names))
    if problems:
        if len(problems) > _MAX_PROBLEMS:
            problems[_MAX_PROBLEMS:] = [f"and {len(problems) - _MAX_PROBLEMS} more problems"]
        return None, tuple(problems)
    return (
        MtaStsPolicy(
            version=values["version"],
            mode=MtaStsMode(values["mode"]),
            mx=tuple(patterns),
            max_age=int(values["max_age"]),
        ),
        (),
    )


def _read_field(
    line: str, values: dict[str, str], patterns: list[str], unknown_names: list[str]
) -> str | None:
    """Record one ``key: value`` line; the problem with it, if any."""
    if not line.strip(_WSP):
        return "blank line (the policy grammar has none between or after fields)"
    name, colon, rest = line.partition(":")
    if not colon:
        return f"no 'key: value' field: {_shown(line)!r}"
    if not _FIELD_NAME.fullmatch(name):
        return f"{_shown(name)!r} is no field name (letters, digits, '_', '-', '.'; no spaces)"
    value = rest.strip(_WSP)
    if name == "mx":
        if not _MX_PATTERN.fullmatch(value):
            return (
                f"mx {_shown(value)!r} is no host name or '*.' pattern "
                "(letters, digits and hyphens in dot-separated labels, no trailing dot)"
            )
        patterns.append(value)
        return None
    if name in _KNOWN:
        problem = _check_known(name, value)
        if problem is not None:
            return problem
        values.setdefault(name, value)  # a repeated field counts once, the first
        return None
    if not _EXTENSION_VALUE.fullmatch(value):
        return f"the value of {_shown(name)!r} is empty or holds control characters"
    unknown_names.append(name)
    return None


def _check_known(name: str, value: str) -> str | None:
    if name == "version" and value != POLICY_VERSION:
        return f"version must be {POLICY_VERSION!r}, not {_shown(value)!r}"
    if name == "mode" and value not in {mode.value for mode in MtaStsMode}:
        return f"mode must be enforce, testing or none, not {_shown(value)!r}"
    if name == "max_age":
        if not _MAX_AGE.fullmatch(value):
            return f"max_age must be a number of seconds (up to 10 digits), not {_shown(value)!r}"
        if int(value) > MAX_AGE_LIMIT:
            return f"max_age {int(value)} is above the maximum of {MAX_AGE_LIMIT} seconds"
    return None


def _missing_fields(
    values: dict[str, str], patterns: list[str], unknown_names: list[str]
) -> list[str]:
    problems = []
    spelled = {name.lower(): name for name in unknown_names}
    for name in _REQUIRED:
        if name not in values:
            hint = (
                f" ({spelled[name]!r} is not it: names are case-sensitive)"
                if name in spelled
                else ""
            )
            problems.append(f"the {name} field is missing{hint}")
    if not patterns and values.get("mode") != MtaStsMode.NONE.value:
        problems.append("no mx field: a policy in enforce or testing mode needs at least one")
    return problems


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """Whether a policy ``mx`` pattern covers an MX host name (RFC 8461 4.1).

    Names are compared case-insensitively, without trailing dots, as A-labels. A leading ``*.``
    stands for exactly one label: ``*.example.com`` covers ``mx.example.com``, but neither
    ``example.com`` nor ``a.mx.example.com``. A ``*`` anywhere else matches nothing.
    """
    reference = normalise_host_name(host)
    if reference is None or "*" in reference:
        return False
    wildcard = pattern.startswith("*.")
    name = normalise_host_name(pattern[2:] if wildcard else pattern)
    if name is None or "*" in name:
        return False
    if not wildcard:
        return reference == name
    label, dot, rest = reference.partition(".")
    return bool(label and dot) and rest == name


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"

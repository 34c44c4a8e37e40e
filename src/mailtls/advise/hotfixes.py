"""Installed Windows updates and the OS identity from built-in command output.

- ``systeminfo`` (English list output): ``OS Name:``, ``OS Version:`` and the ``Hotfix(s):``
  block with its ``[01]: KB3199986`` lines;
- ``Get-HotFix | Export-Csv`` (Windows PowerShell writes a ``#TYPE`` line first, PowerShell 7 does
  not): the ``HotFixID`` column;
- ``wmic qfe list`` in its table shape (columns aligned under a header line) and in its
  ``/format:list`` shape (``HotFixID=KB3199986`` lines).

:func:`parse_hotfixes` recognises the shape from the content. Everything is pure: text in,
values out, ``InputError`` with file and line for anything else.
"""

from __future__ import annotations

import csv
import io
import re

from mailtls.advise.errors import InputError
from mailtls.advise.models import HotfixList, SysteminfoFacts

_KB = re.compile(r"\bKB\d{6,8}\b", re.I)
_SYSTEMINFO_FIELD = re.compile(r"^([A-Za-z][A-Za-z ()/.-]*?):\s*(.*)$")
_HOTFIX_LINE = re.compile(r"^\s*\[\d{1,4}\]:\s*(.*)$")


def parse_systeminfo(text: str, source: str) -> SysteminfoFacts:
    os_name = os_version = None
    kbs: set[str] = set()
    in_hotfixes = False
    saw_hotfix_header = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_hotfixes:
            entry = _HOTFIX_LINE.match(line)
            if entry:
                kbs.update(kb.upper() for kb in _KB.findall(entry.group(1)))
                continue
            in_hotfixes = False
        field = _SYSTEMINFO_FIELD.match(line)
        if field is None:
            continue
        name, value = field.group(1).strip(), field.group(2).strip()
        if name == "OS Name":
            os_name = value
        elif name == "OS Version" and os_version is None:
            os_version = value
        elif name == "Hotfix(s)":
            in_hotfixes = saw_hotfix_header = True
            if not re.match(r"^\d+ Hotfix\(s\) Installed\.?$|^N/A$", value):
                raise InputError(source, f"unexpected Hotfix(s) line {value[:40]!r}", number)
    if os_name is None or os_version is None:
        raise InputError(
            source,
            "no 'OS Name:' and 'OS Version:' lines: not the output of systeminfo (English), "
            "or cut short",
        )
    hotfixes = HotfixList(frozenset(kbs), source, "systeminfo") if saw_hotfix_header else None
    return SysteminfoFacts(os_name, os_version, hotfixes, source)


def _from_csv(text: str, source: str) -> HotfixList:
    lines = text.splitlines()
    start = 1 if lines and lines[0].startswith("#TYPE") else 0
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(source, "CSV without a header line", start + 1) from None
    columns = [column.strip().lower() for column in header]
    if "hotfixid" not in columns:
        raise InputError(source, "CSV without a HotFixID column: not Get-HotFix output", start + 1)
    index = columns.index("hotfixid")
    kbs: set[str] = set()
    for row in reader:
        if len(row) != len(header):
            raise InputError(
                source,
                f"{len(row)} fields where the header has {len(header)} (truncated?)",
                start + reader.line_num,
            )
        kbs.update(kb.upper() for kb in _KB.findall(row[index]))
    return HotfixList(frozenset(kbs), source, "get-hotfix-csv")


def _from_wmic_list(text: str, source: str) -> HotfixList:
    kbs = {
        kb.upper()
        for line in text.splitlines()
        if line.strip().lower().startswith("hotfixid=")
        for kb in _KB.findall(line)
    }
    return HotfixList(frozenset(kbs), source, "wmic-list")


def _from_wmic_table(text: str, source: str, header_index: int) -> HotfixList:
    lines = text.splitlines()
    header = lines[header_index]
    column = header.lower().index("hotfixid")
    kbs: set[str] = set()
    for offset, line in enumerate(lines[header_index + 1 :], start=header_index + 2):
        if not line.strip():
            continue
        cell = (
            line[column:].split(None, 1)[0] if len(line) > column and line[column:].strip() else ""
        )
        if cell and not cell.upper().startswith(("KB", "Q", "FILE")) and not _KB.match(cell):
            raise InputError(
                source, f"no update ID in the HotFixID column: {line.strip()[:50]!r}", offset
            )
        kbs.update(kb.upper() for kb in _KB.findall(cell))
    return HotfixList(frozenset(kbs), source, "wmic-table")


def parse_hotfixes(text: str, source: str) -> HotfixList:
    """Installed updates from Get-HotFix CSV, wmic qfe (table or list) or systeminfo output."""
    lines = text.lstrip("\ufeff").splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError(source, "empty: no list of installed updates")
    head = lines[first]
    if (
        head.startswith("#TYPE")
        or '"hotfixid"' in head.lower()
        or ("," in head and "hotfixid" in head.lower())
    ):
        return _from_csv("\n".join(lines[first:]), source)
    if any(line.strip().lower().startswith("hotfixid=") for line in lines):
        return _from_wmic_list(text, source)
    if "hotfixid" in head.lower():
        return _from_wmic_table("\n".join(lines), source, first)
    if any(line.startswith("Hotfix(s):") for line in lines):
        facts = parse_systeminfo(text, source)
        if facts.hotfixes is not None:
            return facts.hotfixes
    raise InputError(
        source,
        "not a list of installed updates: expected Get-HotFix | Export-Csv, wmic qfe list or "
        f"systeminfo output, found {head.strip()[:50]!r}",
        first + 1,
    )

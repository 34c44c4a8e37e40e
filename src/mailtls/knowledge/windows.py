"""Windows Server releases, TLS updates and registry targets, loaded from ``data/windows.toml``.

:func:`identify_windows` turns what an admin has at hand (a caption such as ``Microsoft Windows
Server 2012 R2 Standard``, a version ``6.3.9600``, a build number ``14393``) into a release of the
data, or says that it cannot: a Windows build the data does not know is never rounded to the
nearest release.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError
from mailtls.models import TlsVersion

DATA_FILE = "windows.toml"
SUPPORTED_SCHEMA = 1

_TLS_KEYS = {
    TlsVersion.TLS1_0: "tls10",
    TlsVersion.TLS1_1: "tls11",
    TlsVersion.TLS1_2: "tls12",
    TlsVersion.TLS1_3: "tls13",
}
_KB = re.compile(r"KB\d{6,8}")
_REGISTRY_ROOT = "HKEY_LOCAL_MACHINE\\"


class ProtocolDefault(StrEnum):
    """Schannel's behaviour for a TLS version when the registry says nothing."""

    ENABLED = "enabled"
    DISABLED = "disabled"  # supported, but off until the registry turns it on
    UNSUPPORTED = "unsupported"


class UpdatePurpose(StrEnum):
    SCHANNEL = "schannel"
    DOTNET35 = "dotnet35"
    WINHTTP = "winhttp"
    EXCHANGE_PREREQUISITE = "exchange_prerequisite"
    RDS = "rds"


@dataclass(frozen=True)
class WindowsUpdate:
    kb: str
    title: str
    what: str
    purpose: UpdatePurpose
    superseded_by_later_updates: bool
    source: str


@dataclass(frozen=True)
class WindowsRelease:
    id: str
    name: str
    version: str  # "6.3"
    builds: tuple[int, ...]
    caption: str  # the words its caption contains
    defaults: Mapping[TlsVersion, ProtocolDefault]
    updates: tuple[str, ...]  # KB numbers, in the order to install
    defaults_source: str
    source: str


@dataclass(frozen=True)
class RegistryTarget:
    group: str
    key: str  # full path, HKEY_LOCAL_MACHINE\...
    values: Mapping[str, int]  # REG_DWORD name -> value, in file order
    source: str


@dataclass(frozen=True)
class EmitKind:
    name: str
    groups: tuple[str, ...]
    winhttp_group: str
    source: str


@dataclass(frozen=True)
class WindowsData:
    releases: tuple[WindowsRelease, ...]
    updates: Mapping[str, WindowsUpdate]
    registry: tuple[RegistryTarget, ...]
    emit: Mapping[str, EmitKind]

    def release(self, release_id: str) -> WindowsRelease:
        for release in self.releases:
            if release.id == release_id:
                return release
        raise KeyError(release_id)

    def targets(self, group: str) -> tuple[RegistryTarget, ...]:
        return tuple(target for target in self.registry if target.group == group)

    def updates_for(self, release: WindowsRelease) -> tuple[WindowsUpdate, ...]:
        return tuple(self.updates[kb] for kb in release.updates)

    def needs_winhttp_value(self, release: WindowsRelease) -> bool:
        return any(u.purpose is UpdatePurpose.WINHTTP for u in self.updates_for(release))


@dataclass(frozen=True)
class WindowsIdentification:
    """What was recognised: a release of the data, or None with the reason in ``detail``."""

    release: WindowsRelease | None
    build: int | None
    caption: str | None
    detail: str


# --- identification -----------------------------------------------------------------------------

_VERSION = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4,5})(?:\.\d+)?(?![\d])")
_BARE_BUILD = re.compile(r"^\s*(\d{4,5})\s*$")
_SERVICE_PACK_2 = re.compile(r"\b(?:SP2|Service Pack 2)\b", re.I)


def _clean_caption(text: str) -> str:
    # systeminfo writes "Microsoft® Windows Server® 2008"; WMI writes "(R)".
    text = text.replace("®", " ").replace("™", " ").replace("(R)", " ").replace("(TM)", " ")
    return " ".join(text.split())


def identify_windows(
    caption: str | None = None,
    version_text: str | None = None,
    data: WindowsData | None = None,
) -> WindowsIdentification:
    """Recognise a release from a caption and/or a version ("6.3.9600", "10.0.14393", "9600").

    Caption and build must agree when both are given; a build decides between releases that share
    a caption (Windows Server 2008 before and after SP2).
    """
    data = data or load_windows()
    build = None
    if version_text:
        match = _VERSION.search(version_text) or _BARE_BUILD.match(version_text)
        if match:
            build = int(match.groups()[-1])
    cleaned = _clean_caption(caption) if caption else None
    by_build = [r for r in data.releases if build is not None and build in r.builds]
    by_caption: list[WindowsRelease] = []
    if cleaned:
        lowered = cleaned.lower()
        matching = [r for r in data.releases if r.caption.lower() in lowered]
        # "Windows Server 2008 R2" also contains "Windows Server 2008": the longest caption wins.
        longest = max((len(r.caption) for r in matching), default=0)
        by_caption = [r for r in matching if len(r.caption) == longest]
        if len(by_caption) > 1 and _SERVICE_PACK_2.search(cleaned):
            by_caption = [r for r in by_caption if r.id.endswith("-sp2")]
    if by_build and by_caption and not {r.id for r in by_build} & {r.id for r in by_caption}:
        return WindowsIdentification(
            None,
            build,
            cleaned,
            f"caption {cleaned!r} and build {build} name different releases "
            f"({by_caption[0].name} / {by_build[0].name})",
        )
    candidates = [r for r in by_build if not by_caption or r in by_caption] or by_caption
    if build is not None and not by_build:
        return WindowsIdentification(
            None, build, cleaned, f"Windows build {build} is not in my data (unknown release)"
        )
    if len(candidates) == 1:
        release = candidates[0]
        return WindowsIdentification(release, build, cleaned, f"{release.name}")
    if len(candidates) > 1:
        names = " or ".join(r.name for r in candidates)
        return WindowsIdentification(
            None, build, cleaned, f"{names}: give the build number (e.g. from systeminfo)"
        )
    shown = cleaned or version_text or ""
    return WindowsIdentification(
        None, build, cleaned, f"{shown!r} names no Windows Server release in my data"
    )


# --- loading ------------------------------------------------------------------------------------


def _source(table: Mapping[str, Any], where: str, key: str = "source") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.startswith("https://"):
        raise KnowledgeError(f"{DATA_FILE}: {where} has no https {key} URL")
    return value


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise KnowledgeError(f"{DATA_FILE}: {where} lacks {key}")
    return value


def _updates(raw: Mapping[str, Any]) -> dict[str, WindowsUpdate]:
    updates: dict[str, WindowsUpdate] = {}
    for index, entry in enumerate(raw.get("updates") or ()):
        where = f"updates[{index}]"
        kb = _text(entry, "kb", where)
        if _KB.fullmatch(kb) is None or kb in updates:
            raise KnowledgeError(f"{DATA_FILE}: {where}: {kb!r} is no new KB number")
        try:
            purpose = UpdatePurpose(entry.get("purpose"))
        except ValueError:
            raise KnowledgeError(f"{DATA_FILE}: {where}: unknown purpose") from None
        updates[kb] = WindowsUpdate(
            kb=kb,
            title=_text(entry, "title", where),
            what=_text(entry, "what", where),
            purpose=purpose,
            superseded_by_later_updates=bool(entry.get("superseded_by_later_updates")),
            source=_source(entry, where),
        )
    return updates


def _releases(raw: Mapping[str, Any], updates: Mapping[str, WindowsUpdate]) -> list[WindowsRelease]:
    releases = []
    for index, entry in enumerate(raw.get("releases") or ()):
        where = f"releases[{index}]"
        try:
            defaults = {v: ProtocolDefault(entry[key]) for v, key in _TLS_KEYS.items()}
        except (KeyError, ValueError) as problem:
            raise KnowledgeError(f"{DATA_FILE}: {where}: TLS default {problem}") from None
        kbs = tuple(str(kb) for kb in entry.get("updates") or ())
        missing = [kb for kb in kbs if kb not in updates]
        if missing:
            raise KnowledgeError(f"{DATA_FILE}: {where} names undescribed updates {missing}")
        builds = tuple(entry.get("builds") or ())
        if not builds or not all(isinstance(b, int) for b in builds):
            raise KnowledgeError(f"{DATA_FILE}: {where} lacks build numbers")
        releases.append(
            WindowsRelease(
                id=_text(entry, "id", where),
                name=_text(entry, "name", where),
                version=_text(entry, "version", where),
                builds=builds,
                caption=_text(entry, "caption", where),
                defaults=defaults,
                updates=kbs,
                defaults_source=_source(entry, where, "defaults_source"),
                source=_source(entry, where),
            )
        )
    if not releases:
        raise KnowledgeError(f"{DATA_FILE}: no [[releases]]")
    return releases


def _registry(raw: Mapping[str, Any]) -> list[RegistryTarget]:
    targets = []
    for index, entry in enumerate(raw.get("registry") or ()):
        where = f"registry[{index}]"
        key = _text(entry, "key", where)
        if not key.startswith(_REGISTRY_ROOT):
            raise KnowledgeError(f"{DATA_FILE}: {where}: key must start with {_REGISTRY_ROOT}")
        values = entry.get("values")
        if not isinstance(values, dict) or not values:
            raise KnowledgeError(f"{DATA_FILE}: {where} has no values")
        for name, value in values.items():
            if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                raise KnowledgeError(f"{DATA_FILE}: {where}: {name} is no REG_DWORD value")
        targets.append(
            RegistryTarget(_text(entry, "group", where), key, dict(values), _source(entry, where))
        )
    return targets


def _emit(raw: Mapping[str, Any], groups: set[str]) -> dict[str, EmitKind]:
    kinds: dict[str, EmitKind] = {}
    for name, entry in (raw.get("emit") or {}).items():
        where = f"emit.{name}"
        named = (*entry.get("groups", ()), _text(entry, "winhttp_group", where))
        unknown = [group for group in named if group not in groups]
        if unknown or not entry.get("groups"):
            raise KnowledgeError(f"{DATA_FILE}: {where} names unknown groups {unknown}")
        kinds[name] = EmitKind(name, tuple(entry["groups"]), named[-1], _source(entry, where))
    return kinds


def parse_windows(raw: Mapping[str, Any]) -> WindowsData:
    """Validate the parsed TOML document (pure; tests feed it tables)."""
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    updates = _updates(raw)
    registry = _registry(raw)
    return WindowsData(
        releases=tuple(_releases(raw, updates)),
        updates=updates,
        registry=tuple(registry),
        emit=_emit(raw, {target.group for target in registry}),
    )


@cache
def load_windows() -> WindowsData:
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_windows(raw)

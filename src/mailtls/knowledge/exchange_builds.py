"""Exchange Server builds and their TLS capabilities, loaded from ``data/exchange_builds.toml``.

:func:`parse_exchange_build` reads a build in any form an admin copies from Exchange:
``15.1.2507.6``, the long ``15.01.2507.006``, ``Version 15.1 (Build 2507.6)`` (AdminDisplayVersion)
or the ``Get-Command ExSetup`` table. :func:`lookup_build` places it against the data and says how
it knows: an exact known build, between two known builds, newer or older than every build known
for its version, or unknown. Capabilities of a build between known ones are those of the known
build below it, because a build never loses what an earlier build of its version had; a build
newer than the data is "at least" the newest known one, and says so.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache, total_ordering
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError

DATA_FILE = "exchange_builds.toml"
SUPPORTED_SCHEMA = 1

# Exchange build parts are small; bounding them keeps garbage ("99999999999.1.1.1") out.
_MAX_PART = 65535
_ADMIN_DISPLAY = re.compile(
    r"Version\s+(\d{1,5})\.(\d{1,5})\s*\(\s*Build\s+(\d{1,5})\.(\d{1,5})\s*\)", re.I
)
_DOTTED = re.compile(r"(?<![\d.])(\d{1,5})\.(\d{1,5})\.(\d{1,5})\.(\d{1,5})(?![\d.])")


class ExchangeCapability(StrEnum):
    """What a build can do with TLS; the first build with each is a milestone in the data."""

    SMTP_ANY_TLS = "smtp_any_tls"  # SMTP no longer hard-coded to SSL 3.0 / TLS 1.0
    TLS12 = "tls12"
    DISABLE_LEGACY = "disable_legacy"  # TLS 1.0/1.1 may be turned off
    TLS13 = "tls13"  # HealthChecker accepts TLS 1.3 enabled (Windows Server 2022+)


class BuildStatus(StrEnum):
    """How a build relates to the data: only ``known`` is an exact fact from a source."""

    KNOWN = "known"
    BETWEEN = "between_known_builds"
    NEWER = "newer_than_data"
    OLDER = "older_than_data"
    UNKNOWN = "unknown"


@total_ordering
@dataclass(frozen=True)
class BuildNumber:
    major: int
    minor: int
    build: int
    revision: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}.{self.revision}"

    @property
    def parts(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.build, self.revision)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, BuildNumber):
            return NotImplemented
        return self.parts < other.parts


@dataclass(frozen=True)
class ExchangeVersion:
    id: str
    name: str
    builds_from: BuildNumber
    builds_below: BuildNumber
    dotnet_runtime: str
    end_of_support: date | None
    end_of_support_source: str | None
    source: str

    def contains(self, build: BuildNumber) -> bool:
        return self.builds_from <= build < self.builds_below


@dataclass(frozen=True)
class KnownBuild:
    version: str
    name: str  # "CU23", "SP3 RU32", or with an update: "CU23 Feb26SU"
    build: BuildNumber
    released: date | None
    source: str


@dataclass(frozen=True)
class Milestone:
    version: str
    capability: ExchangeCapability
    from_name: str
    build: BuildNumber
    note: str
    source: str


@dataclass(frozen=True)
class ExchangeBuildData:
    versions: tuple[ExchangeVersion, ...]
    builds: tuple[KnownBuild, ...]  # every CU/RU and update, sorted by build number
    milestones: tuple[Milestone, ...]

    def version(self, version_id: str) -> ExchangeVersion:
        for version in self.versions:
            if version.id == version_id:
                return version
        raise KeyError(version_id)

    def version_of(self, build: BuildNumber) -> ExchangeVersion | None:
        return next((v for v in self.versions if v.contains(build)), None)

    def builds_of(self, version_id: str) -> tuple[KnownBuild, ...]:
        return tuple(b for b in self.builds if b.version == version_id)

    def milestone(self, version_id: str, capability: ExchangeCapability) -> Milestone | None:
        return next(
            (m for m in self.milestones if m.version == version_id and m.capability == capability),
            None,
        )


@dataclass(frozen=True)
class BuildLookup:
    """Where a build stands, and what it can do as far as the data tells."""

    build: BuildNumber
    status: BuildStatus
    version: ExchangeVersion | None
    exact: KnownBuild | None  # the known build it is (KNOWN)
    floor: KnownBuild | None  # the newest known build not newer than it
    ceiling: KnownBuild | None  # the oldest known build newer than it
    # None: the data cannot tell (unknown build, or a capability without a milestone).
    capabilities: Mapping[ExchangeCapability, bool | None]

    @property
    def description(self) -> str:
        if self.version is None:
            return f"build {self.build} is no Exchange version in my data (unknown)"
        name = self.version.name
        if self.status is BuildStatus.KNOWN and self.exact is not None:
            return f"{name} {self.exact.name} (known build {self.build})"
        if self.status is BuildStatus.BETWEEN and self.floor and self.ceiling:
            return (
                f"{name}, build {self.build}: between known builds {self.floor.name} "
                f"({self.floor.build}) and {self.ceiling.name} ({self.ceiling.build})"
            )
        if self.status is BuildStatus.NEWER and self.floor is not None:
            return (
                f"{name}, build {self.build}: newer than my data (newest known: "
                f"{self.floor.name}, {self.floor.build})"
            )
        if self.status is BuildStatus.OLDER and self.ceiling is not None:
            return (
                f"{name}, build {self.build}: older than every build in my data (oldest "
                f"known: {self.ceiling.name}, {self.ceiling.build})"
            )
        return f"{name}, build {self.build}"


def parse_exchange_build(text: str) -> BuildNumber:
    """The build in ``text``; ``ValueError`` says why none was found.

    ``Version 15.1 (Build 2507.6)`` is tried first: its numbers are not one dotted run.
    Leading zeros of the long form (``15.01.2507.006``) are only formatting.
    """
    admin = _ADMIN_DISPLAY.search(text[:4096])
    match = admin or _DOTTED.search(text[:4096])
    if match is None:
        shown = text.strip()[:60]
        raise ValueError(
            f"no Exchange build number in {shown!r}; expected e.g. 15.1.2507.6, "
            "15.01.2507.006 or 'Version 15.1 (Build 2507.6)'"
        )
    parts = tuple(int(group) for group in match.groups())
    if any(part > _MAX_PART for part in parts):
        raise ValueError(f"{match.group(0)!r} is not a build number (a part is above {_MAX_PART})")
    return BuildNumber(*parts)


def lookup_build(build: BuildNumber, data: ExchangeBuildData | None = None) -> BuildLookup:
    data = data or load_exchange_builds()
    version = data.version_of(build)
    unknown: dict[ExchangeCapability, bool | None] = dict.fromkeys(ExchangeCapability)
    if version is None:
        return BuildLookup(build, BuildStatus.UNKNOWN, None, None, None, None, unknown)
    known = data.builds_of(version.id)
    floor = next((b for b in reversed(known) if b.build <= build), None)
    ceiling = next((b for b in known if b.build > build), None)
    if floor is not None and floor.build == build:
        status, exact = BuildStatus.KNOWN, floor
    elif floor is None:
        status, exact = BuildStatus.OLDER, None
    elif ceiling is None:
        status, exact = BuildStatus.NEWER, None
    else:
        status, exact = BuildStatus.BETWEEN, None
    capabilities: dict[ExchangeCapability, bool | None] = {}
    for capability in ExchangeCapability:
        milestone = data.milestone(version.id, capability)
        # A version without a milestone for it: not a fact the data holds (e.g. SMTP hard-coding
        # was an issue of 2010 and 2013 only; TLS 1.3 is no question for 2013).
        capabilities[capability] = None if milestone is None else build >= milestone.build
    return BuildLookup(build, status, version, exact, floor, ceiling, capabilities)


# --- loading ------------------------------------------------------------------------------------


def _source(table: Mapping[str, Any], where: str, key: str = "source") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.startswith("https://"):
        raise KnowledgeError(f"{DATA_FILE}: {where} has no https {key} URL")
    return value


def _build(text: object, where: str) -> BuildNumber:
    if not isinstance(text, str) or _DOTTED.fullmatch(text) is None:
        raise KnowledgeError(f"{DATA_FILE}: {where}: {text!r} is not a build number a.b.c.d")
    return parse_exchange_build(text)


def _date(text: object, where: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise KnowledgeError(f"{DATA_FILE}: {where}: {text!r} is not a date") from None


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise KnowledgeError(f"{DATA_FILE}: {where} lacks {key}")
    return value


def _versions(raw: Mapping[str, Any]) -> tuple[ExchangeVersion, ...]:
    versions = []
    for index, entry in enumerate(raw.get("versions") or ()):
        where = f"versions[{index}]"
        end = entry.get("end_of_support")
        versions.append(
            ExchangeVersion(
                id=_text(entry, "id", where),
                name=_text(entry, "name", where),
                builds_from=_build(entry.get("builds_from"), where),
                builds_below=_build(entry.get("builds_below"), where),
                dotnet_runtime=_text(entry, "dotnet_runtime", where),
                end_of_support=None if end is None else _date(end, where),
                end_of_support_source=(
                    None if end is None else _source(entry, where, "end_of_support_source")
                ),
                source=_source(entry, where),
            )
        )
    if not versions:
        raise KnowledgeError(f"{DATA_FILE}: no [[versions]]")
    return tuple(versions)


def _builds(raw: Mapping[str, Any], versions: tuple[ExchangeVersion, ...]) -> list[KnownBuild]:
    by_id = {v.id: v for v in versions}
    builds: list[KnownBuild] = []
    for index, entry in enumerate(raw.get("builds") or ()):
        where = f"builds[{index}]"
        version = by_id.get(str(entry.get("version")))
        if version is None:
            raise KnowledgeError(
                f"{DATA_FILE}: {where} names unknown version {entry.get('version')!r}"
            )
        name = _text(entry, "name", where)
        build = _build(entry.get("build"), where)
        if not version.contains(build):
            raise KnowledgeError(f"{DATA_FILE}: {where}: {build} is outside {version.name}")
        previous = [b for b in builds if b.version == version.id]
        if previous and previous[-1].build >= build:
            raise KnowledgeError(
                f"{DATA_FILE}: {where}: {name} is not newer than {previous[-1].name}"
            )
        builds.append(
            KnownBuild(
                version.id, name, build, _date(entry.get("released"), where), _source(entry, where)
            )
        )
        updates = entry.get("updates") or {}
        updates_source = _source(entry, where, "updates_source") if updates else ""
        for update_name, update_build in updates.items():
            update = _build(update_build, f"{where}.updates.{update_name}")
            if update <= build or not version.contains(update):
                raise KnowledgeError(
                    f"{DATA_FILE}: {where}: {update_name} {update} does not follow {name}"
                )
            builds.append(
                KnownBuild(version.id, f"{name} {update_name}", update, None, updates_source)
            )
    builds.sort(key=lambda b: b.build.parts)
    seen: dict[BuildNumber, KnownBuild] = {}
    for known in builds:
        if known.build in seen:
            raise KnowledgeError(
                f"{DATA_FILE}: {known.build} is both {seen[known.build].name} and {known.name}"
            )
        seen[known.build] = known
    return builds


def _milestones(raw: Mapping[str, Any], builds: list[KnownBuild]) -> tuple[Milestone, ...]:
    milestones = []
    for index, entry in enumerate(raw.get("milestones") or ()):
        where = f"milestones[{index}]"
        version_id = _text(entry, "version", where)
        from_name = _text(entry, "from", where)
        try:
            capability = ExchangeCapability(entry.get("capability"))
        except ValueError:
            raise KnowledgeError(f"{DATA_FILE}: {where}: unknown capability") from None
        first = next((b for b in builds if b.version == version_id and b.name == from_name), None)
        if first is None:
            raise KnowledgeError(f"{DATA_FILE}: {where}: no build {from_name!r} of {version_id}")
        milestones.append(
            Milestone(
                version_id,
                capability,
                from_name,
                first.build,
                _text(entry, "note", where),
                _source(entry, where),
            )
        )
    return tuple(milestones)


def parse_exchange_builds(raw: Mapping[str, Any]) -> ExchangeBuildData:
    """Validate the parsed TOML document (pure; tests feed it tables)."""
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    versions = _versions(raw)
    builds = _builds(raw, versions)
    return ExchangeBuildData(versions, tuple(builds), _milestones(raw, builds))


@cache
def load_exchange_builds() -> ExchangeBuildData:
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_exchange_builds(raw)

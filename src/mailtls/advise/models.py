"""Plain values of ``mailtls advise``: what was read from the inputs, and the report.

Frozen dataclasses and ``str`` enums, like ``mailtls.models``; the JSON document and its schema
(``mailtls.advise.schema``) are derived from ``AdviseReport`` and what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mailtls.models import TlsVersion

# Version of the ``mailtls advise --json`` document; bump when a field changes meaning.
ADVISE_SCHEMA_VERSION = "1"


class AdviceSeverity(StrEnum):
    """How much a checklist item matters; the exit code follows the worst one."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {AdviceSeverity.INFO: 0, AdviceSeverity.RECOMMENDED: 1, AdviceSeverity.REQUIRED: 2}[
            self
        ]


class TlsConfiguration(StrEnum):
    """A TLS version's SCHANNEL settings, classified the way Microsoft's HealthChecker does."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    HALF_DISABLED = "half_disabled"
    MISMATCH = "client_server_mismatch"
    VALUE_MISSING = "value_missing"
    INVALID_VALUE = "invalid_value"


class Effect(StrEnum):
    """What Schannel does with a TLS version, counting the Windows default for missing values."""

    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"


class BuildStanding(StrEnum):
    """How an Exchange build relates to the build data; only `known` is an exact fact."""

    KNOWN = "known"
    BETWEEN = "between_known_builds"
    NEWER = "newer_than_data"
    OLDER = "older_than_data"
    UNKNOWN = "unknown"


# --- parsed inputs (not part of the report) ---------------------------------------------------


class RegistryValueKind(StrEnum):
    DWORD = "dword"
    QWORD = "qword"
    STRING = "string"
    EXPAND_STRING = "expand_string"
    MULTI_STRING = "multi_string"
    BINARY = "binary"


@dataclass(frozen=True)
class RegistryValue:
    name: str  # as written; "" for the default value (@)
    kind: RegistryValueKind
    data: int | str | tuple[str, ...] | bytes
    origin: str  # "file:line"


@dataclass(frozen=True)
class RegistryKey:
    path: str  # as written, with HKLM expanded to HKEY_LOCAL_MACHINE
    values: Mapping[str, RegistryValue]  # lower-case name -> value
    origin: str


@dataclass(frozen=True)
class RegistrySnapshot:
    """Several ``reg export`` files applied in order, as regedit would import them."""

    keys: Mapping[str, RegistryKey]  # lower-case path -> key
    sources: tuple[str, ...]

    def key(self, path: str) -> RegistryKey | None:
        return self.keys.get(path.lower())

    def value(self, path: str, name: str) -> RegistryValue | None:
        key = self.key(path)
        return None if key is None else key.values.get(name.lower())

    def covers(self, path: str) -> bool:
        """Whether the export holds this key, a key below it, or a key above it."""
        lowered = path.lower()
        return any(
            k == lowered or k.startswith(lowered + "\\") or lowered.startswith(k + "\\")
            for k in self.keys
        )


@dataclass(frozen=True)
class HotfixList:
    kbs: frozenset[str]  # "KB3154520", upper case
    origin: str  # file name
    format: str  # "systeminfo", "get-hotfix-csv", "wmic-table", "wmic-list"


@dataclass(frozen=True)
class SysteminfoFacts:
    os_name: str | None
    os_version: str | None
    hotfixes: HotfixList | None
    origin: str


@dataclass(frozen=True)
class PostfixSetting:
    name: str
    value: str
    origin: str  # "file:line"


@dataclass(frozen=True)
class PostfixConfig:
    settings: Mapping[str, PostfixSetting]
    origin: str


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSummary:
    """One input the analysis used."""

    kind: str
    name: str
    detail: str


@dataclass(frozen=True)
class ExchangeFacts:
    """The Exchange build given, placed against the build data."""

    build: str
    standing: BuildStanding
    version: str | None
    description: str
    tls12_capable: bool | None
    smtp_limited_to_tls10: bool | None
    can_disable_tls10_tls11: bool | None
    tls13_accepted: bool | None
    end_of_support: str | None
    newest_known_build: str | None


@dataclass(frozen=True)
class WindowsFacts:
    """The Windows release recognised from caption, version or systeminfo."""

    release: str | None
    name: str | None
    build: int | None
    caption: str | None
    detail: str
    installed_updates: tuple[str, ...]


@dataclass(frozen=True)
class TlsVersionState:
    """One TLS version's SCHANNEL values (null: absent) and what they amount to."""

    version: TlsVersion
    configuration: TlsConfiguration
    effect: Effect
    server_enabled: int | None
    server_disabled_by_default: int | None
    client_enabled: int | None
    client_disabled_by_default: int | None
    detail: str


@dataclass(frozen=True)
class DotNetLocation:
    """The TLS values of one .NET Framework registry key (null: absent)."""

    key: str
    runtime: str
    view: str
    system_default_tls_versions: int | None
    sch_use_strong_crypto: int | None


@dataclass(frozen=True)
class DotNetState:
    locations: tuple[DotNetLocation, ...]
    consistent: bool
    detail: str


@dataclass(frozen=True)
class PostfixFacts:
    """The Postfix TLS settings in effect, with the TLS versions each side allows."""

    version: str | None
    openssl: str | None
    server_security_level: str
    client_security_level: str
    protocols: Mapping[str, tuple[TlsVersion, ...]]  # parameter -> TLS versions it allows


@dataclass(frozen=True)
class ChecklistItem:
    """One thing to do (or to know), with why, how and the source of the facts."""

    code: str
    severity: AdviceSeverity
    what: str
    why: str
    how: tuple[str, ...]
    sources: tuple[str, ...]
    evidence: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AdviseReport:
    schema_version: str
    tool_version: str
    generated_at: datetime
    inputs: tuple[InputSummary, ...]
    exchange: ExchangeFacts | None
    windows: WindowsFacts | None
    tls_versions: tuple[TlsVersionState, ...]
    dotnet: DotNetState | None
    postfix: PostfixFacts | None
    checklist: tuple[ChecklistItem, ...]
    exit_code: int

"""From parsed inputs to the report: facts, the ordered checklist, the exit code (pure).

The checklist is ordered for doing: required items before recommended ones before information,
and within each severity in the order an admin works (Windows, its updates, Exchange, SCHANNEL,
.NET, WinHTTP; Postfix on its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from mailtls import __version__
from mailtls.advise.errors import InputError
from mailtls.advise.exchange_checks import exchange_items
from mailtls.advise.models import (
    ADVISE_SCHEMA_VERSION,
    AdviceSeverity,
    AdviseReport,
    ChecklistItem,
    DotNetState,
    ExchangeFacts,
    HotfixList,
    InputSummary,
    PostfixConfig,
    PostfixFacts,
    RegistrySnapshot,
    SysteminfoFacts,
    TlsVersionState,
    WindowsFacts,
)
from mailtls.advise.postfix import SoftwareVersion
from mailtls.advise.postfix_checks import postfix_items
from mailtls.advise.windows_checks import registry_findings, release_items, update_items
from mailtls.knowledge.exchange_builds import BuildLookup, BuildNumber
from mailtls.knowledge.windows import (
    WindowsData,
    WindowsIdentification,
    identify_windows,
    load_windows,
)

EXIT_NOTHING_TO_DO = 0
EXIT_RECOMMENDED = 1
EXIT_REQUIRED = 2

STEP_ORDER = (
    "WINDOWS_TLS12_UNSUPPORTED",
    "WINDOWS_NOT_RECOGNISED",
    "WINDOWS_UPDATE_MISSING",
    "WINDOWS_UPDATES_NOT_CHECKED",
    "EXCHANGE_BUILD_TOO_OLD_FOR_TLS12",
    "EXCHANGE_CANNOT_DISABLE_TLS10_TLS11",
    "EXCHANGE_UPDATE_AVAILABLE",
    "EXCHANGE_OUT_OF_SUPPORT",
    "EXCHANGE_BUILD_NEWER_THAN_DATA",
    "EXCHANGE_BUILD_NOT_IN_DATA",
    "SCHANNEL_TLS12_NOT_ENABLED",
    "SCHANNEL_TLS13_UNSUPPORTED",
    "SCHANNEL_MISCONFIGURED",
    "SCHANNEL_VALUES_MISSING",
    "SCHANNEL_LEGACY_TLS_ENABLED",
    "SCHANNEL_NOT_EXPORTED",
    "DOTNET_NOT_USING_SYSTEM_TLS",
    "DOTNET_VALUES_MISSING",
    "DOTNET_INCONSISTENT",
    "DOTNET_NOT_EXPORTED",
    "WINHTTP_DEFAULT_PROTOCOLS",
    "WINHTTP_NOT_EXPORTED",
    "POSTFIX_OPENSSL_TOO_OLD",
    "POSTFIX_TOO_OLD",
    "POSTFIX_SERVER_TLS_OFF",
    "POSTFIX_CLIENT_TLS_OFF",
    "POSTFIX_BOUNDS_SYNTAX_UNSUPPORTED",
    "POSTFIX_TLS12_EXCLUDED",
    "POSTFIX_PROTOCOLS_UNKNOWN_NAME",
    "POSTFIX_LEGACY_TLS_ALLOWED",
    "POSTFIX_TLS_NOT_LOGGED",
)


@dataclass(frozen=True)
class WindowsText:
    """A ``--windows`` value: a caption, a version or build number, or both in one text."""

    text: str
    origin: str = "--windows"


@dataclass(frozen=True)
class AdviseInputs:
    exchange_build: BuildNumber | None = None
    windows: WindowsText | None = None
    systeminfo: SysteminfoFacts | None = None
    hotfixes: tuple[HotfixList, ...] = ()
    registry: RegistrySnapshot | None = None
    postfix_config: PostfixConfig | None = None
    postfix_version: SoftwareVersion | None = None
    openssl_version: SoftwareVersion | None = None
    summaries: tuple[InputSummary, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (
            self.exchange_build
            or self.windows
            or self.systeminfo
            or self.hotfixes
            or self.registry
            or self.postfix_config
            or self.postfix_version
            or self.openssl_version
        )


def identify(inputs: AdviseInputs, data: WindowsData) -> WindowsIdentification | None:
    """The Windows release from systeminfo and/or --windows; an ``InputError`` if they disagree."""
    found = []
    if inputs.systeminfo is not None:
        info = inputs.systeminfo
        found.append((info.origin, identify_windows(info.os_name, info.os_version, data)))
    if inputs.windows is not None:
        text = inputs.windows.text
        found.append((inputs.windows.origin, identify_windows(text, text, data)))
    if not found:
        return None
    named = [(origin, ident) for origin, ident in found if ident.release is not None]
    if len({ident.release.id for _, ident in named if ident.release}) > 1:
        (first, a), (second, b) = named[0], named[1]
        raise InputError(
            second,
            f"names {b.detail}, but {first} names {a.detail}: which Windows is it?",
        )
    return named[0][1] if named else found[0][1]


def _windows_facts(ident: WindowsIdentification, kbs: frozenset[str]) -> WindowsFacts:
    release = ident.release
    return WindowsFacts(
        release=release.id if release else None,
        name=release.name if release else None,
        build=ident.build,
        caption=ident.caption,
        detail=ident.detail,
        installed_updates=tuple(sorted(kbs)),
    )


def _sorted(items: list[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    order = {code: index for index, code in enumerate(STEP_ORDER)}
    return tuple(
        sorted(items, key=lambda item: (-item.severity.rank, order.get(item.code, len(order))))
    )


def exit_code_for(items: tuple[ChecklistItem, ...]) -> int:
    worst = max((item.severity.rank for item in items), default=0)
    if worst >= AdviceSeverity.REQUIRED.rank:
        return EXIT_REQUIRED
    if worst >= AdviceSeverity.RECOMMENDED.rank:
        return EXIT_RECOMMENDED
    return EXIT_NOTHING_TO_DO


def analyse(
    inputs: AdviseInputs,
    *,
    today: date,
    generated_at: datetime,
    windows_data: WindowsData | None = None,
) -> AdviseReport:
    data = windows_data or load_windows()
    items: list[ChecklistItem] = []
    exchange: ExchangeFacts | None = None
    lookup: BuildLookup | None = None
    if inputs.exchange_build is not None:
        exchange, lookup, found = exchange_items(inputs.exchange_build, today)
        items += found
    hotfix_lists = list(inputs.hotfixes)
    if inputs.systeminfo is not None and inputs.systeminfo.hotfixes is not None:
        hotfix_lists.insert(0, inputs.systeminfo.hotfixes)
    merged = None
    if hotfix_lists:
        merged = HotfixList(
            frozenset().union(*(h.kbs for h in hotfix_lists)),
            ", ".join(h.origin for h in hotfix_lists),
            "+".join(h.format for h in hotfix_lists),
        )
    ident = identify(inputs, data)
    release = ident.release if ident else None
    windows = _windows_facts(ident, merged.kbs if merged else frozenset()) if ident else None
    if ident is not None and release is None:
        items.append(
            ChecklistItem(
                code="WINDOWS_NOT_RECOGNISED",
                severity=AdviceSeverity.INFO,
                what="Windows release not recognised",
                why=f"{ident.detail}. Its TLS defaults and updates are not judged.",
                how=("Give the caption and build as systeminfo prints them (--systeminfo).",),
                sources=(data.releases[0].defaults_source,),
            )
        )
    exchange_2010 = (
        lookup is not None
        and lookup.version is not None
        and (lookup.version.dotnet_runtime == "v2.0.50727")
    )
    if release is not None:
        items += release_items(release, data)
        items += update_items(release, merged, data, exchange_2010)
    tls_versions: tuple[TlsVersionState, ...] = ()
    dotnet: DotNetState | None = None
    if inputs.registry is not None:
        runtime = lookup.version.dotnet_runtime if lookup and lookup.version else None
        findings = registry_findings(inputs.registry, release, lookup, runtime, data)
        tls_versions, dotnet = findings.tls_versions, findings.dotnet
        items += findings.items
    postfix: PostfixFacts | None = None
    if inputs.postfix_config or inputs.postfix_version or inputs.openssl_version:
        postfix, found = postfix_items(
            inputs.postfix_config, inputs.postfix_version, inputs.openssl_version
        )
        items += found
    checklist = _sorted(items)
    return AdviseReport(
        schema_version=ADVISE_SCHEMA_VERSION,
        tool_version=__version__,
        generated_at=generated_at,
        inputs=inputs.summaries,
        exchange=exchange,
        windows=windows,
        tls_versions=tls_versions,
        dotnet=dotnet,
        postfix=postfix,
        checklist=checklist,
        exit_code=exit_code_for(checklist),
    )

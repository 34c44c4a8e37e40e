"""Checklist items about Windows: the release, its updates, SCHANNEL, .NET and WinHTTP values.

Pure: recognised release, installed updates, registry snapshot and Exchange lookup in, items out.
Severities: ``required`` where TLS 1.2 cannot work as configured, ``recommended`` where
Microsoft's guidance or HealthChecker asks for a change, ``info`` for what is fine to know.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailtls.advise.models import (
    AdviceSeverity,
    ChecklistItem,
    DotNetState,
    Effect,
    HotfixList,
    RegistrySnapshot,
    TlsConfiguration,
    TlsVersionState,
)
from mailtls.advise.schannel import (
    INVALID,
    NETFRAMEWORK_KEYS,
    PROTOCOLS_KEY,
    SCHANNEL_KEY,
    WINHTTP_KEYS,
    classify,
    dotnet_state,
    dword,
    version_name,
)
from mailtls.knowledge.exchange_builds import BuildLookup, ExchangeCapability
from mailtls.knowledge.windows import (
    ProtocolDefault,
    UpdatePurpose,
    WindowsData,
    WindowsRelease,
    load_windows,
)
from mailtls.models import TlsVersion

EXCHANGE_TLS_GUIDE = (
    "https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/"
    "security-best-practices/exchange-tls-configuration"
)
HEALTHCHECKER_TLS = (
    "https://github.com/microsoft/CSS-Exchange/blob/f88378b1e7a252e413cb2e579e88411393737c11/"
    "Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1"
)
WINHTTP_TLS12_BIT = 0x800
LEGACY = (TlsVersion.TLS1_0, TlsVersion.TLS1_1)
LOGS_FIRST = (
    "Before turning TLS 1.0/1.1 off, find who still uses them: run `mailtls logs --impact tls12` "
    "on this server's SMTP protocol logs."
)


def reg_export(key: str, file_name: str) -> str:
    """The command that exports a key, as an admin types it."""
    return f'reg export "{key.replace("HKEY_LOCAL_MACHINE", "HKLM", 1)}" {file_name}'


@dataclass(frozen=True)
class WindowsFindings:
    tls_versions: tuple[TlsVersionState, ...]
    dotnet: DotNetState | None
    items: tuple[ChecklistItem, ...]


def release_items(release: WindowsRelease, data: WindowsData) -> list[ChecklistItem]:
    if release.defaults[TlsVersion.TLS1_2] is not ProtocolDefault.UNSUPPORTED:
        return []
    successors = [
        r
        for r in data.releases
        if r.version == release.version
        and r.defaults[TlsVersion.TLS1_2] is not ProtocolDefault.UNSUPPORTED
    ]
    how = [
        f"Bring it to {r.name}, then install "
        + ", ".join(u.kb for u in data.updates_for(r) if u.purpose is UpdatePurpose.SCHANNEL)
        for r in successors
    ] or ["Move mail to a server on a newer Windows release."]
    return [
        ChecklistItem(
            code="WINDOWS_TLS12_UNSUPPORTED",
            severity=AdviceSeverity.REQUIRED,
            what=f"{release.name} cannot do TLS 1.2",
            why="Schannel on this release does not support TLS 1.1 or 1.2 at all.",
            how=tuple(how),
            sources=(release.defaults_source,),
        )
    ]


def update_items(
    release: WindowsRelease,
    hotfixes: HotfixList | None,
    data: WindowsData,
    exchange_2010: bool,
) -> list[ChecklistItem]:
    updates = data.updates_for(release)
    if not updates:
        return []
    if hotfixes is None:
        return [
            ChecklistItem(
                code="WINDOWS_UPDATES_NOT_CHECKED",
                severity=AdviceSeverity.INFO,
                what=f"Check that {release.name} has " + ", ".join(u.kb for u in updates),
                why="No list of installed updates was given (--hotfixes or --systeminfo).",
                how=tuple(f"{u.kb}: {u.what}" for u in updates),
                sources=tuple(dict.fromkeys(u.source for u in updates)),
            )
        ]
    items = []
    for update in updates:
        if update.kb in hotfixes.kbs:
            continue
        if update.purpose is UpdatePurpose.SCHANNEL:
            severity = AdviceSeverity.REQUIRED
        elif update.purpose is UpdatePurpose.RDS:
            severity = AdviceSeverity.INFO
        elif update.purpose is UpdatePurpose.DOTNET35 and exchange_2010:
            severity = AdviceSeverity.REQUIRED
        else:
            severity = AdviceSeverity.RECOMMENDED
        note = (
            " Later .NET Framework updates supersede it, so a server that is current on "
            "Windows Update may have its fix without listing this number."
            if update.superseded_by_later_updates
            else " A later cumulative update may include it; if so, nothing to install."
        )
        items.append(
            ChecklistItem(
                code="WINDOWS_UPDATE_MISSING",
                severity=severity,
                what=f"Install {update.kb}: {update.title}",
                why=f"{update.kb} is not in the installed updates ({hotfixes.origin}). "
                f"{update.what}{note}",
                how=(f"Install {update.kb} from Windows Update or the Microsoft Update Catalog.",),
                sources=(update.source,),
                evidence=(hotfixes.origin,),
            )
        )
    return items


def _schannel_items(
    states: list[TlsVersionState],
    release: WindowsRelease | None,
    exchange: BuildLookup | None,
    origin: str,
) -> list[ChecklistItem]:
    items: list[ChecklistItem] = []
    by_version = {s.version: s for s in states}
    tls12 = by_version[TlsVersion.TLS1_2]
    broken = (
        TlsConfiguration.DISABLED,
        TlsConfiguration.HALF_DISABLED,
        TlsConfiguration.MISMATCH,
        TlsConfiguration.INVALID_VALUE,
    )
    supported = (
        release is None or release.defaults[TlsVersion.TLS1_2] is not ProtocolDefault.UNSUPPORTED
    )
    if supported and (
        tls12.configuration in broken
        or (tls12.configuration is TlsConfiguration.VALUE_MISSING and tls12.effect is not Effect.ON)
    ):
        items.append(
            ChecklistItem(
                code="SCHANNEL_TLS12_NOT_ENABLED",
                severity=AdviceSeverity.REQUIRED,
                what="Enable TLS 1.2 in SCHANNEL, Client and Server",
                why=f"{tls12.detail}. Exchange Online accepts only TLS 1.2 or newer.",
                how=(
                    "Write the values with `mailtls advise --emit-reg enable-tls12 --output "
                    "tls12.reg`, import the file with regedit and restart the server.",
                    "Target: TLS 1.2\\Client and TLS 1.2\\Server: Enabled=1, DisabledByDefault=0.",
                ),
                sources=(EXCHANGE_TLS_GUIDE, HEALTHCHECKER_TLS),
                evidence=(origin,),
            )
        )
    missing = [
        s
        for s in states
        if s.configuration is TlsConfiguration.VALUE_MISSING
        and s.version is not TlsVersion.TLS1_3
        and not (s is tls12 and items)
    ]
    if missing:
        items.append(
            ChecklistItem(
                code="SCHANNEL_VALUES_MISSING",
                severity=AdviceSeverity.RECOMMENDED,
                what="Set Enabled and DisabledByDefault for "
                + ", ".join(version_name(s.version) for s in missing),
                why="Without explicit values the result depends on the Windows release and its "
                "updates; HealthChecker reports every missing value as an error. "
                + " ".join(s.detail + "." for s in missing),
                how=(
                    "For versions to keep: Enabled=1, DisabledByDefault=0; for versions to turn "
                    "off: Enabled=0, DisabledByDefault=1, on both Client and Server.",
                ),
                sources=(HEALTHCHECKER_TLS, EXCHANGE_TLS_GUIDE),
                evidence=(origin,),
            )
        )
    for state in (by_version[v] for v in LEGACY):
        if state.configuration in broken and state.configuration is not TlsConfiguration.DISABLED:
            items.append(
                ChecklistItem(
                    code="SCHANNEL_MISCONFIGURED",
                    severity=AdviceSeverity.RECOMMENDED,
                    what=f"Make the {version_name(state.version)} values consistent",
                    why=f"{state.detail}. Exchange is both SMTP client and server; HealthChecker "
                    "reports this as an error.",
                    how=(
                        "Keep: Enabled=1, DisabledByDefault=0; turn off: Enabled=0, "
                        "DisabledByDefault=1; the same on Client and Server.",
                    ),
                    sources=(HEALTHCHECKER_TLS,),
                    evidence=(origin,),
                )
            )
    legacy_on = [by_version[v] for v in LEGACY if by_version[v].effect is Effect.ON]
    if legacy_on:
        can_disable = exchange is None or exchange.capabilities[ExchangeCapability.DISABLE_LEGACY]
        how = [LOGS_FIRST]
        if can_disable is False:
            how.append("This Exchange build cannot run without TLS 1.0/1.1: update it first.")
        else:
            how.append(
                "Then write the values with `mailtls advise --emit-reg disable-tls10-tls11 "
                "--output legacy-off.reg`, import it and restart."
            )
        items.append(
            ChecklistItem(
                code="SCHANNEL_LEGACY_TLS_ENABLED",
                severity=AdviceSeverity.INFO,
                what=", ".join(version_name(s.version) for s in legacy_on) + " still enabled",
                why="Not a problem for mail with Exchange Online, which uses TLS 1.2; Microsoft "
                "recommends removing TLS 1.0/1.1 dependencies and then turning them off.",
                how=tuple(how),
                sources=(HEALTHCHECKER_TLS, EXCHANGE_TLS_GUIDE),
                evidence=(origin,),
            )
        )
    legacy_off = [
        by_version[v] for v in LEGACY if by_version[v].configuration is TlsConfiguration.DISABLED
    ]
    if (
        legacy_off
        and exchange is not None
        and exchange.capabilities[ExchangeCapability.DISABLE_LEGACY] is False
    ):
        items.append(
            ChecklistItem(
                code="EXCHANGE_CANNOT_DISABLE_TLS10_TLS11",
                severity=AdviceSeverity.REQUIRED,
                what="Update Exchange, or turn TLS 1.0/1.1 back on",
                why=f"{exchange.description}: this build does not support running with TLS "
                "1.0/1.1 turned off, and they are off.",
                how=("Install the update named in the Exchange item first.",),
                sources=(EXCHANGE_TLS_GUIDE,),
                evidence=(origin,),
            )
        )
    items.extend(_tls13_items(by_version[TlsVersion.TLS1_3], release, exchange, origin))
    return items


def _tls13_items(
    state: TlsVersionState,
    release: WindowsRelease | None,
    exchange: BuildLookup | None,
    origin: str,
) -> list[ChecklistItem]:
    if state.configuration in (TlsConfiguration.DISABLED, TlsConfiguration.VALUE_MISSING):
        # HealthChecker counts an absent TLS 1.3 key as disabled.
        return []
    if release is not None and release.defaults[TlsVersion.TLS1_3] is ProtocolDefault.UNSUPPORTED:
        why = (
            f"{state.detail}. TLS 1.3 is supported from Windows Server 2022 on; on "
            f"{release.name} enabling it is not a safe configuration."
        )
        source = release.defaults_source
    elif exchange is not None and exchange.capabilities[ExchangeCapability.TLS13] is not True:
        why = (
            f"{state.detail}. HealthChecker: TLS 1.3 is supported from Exchange 2019 CU15 / SE "
            "on Windows Server 2022 or later, and known to cause issues otherwise "
            f"({exchange.description})."
        )
        source = HEALTHCHECKER_TLS
    else:
        return []
    return [
        ChecklistItem(
            code="SCHANNEL_TLS13_UNSUPPORTED",
            severity=AdviceSeverity.REQUIRED,
            what="Disable TLS 1.3 in SCHANNEL, Client and Server",
            why=why,
            how=("TLS 1.3\\Client and TLS 1.3\\Server: Enabled=0, DisabledByDefault=1; restart.",),
            sources=(source,),
            evidence=(origin,),
        )
    ]


def _dotnet_items(
    state: DotNetState, legacy_disabled: bool, dotnet_runtime: str | None, origin: str
) -> list[ChecklistItem]:
    items: list[ChecklistItem] = []
    v4 = [loc for loc in state.locations if loc.runtime == "v4.0.30319"]
    missing = [
        f"{loc.key}\\{name}"
        for loc in v4
        for name, value in (
            ("SystemDefaultTlsVersions", loc.system_default_tls_versions),
            ("SchUseStrongCrypto", loc.sch_use_strong_crypto),
        )
        if value is None
    ]
    not_one = [
        loc
        for loc in state.locations
        if (loc.runtime == "v4.0.30319" and legacy_disabled)
        or (loc.runtime == dotnet_runtime == "v2.0.50727")
        if loc.system_default_tls_versions != 1
        or (loc.runtime == "v4.0.30319" and loc.sch_use_strong_crypto != 1)
    ]
    if not_one:
        why = (
            "TLS 1.0/1.1 are turned off, so .NET 4 code that does not inherit the Windows TLS "
            "versions loses its connections (HealthChecker reports an error)."
            if legacy_disabled
            else "Exchange 2010 runs on .NET Framework 3.5, which stays on SSL 3.0/TLS 1.0 "
            "unless SystemDefaultTlsVersions=1 lets it use what Windows offers."
        )
        items.append(
            ChecklistItem(
                code="DOTNET_NOT_USING_SYSTEM_TLS",
                severity=AdviceSeverity.REQUIRED,
                what="Set SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1 for .NET",
                why=why,
                how=(
                    "`mailtls advise --emit-reg enable-tls12` writes both values under "
                    "v4.0.30319 and v2.0.50727, normal and Wow6432Node; import and restart.",
                    *(f"Not 1 now: {loc.key}" for loc in not_one),
                ),
                sources=(EXCHANGE_TLS_GUIDE, HEALTHCHECKER_TLS),
                evidence=(origin,),
            )
        )
    if missing and not items:
        items.append(
            ChecklistItem(
                code="DOTNET_VALUES_MISSING",
                severity=AdviceSeverity.RECOMMENDED,
                what="Define the .NET 4 TLS values in both registry views",
                why="Undefined, .NET 4 behaves as if SystemDefaultTlsVersions were 0; "
                "HealthChecker reports each missing value as an error.",
                how=(
                    "Set SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1 (REG_DWORD).",
                    *(f"Missing: {name}" for name in missing),
                ),
                sources=(EXCHANGE_TLS_GUIDE, HEALTHCHECKER_TLS),
                evidence=(origin,),
            )
        )
    if not state.consistent:
        items.append(
            ChecklistItem(
                code="DOTNET_INCONSISTENT",
                severity=AdviceSeverity.RECOMMENDED,
                what="Make the .NET TLS values the same in v4.0.30319 and v2.0.50727, both views",
                why="Microsoft recommends configuring .NET 3.5 identically to .NET 4.x for a "
                "consistent configuration; 32-bit and 64-bit processes read different keys.",
                how=("Set SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1 in all four keys.",),
                sources=(EXCHANGE_TLS_GUIDE,),
                evidence=(origin,),
            )
        )
    return items


def _winhttp_items(
    snapshot: RegistrySnapshot, release: WindowsRelease, data: WindowsData, origin: str
) -> list[ChecklistItem]:
    if not data.needs_winhttp_value(release):
        return []
    update = next(u for u in data.updates_for(release) if u.purpose is UpdatePurpose.WINHTTP)
    if not any(snapshot.covers(key) for key in WINHTTP_KEYS):
        return [
            ChecklistItem(
                code="WINHTTP_NOT_EXPORTED",
                severity=AdviceSeverity.INFO,
                what="Export the WinHttp keys too",
                why=f"On {release.name} WinHTTP clients use TLS 1.2 only with "
                f"DefaultSecureProtocols ({update.kb}).",
                how=(
                    reg_export(WINHTTP_KEYS[0], "winhttp.reg"),
                    reg_export(WINHTTP_KEYS[1], "winhttp-wow.reg"),
                ),
                sources=(update.source,),
            )
        ]
    lacking = [
        key
        for key in WINHTTP_KEYS
        if (value := dword(snapshot, key, "DefaultSecureProtocols")) is None
        or value == INVALID
        or not value & WINHTTP_TLS12_BIT
    ]
    if not lacking:
        return []
    return [
        ChecklistItem(
            code="WINHTTP_DEFAULT_PROTOCOLS",
            severity=AdviceSeverity.RECOMMENDED,
            what="Let WinHTTP use TLS 1.2 by default (DefaultSecureProtocols)",
            why=f"{update.what}",
            how=(
                f"Install {update.kb}, then set DefaultSecureProtocols=0x00000A00 (TLS 1.1 + 1.2) "
                "in both keys; `mailtls advise --windows ... --emit-reg enable-tls12` writes them.",
                *(f"Not set to include TLS 1.2: {key}" for key in lacking),
            ),
            sources=(update.source,),
            evidence=(origin,),
        )
    ]


def _files_with(snapshot: RegistrySnapshot, prefixes: tuple[str, ...]) -> str:
    """The files that hold keys at or below any of the prefixes, in the order given."""
    lowered = tuple(prefix.lower() for prefix in prefixes)
    files = {
        key.origin.rsplit(":", 1)[0]
        for path, key in snapshot.keys.items()
        if any(path == p or path.startswith(p + "\\") for p in lowered)
    }
    return ", ".join(source for source in snapshot.sources if source in files)


def registry_findings(
    snapshot: RegistrySnapshot,
    release: WindowsRelease | None,
    exchange: BuildLookup | None,
    dotnet_runtime: str | None,
    data: WindowsData | None = None,
) -> WindowsFindings:
    data = data or load_windows()
    origin = _files_with(snapshot, (PROTOCOLS_KEY,))
    dotnet_origin = _files_with(snapshot, NETFRAMEWORK_KEYS)
    winhttp_origin = _files_with(snapshot, WINHTTP_KEYS)
    items: list[ChecklistItem] = []
    states: list[TlsVersionState] = []
    if snapshot.covers(PROTOCOLS_KEY):
        states = [classify(snapshot, version, release) for version in TlsVersion]
        items += _schannel_items(states, release, exchange, origin)
    else:
        items.append(
            ChecklistItem(
                code="SCHANNEL_NOT_EXPORTED",
                severity=AdviceSeverity.INFO,
                what="Export the SCHANNEL key too",
                why="The registry files hold no SCHANNEL\\Protocols key, so the TLS versions of "
                "Windows could not be checked.",
                how=(reg_export(SCHANNEL_KEY, "schannel.reg"),),
                sources=(EXCHANGE_TLS_GUIDE,),
            )
        )
    dotnet = None
    if any(snapshot.covers(key) for key in NETFRAMEWORK_KEYS):
        dotnet = dotnet_state(snapshot)
        legacy_disabled = any(
            s.configuration is TlsConfiguration.DISABLED for s in states if s.version in LEGACY
        )
        items += _dotnet_items(dotnet, legacy_disabled, dotnet_runtime, dotnet_origin)
    else:
        items.append(
            ChecklistItem(
                code="DOTNET_NOT_EXPORTED",
                severity=AdviceSeverity.INFO,
                what="Export the .NETFramework keys too (both views)",
                why="The registry files hold no .NETFramework key, so the .NET TLS values could "
                "not be checked.",
                how=(
                    reg_export(NETFRAMEWORK_KEYS[0], "netfx.reg"),
                    reg_export(NETFRAMEWORK_KEYS[1], "netfx-wow.reg"),
                ),
                sources=(EXCHANGE_TLS_GUIDE,),
            )
        )
    if release is not None:
        items += _winhttp_items(snapshot, release, data, winhttp_origin)
    return WindowsFindings(tuple(states), dotnet, tuple(items))

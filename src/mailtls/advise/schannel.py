"""SCHANNEL protocol values and .NET Framework TLS values, read from a registry snapshot.

The classification follows Microsoft's HealthChecker (``Get-AllTlsSettingsFromRegistry.ps1``):
per TLS version, Client and Server ``Enabled``/``DisabledByDefault`` give Enabled (1/0 on both
sides), Disabled (0/1 on both sides), Half Disabled (Enabled and DisabledByDefault contradict),
or a client/server mismatch. Where HealthChecker fills absent values with defaults, mailtls says
"value missing" and works out the effect from the Windows release's default instead, because the
default differs between releases (TLS 1.2 is off on Windows Server 2008 R2 until turned on).
"""

from __future__ import annotations

from mailtls.advise.models import (
    DotNetLocation,
    DotNetState,
    Effect,
    RegistrySnapshot,
    RegistryValueKind,
    TlsConfiguration,
    TlsVersionState,
)
from mailtls.knowledge.windows import ProtocolDefault, WindowsRelease
from mailtls.models import TlsVersion

SCHANNEL_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL"
PROTOCOLS_KEY = SCHANNEL_KEY + "\\Protocols"
NETFRAMEWORK_KEYS = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework",
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework",
)
_WINHTTP_BELOW_SOFTWARE = "Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp"
WINHTTP_KEYS = (
    f"HKEY_LOCAL_MACHINE\\SOFTWARE\\{_WINHTTP_BELOW_SOFTWARE}",
    f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\{_WINHTTP_BELOW_SOFTWARE}",
)
DOTNET_RUNTIMES = ("v4.0.30319", "v2.0.50727")
_VERSION_NAMES = {
    TlsVersion.TLS1_0: "TLS 1.0",
    TlsVersion.TLS1_1: "TLS 1.1",
    TlsVersion.TLS1_2: "TLS 1.2",
    TlsVersion.TLS1_3: "TLS 1.3",
}
INVALID = -1  # a value of another type than REG_DWORD


def version_name(version: TlsVersion) -> str:
    return _VERSION_NAMES[version]


def protocol_key(version: TlsVersion, side: str) -> str:
    return f"{PROTOCOLS_KEY}\\{version_name(version)}\\{side}"


def dword(snapshot: RegistrySnapshot, key: str, name: str) -> int | None:
    """The value as a number; None when absent, ``INVALID`` when not a REG_DWORD."""
    value = snapshot.value(key, name)
    if value is None:
        return None
    if value.kind is not RegistryValueKind.DWORD or not isinstance(value.data, int):
        return INVALID
    return value.data


def _side_effect(enabled: int | None, disabled_by_default: int | None, default: Effect) -> Effect:
    """One side (Client or Server): Enabled=0 turns a version off; DisabledByDefault decides
    whether it is used without an application asking for it, and its absence means the
    release's default ("disabled" releases behave as if it were 1)."""
    if INVALID in (enabled, disabled_by_default):
        return Effect.UNKNOWN
    if enabled == 0:
        return Effect.OFF
    if disabled_by_default is None:
        return default
    return Effect.OFF if disabled_by_default != 0 else Effect.ON


def classify(
    snapshot: RegistrySnapshot, version: TlsVersion, release: WindowsRelease | None
) -> TlsVersionState:
    server_e = dword(snapshot, protocol_key(version, "Server"), "Enabled")
    server_d = dword(snapshot, protocol_key(version, "Server"), "DisabledByDefault")
    client_e = dword(snapshot, protocol_key(version, "Client"), "Enabled")
    client_d = dword(snapshot, protocol_key(version, "Client"), "DisabledByDefault")
    values = (server_e, server_d, client_e, client_d)
    default = _default_effect(version, release)
    if release is not None and release.defaults[version] is ProtocolDefault.UNSUPPORTED:
        effect = Effect.OFF
    else:
        server = _side_effect(server_e, server_d, default)
        client = _side_effect(client_e, client_d, default)
        effect = server if server == client else Effect.UNKNOWN
    name = version_name(version)
    if any(v is not None and v not in (0, 1) for v in values):
        configuration = TlsConfiguration.INVALID_VALUE
        detail = f"{name}: a value is not a REG_DWORD of 0 or 1"
    elif None in values:
        configuration = TlsConfiguration.VALUE_MISSING
        missing = [
            label
            for label, value in zip(
                (
                    "Server Enabled",
                    "Server DisabledByDefault",
                    "Client Enabled",
                    "Client DisabledByDefault",
                ),
                values,
                strict=True,
            )
            if value is None
        ]
        detail = f"{name}: {', '.join(missing)} not set; {_default_words(version, release)}"
    elif server_e != client_e or server_d != client_d:
        configuration = TlsConfiguration.MISMATCH
        detail = f"{name}: Client and Server differ (Exchange is both an SMTP client and server)"
    elif server_e == 1 and server_d == 0:
        configuration = TlsConfiguration.ENABLED
        detail = f"{name}: enabled on both sides"
    elif server_e == 0 and server_d == 1:
        configuration = TlsConfiguration.DISABLED
        detail = f"{name}: disabled on both sides"
    else:
        configuration = TlsConfiguration.HALF_DISABLED
        detail = f"{name}: Enabled and DisabledByDefault contradict each other"
    return TlsVersionState(version, configuration, effect, *values, detail=detail)


def _default_effect(version: TlsVersion, release: WindowsRelease | None) -> Effect:
    if release is None:
        return Effect.UNKNOWN
    return Effect.ON if release.defaults[version] is ProtocolDefault.ENABLED else Effect.OFF


def _default_words(version: TlsVersion, release: WindowsRelease | None) -> str:
    if release is None:
        return "the Windows default applies (Windows release not given)"
    default = release.defaults[version]
    return f"the {release.name} default applies: {default.value}"


def dotnet_state(snapshot: RegistrySnapshot) -> DotNetState:
    locations = []
    for runtime in DOTNET_RUNTIMES:
        for base, view in zip(NETFRAMEWORK_KEYS, ("64-bit", "32-bit (Wow6432Node)"), strict=True):
            key = f"{base}\\{runtime}"
            locations.append(
                DotNetLocation(
                    key=key,
                    runtime=runtime,
                    view=view,
                    system_default_tls_versions=dword(snapshot, key, "SystemDefaultTlsVersions"),
                    sch_use_strong_crypto=dword(snapshot, key, "SchUseStrongCrypto"),
                )
            )
    seen = {(loc.system_default_tls_versions, loc.sch_use_strong_crypto) for loc in locations}
    consistent = len(seen) == 1
    detail = (
        "the same values in both runtimes and both views"
        if consistent
        else "the values differ between runtimes or between the 64-bit and 32-bit views"
    )
    return DotNetState(tuple(locations), consistent, detail)

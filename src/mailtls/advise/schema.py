"""The JSON Schema (draft 2020-12) of ``mailtls advise --json``, generated from its models.

``mailtls.schema``'s generator, which also writes the schemas of ``check`` and ``logs``, walks the
type hints of ``AdviseReport`` and what it holds and applies the conversion rules of
``mailtls.render.jsonout`` (enum values, UTC timestamps, arrays for tuples, objects for
mappings), so a field added to a model shows up here. Only the prose lives here.
``docs/schema/advise-v1.json`` is this schema, committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum

from mailtls.advise.models import (
    ADVISE_SCHEMA_VERSION,
    AdviceSeverity,
    AdviseReport,
    BuildStanding,
    ChecklistItem,
    DotNetLocation,
    DotNetState,
    Effect,
    ExchangeFacts,
    InputSummary,
    PostfixFacts,
    TlsConfiguration,
    TlsVersionState,
    WindowsFacts,
)
from mailtls.models import TlsVersion
from mailtls.schema import JsonSchema, SchemaProse, document_schema

ADVISE_SCHEMA_ID = f"urn:mailtls:schema:advise:v{ADVISE_SCHEMA_VERSION}"

_DOCUMENT = """\
The result of `mailtls advise`: what was read from the inputs (Exchange build, Windows release \
and installed updates, SCHANNEL/.NET/WinHTTP registry values, Postfix configuration and \
versions), per TLS version a HealthChecker-like classification of the SCHANNEL values, and an \
ordered checklist of what to change, each item with why, how, severity and sources. Every field \
is always present; a value that was not given or cannot be told is `null`."""

_CLASS_DOCS: Mapping[type, str] = {
    AdviseReport: "One run of `mailtls advise`.",
    TlsVersion: "A TLS protocol version, named as OpenSSL names it.",
    DotNetState: "The .NET Framework TLS values of both runtimes and both registry views.",
}

_FIELD_DOCS: Mapping[type, Mapping[str, str]] = {
    AdviseReport: {
        "schema_version": "Version of this document's schema.",
        "tool_version": "Version of mailtls that produced the document.",
        "generated_at": "When the document was produced.",
        "inputs": "Every input used, in the order given.",
        "exchange": "The Exchange build given; null without --exchange-build.",
        "windows": "The Windows release recognised; null without Windows input.",
        "tls_versions": "SCHANNEL state of TLS 1.0 to 1.3; empty without a SCHANNEL export.",
        "dotnet": "The .NET TLS values; null without a .NETFramework export.",
        "postfix": "The Postfix TLS settings; null without Postfix input.",
        "checklist": "What to do: required items first, then recommended, then information.",
        "exit_code": "0 nothing to do, 1 recommended changes, 2 required changes.",
    },
    InputSummary: {
        "kind": "What the input is: exchange-build, windows, systeminfo, hotfixes, registry, "
        "postconf, postfix-version, openssl-version.",
        "name": "The file, or the option that carried the value.",
        "detail": "What was read from it.",
    },
    ExchangeFacts: {
        "build": "The build, normalised (15.1.2507.6).",
        "standing": "How the build relates to the build data.",
        "version": "The Exchange version; null when unknown.",
        "description": "The build in words, as placed against the data.",
        "tls12_capable": "Whether the build supports TLS 1.2; null when the data cannot tell.",
        "smtp_limited_to_tls10": "Whether SMTP is hard-coded to SSL 3.0/TLS 1.0 (Exchange 2010 "
        "before SP3 RU9, 2013 before CU8); null where the question does not apply.",
        "can_disable_tls10_tls11": "Whether the build may run with TLS 1.0/1.1 turned off.",
        "tls13_accepted": "Whether HealthChecker accepts TLS 1.3 enabled with this build "
        "(Windows Server 2022+); null where the question does not apply.",
        "end_of_support": "The date support ended (ISO 8601); null if none is known.",
        "newest_known_build": "The newest build of this version in the data.",
    },
    WindowsFacts: {
        "release": "The release id (windows-server-2012-r2); null when not recognised.",
        "name": "The release's name; null when not recognised.",
        "build": "The Windows build number given; null if none.",
        "caption": "The caption given, cleaned; null if none.",
        "detail": "What was recognised, or why nothing was.",
        "installed_updates": "KB numbers listed as installed, sorted.",
    },
    TlsVersionState: {
        "version": "The TLS version.",
        "configuration": "The classification of its SCHANNEL values.",
        "effect": "Whether Schannel uses the version by default, counting the Windows default "
        "for values not set.",
        "server_enabled": "Server `Enabled` (null: not set; -1: not a REG_DWORD).",
        "server_disabled_by_default": "Server `DisabledByDefault` (null: not set; -1: not a "
        "REG_DWORD).",
        "client_enabled": "Client `Enabled` (null: not set; -1: not a REG_DWORD).",
        "client_disabled_by_default": "Client `DisabledByDefault` (null: not set; -1: not a "
        "REG_DWORD).",
        "detail": "The classification in words.",
    },
    DotNetState: {
        "locations": "v4.0.30319 and v2.0.50727, each in the 64-bit and Wow6432Node view.",
        "consistent": "Whether all four keys hold the same values.",
        "detail": "The consistency in words.",
    },
    DotNetLocation: {
        "key": "The registry key.",
        "runtime": "v4.0.30319 or v2.0.50727.",
        "view": "64-bit, or 32-bit (Wow6432Node).",
        "system_default_tls_versions": "SystemDefaultTlsVersions (null: not set; -1: not a "
        "REG_DWORD).",
        "sch_use_strong_crypto": "SchUseStrongCrypto (null: not set; -1: not a REG_DWORD).",
    },
    PostfixFacts: {
        "version": "The Postfix version given; null if none.",
        "openssl": "The OpenSSL version given; null if none.",
        "server_security_level": "smtpd_tls_security_level in effect.",
        "client_security_level": "smtp_tls_security_level in effect.",
        "protocols": "For each *_tls_protocols parameter, the TLS versions it allows.",
    },
    ChecklistItem: {
        "code": "A stable code for the item, e.g. `SCHANNEL_TLS12_NOT_ENABLED`.",
        "severity": "How much the item matters.",
        "what": "What to do, in one line.",
        "why": "Why, with what was found.",
        "how": "Concrete steps: updates, settings with values, commands.",
        "sources": "Where the facts behind the item come from (URLs).",
        "evidence": "Where it was seen: input files, with line numbers where they tell.",
    },
}

_ENUM_VALUE_DOCS: Mapping[type[Enum], Mapping[Enum, str]] = {
    AdviceSeverity: {
        AdviceSeverity.REQUIRED: "TLS 1.2 cannot work as things are",
        AdviceSeverity.RECOMMENDED: "Microsoft's guidance or HealthChecker asks for a change",
        AdviceSeverity.INFO: "worth knowing; nothing has to change",
    },
    TlsConfiguration: {
        TlsConfiguration.ENABLED: "Enabled=1, DisabledByDefault=0 on Client and Server",
        TlsConfiguration.DISABLED: "Enabled=0, DisabledByDefault=1 on Client and Server",
        TlsConfiguration.HALF_DISABLED: "Enabled and DisabledByDefault contradict each other",
        TlsConfiguration.MISMATCH: "Client and Server values differ",
        TlsConfiguration.VALUE_MISSING: "a value is not set: the Windows default applies",
        TlsConfiguration.INVALID_VALUE: "a value is not a REG_DWORD of 0 or 1",
    },
    Effect: {
        Effect.ON: "used by default on Client and Server",
        Effect.OFF: "not used unless an application asks for it, or not available",
        Effect.UNKNOWN: "cannot be told (sides differ, or Windows release unknown)",
    },
    BuildStanding: {
        BuildStanding.KNOWN: "a build in the data",
        BuildStanding.BETWEEN: "between two known builds of its version (a hotfix)",
        BuildStanding.NEWER: "newer than every build of its version in the data",
        BuildStanding.OLDER: "older than every build of its version in the data",
        BuildStanding.UNKNOWN: "of no Exchange version in the data",
    },
}


def advise_report_schema() -> JsonSchema:
    """The JSON Schema of ``mailtls advise --json`` (a new dict on every call)."""
    return document_schema(
        AdviseReport,
        ADVISE_SCHEMA_ID,
        "advise",
        ADVISE_SCHEMA_VERSION,
        _DOCUMENT,
        prose=SchemaProse(_CLASS_DOCS, _FIELD_DOCS, _ENUM_VALUE_DOCS),
    )


def advise_report_schema_json() -> str:
    """The schema as ``docs/schema/advise-v1.json`` holds it (without the final newline)."""
    return json.dumps(advise_report_schema(), indent=2)

"""Checklist items about the Exchange build: can it do TLS 1.2, is it current, is it supported."""

from __future__ import annotations

from datetime import date

from mailtls.advise.models import AdviceSeverity, BuildStanding, ChecklistItem, ExchangeFacts
from mailtls.knowledge.exchange_builds import (
    BuildLookup,
    BuildNumber,
    BuildStatus,
    ExchangeBuildData,
    ExchangeCapability,
    KnownBuild,
    load_exchange_builds,
    lookup_build,
)

BUILD_PAGE = "https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates"


def exchange_facts(lookup: BuildLookup, data: ExchangeBuildData) -> ExchangeFacts:
    newest = _newest(lookup, data)
    version = lookup.version
    return ExchangeFacts(
        build=str(lookup.build),
        standing=BuildStanding(lookup.status.value),
        version=version.name if version else None,
        description=lookup.description,
        tls12_capable=lookup.capabilities[ExchangeCapability.TLS12],
        smtp_limited_to_tls10=_negate(lookup.capabilities[ExchangeCapability.SMTP_ANY_TLS]),
        can_disable_tls10_tls11=lookup.capabilities[ExchangeCapability.DISABLE_LEGACY],
        tls13_accepted=lookup.capabilities[ExchangeCapability.TLS13],
        end_of_support=(
            version.end_of_support.isoformat() if version and version.end_of_support else None
        ),
        newest_known_build=f"{newest.name} ({newest.build})" if newest else None,
    )


def _negate(value: bool | None) -> bool | None:
    return None if value is None else not value


def _newest(lookup: BuildLookup, data: ExchangeBuildData) -> KnownBuild | None:
    if lookup.version is None:
        return None
    builds = data.builds_of(lookup.version.id)
    return builds[-1] if builds else None


def exchange_items(
    build: BuildNumber, today: date, data: ExchangeBuildData | None = None
) -> tuple[ExchangeFacts, BuildLookup, list[ChecklistItem]]:
    data = data or load_exchange_builds()
    lookup = lookup_build(build, data)
    facts = exchange_facts(lookup, data)
    items: list[ChecklistItem] = []
    version = lookup.version
    if version is None:
        items.append(
            ChecklistItem(
                code="EXCHANGE_BUILD_NOT_IN_DATA",
                severity=AdviceSeverity.INFO,
                what=f"Exchange build {build} is unknown to mailtls",
                why="It belongs to no Exchange version in the build data, so its TLS abilities "
                "cannot be judged; nothing is assumed.",
                how=("Compare the build with Microsoft's list of Exchange build numbers.",),
                sources=(BUILD_PAGE,),
            )
        )
        return facts, lookup, items
    newest = _newest(lookup, data)
    newest_words = f"{version.name} {newest.name} ({newest.build})" if newest else version.name
    tls12 = data.milestone(version.id, ExchangeCapability.TLS12)
    smtp = data.milestone(version.id, ExchangeCapability.SMTP_ANY_TLS)
    if lookup.status is BuildStatus.NEWER:
        items.append(
            ChecklistItem(
                code="EXCHANGE_BUILD_NEWER_THAN_DATA",
                severity=AdviceSeverity.INFO,
                what=f"Exchange build {build} is newer than mailtls's build data",
                why=f"It is judged as at least {newest_words}, the newest build known here.",
                how=("Nothing to do for this check.",),
                sources=(BUILD_PAGE,),
            )
        )
    if tls12 is not None and lookup.capabilities[ExchangeCapability.TLS12] is False:
        why = f"{tls12.note}"
        sources = [tls12.source]
        if smtp is not None and lookup.capabilities[ExchangeCapability.SMTP_ANY_TLS] is False:
            why += f" This build is older still: {smtp.note}"
            sources.append(smtp.source)
        items.append(
            ChecklistItem(
                code="EXCHANGE_BUILD_TOO_OLD_FOR_TLS12",
                severity=AdviceSeverity.REQUIRED,
                what=f"Update {version.name} to {tls12.from_name} ({tls12.build}) or later",
                why=f"{lookup.description}. {why}",
                how=(
                    f"Install the newest update known here: {newest_words}.",
                    "Then set the SCHANNEL and .NET values (mailtls advise --emit-reg "
                    "enable-tls12) and restart the server.",
                ),
                sources=(*sources, BUILD_PAGE),
            )
        )
    elif newest is not None and lookup.floor is not None and lookup.floor.build < newest.build:
        items.append(
            ChecklistItem(
                code="EXCHANGE_UPDATE_AVAILABLE",
                severity=AdviceSeverity.RECOMMENDED,
                what=f"Install {newest_words}",
                why=f"{lookup.description}; newer updates exist for {version.name}.",
                how=(f"Install {newest.name}: build {newest.build}.",),
                sources=(newest.source,),
            )
        )
    if version.end_of_support is not None and version.end_of_support < today:
        items.append(
            ChecklistItem(
                code="EXCHANGE_OUT_OF_SUPPORT",
                severity=AdviceSeverity.RECOMMENDED,
                what=f"Plan the move off {version.name}",
                why=f"Its support ended on {version.end_of_support.isoformat()}: no more "
                "security updates.",
                how=("Move to a supported Exchange Server version or to Exchange Online.",),
                sources=(version.end_of_support_source or version.source,),
            )
        )
    return facts, lookup, items

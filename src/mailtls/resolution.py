"""From a target to the mail hosts and addresses a sending MTA would try (RFC 5321 5.1).

``interpret_mx`` is the pure decision (null MX, implicit MX, failure); ``resolve_target`` asks the
DNS for what that decision needs.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from mailtls.models import DnsOutcome, DnsStatus, MxRecord, Target, TargetKind

if TYPE_CHECKING:  # dnspython loads only when a target needs DNS
    from mailtls.net.dns import DnsClient


class MxKind(StrEnum):
    LISTED = "listed"  # MX records name the mail hosts
    NULL = "null"  # RFC 7505 "MX 0 .": the domain accepts no mail
    IMPLICIT = "implicit"  # no MX: the domain itself is the mail host (RFC 5321 5.1)
    FAILED = "failed"  # NXDOMAIN, SERVFAIL, timeout: nothing can be said


@dataclass(frozen=True)
class MxDecision:
    kind: MxKind
    records: tuple[MxRecord, ...] = ()
    ignored_null_mx: bool = False  # "." listed beside real hosts: a misconfiguration, skipped


def parse_mx_record(text: str) -> MxRecord:
    preference, _, host = text.strip().partition(" ")
    return MxRecord(int(preference), host.strip().rstrip(".").lower())


def interpret_mx(outcome: DnsOutcome) -> MxDecision:
    if outcome.status is DnsStatus.NO_DATA:
        return MxDecision(MxKind.IMPLICIT)
    if outcome.status is not DnsStatus.OK:
        return MxDecision(MxKind.FAILED)
    records = [parse_mx_record(text) for text in outcome.records]
    hosts = [record for record in records if record.host]
    if not hosts:
        return MxDecision(MxKind.NULL)
    # Equal preferences are tried in random order by senders; sort by name for stable reports.
    ordered = tuple(sorted(hosts, key=lambda record: (record.preference, record.host)))
    return MxDecision(MxKind.LISTED, ordered, ignored_null_mx=len(hosts) != len(records))


@dataclass(frozen=True)
class ResolvedHost:
    host: str
    preference: int | None
    implicit: bool
    dns: tuple[DnsOutcome, ...]
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedTarget:
    target: Target
    mx: MxDecision | None  # None for bracketed targets: no MX lookup
    dns: tuple[DnsOutcome, ...]  # the questions about the target itself
    hosts: tuple[ResolvedHost, ...]


def address_types(ipv4: bool, ipv6: bool) -> tuple[str, ...]:
    return tuple(rdtype for rdtype, wanted in (("A", ipv4), ("AAAA", ipv6)) if wanted)


async def _resolve_host(
    dns: DnsClient, host: str, preference: int | None, implicit: bool, rdtypes: tuple[str, ...]
) -> ResolvedHost:
    outcomes = await asyncio.gather(*(dns.lookup(host, rdtype) for rdtype in rdtypes))
    addresses: list[str] = []
    for outcome in outcomes:
        for record in outcome.records:
            address = str(ipaddress.ip_address(record))
            if address not in addresses:
                addresses.append(address)
    return ResolvedHost(host, preference, implicit, tuple(outcomes), tuple(addresses))


async def resolve_target(
    target: Target, dns: DnsClient | None, *, ipv4: bool = True, ipv6: bool = True
) -> ResolvedTarget:
    """The hosts and addresses to probe; ``dns`` may be None only for IP-address targets."""
    rdtypes = address_types(ipv4, ipv6)
    if target.kind is TargetKind.ADDRESS:
        version = ipaddress.ip_address(target.name).version
        wanted = (version == 4 and ipv4) or (version == 6 and ipv6)
        addresses = (target.name,) if wanted else ()
        host = ResolvedHost(target.name, None, False, (), addresses)
        return ResolvedTarget(target, None, (), (host,))
    if dns is None:
        raise ValueError(f"{target.original}: a DNS client is needed to resolve it")
    if target.kind is TargetKind.HOST:
        resolved = await _resolve_host(dns, target.name, None, False, rdtypes)
        return ResolvedTarget(target, None, (), (resolved,))
    mx_outcome = await dns.lookup(target.name, "MX")
    decision = interpret_mx(mx_outcome)
    if decision.kind is MxKind.IMPLICIT:
        implicit = await _resolve_host(dns, target.name, None, True, rdtypes)
        return ResolvedTarget(target, decision, (mx_outcome,), (implicit,))
    hosts = await asyncio.gather(
        *(
            _resolve_host(dns, record.host, record.preference, False, rdtypes)
            for record in decision.records
        )
    )
    return ResolvedTarget(target, decision, (mx_outcome,), tuple(hosts))

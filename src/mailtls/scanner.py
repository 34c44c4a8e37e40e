"""Orchestration: targets -> DNS -> addresses -> probe plans -> judgements -> one report.

The scanner never prints and never writes files: progress goes to an :class:`Observer`, the
result is a :class:`CheckReport`. Each (IP, port) is probed once per run, even when several MX
hosts or several targets point to it, and each address gets one connection at a time.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mailtls import __version__
from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy, load_exchange_online_policy
from mailtls.models import (
    SCHEMA_VERSION,
    AddressObservation,
    AddressReport,
    CertificateReport,
    CheckReport,
    DomainReport,
    Endpoint,
    ProbeKind,
    ProbeOutcome,
    Target,
    TargetKind,
)
from mailtls.net.nameservers import Nameserver
from mailtls.net.smtp_connection import ProbeSettings
from mailtls.policy.address import assess_address
from mailtls.policy.domain import assess_domain, exit_code
from mailtls.probes.runner import PlanSettings, build_contexts, observe_address
from mailtls.resolution import ResolvedTarget, resolve_target
from mailtls.tls.certificates import TrustStore, analyse_chain, load_trust_store

if TYPE_CHECKING:  # dnspython and httpcore load only when a target needs DNS
    from mailtls.net.dns import DnsClient
    from mailtls.transport_lookups import TransportLookups


def default_ehlo_name() -> str:
    # gethostname, not getfqdn: getfqdn asks the DNS, and a check must not leak lookups of its own.
    return socket.gethostname() or "localhost"


@dataclass(frozen=True)
class CheckOptions:
    nameservers: tuple[Nameserver, ...] = ()
    ca_file: Path | None = None
    ehlo_name: str = field(default_factory=default_ehlo_name)
    timeout: float = 30.0  # connect, each read, TLS handshake, each DNS question
    greeting_timeout: float = 60.0  # postscreen / greet_pause delay the banner on purpose
    deadline: float = 300.0  # all probes of one address
    port: int = 25
    ipv4: bool = True
    ipv6: bool = True
    fast: bool = False
    concurrency: int = 10  # addresses probed at the same time (each one connection at a time)
    dane: bool = True  # TLSA records of every MX host, matched against the chains seen
    mta_sts: bool = True  # the MTA-STS record and policy, and the TLS-RPT record

    def summary(self) -> dict[str, str]:
        """The options that shape results, recorded in the report."""
        return {
            "nameservers": ",".join(str(ns) for ns in self.nameservers) or "system",
            "ca_file": str(self.ca_file) if self.ca_file else "system",
            "ehlo_name": self.ehlo_name,
            "timeout": f"{self.timeout:g}",
            "greeting_timeout": f"{self.greeting_timeout:g}",
            "deadline": f"{self.deadline:g}",
            "families": "+".join(f for f, on in (("ipv4", self.ipv4), ("ipv6", self.ipv6)) if on),
            "fast": str(self.fast).lower(),
            "dane": str(self.dane).lower(),
            "mta_sts": str(self.mta_sts).lower(),
        }


class Observer(Protocol):
    """Progress callbacks; the CLI draws a progress bar from them, tests count them."""

    def targets_resolved(self, addresses: int) -> None: ...

    def address_finished(self, observation: AddressObservation) -> None: ...


class SilentObserver:
    """Ignores progress: for library callers and quiet runs."""

    def targets_resolved(self, addresses: int) -> None:
        pass

    def address_finished(self, observation: AddressObservation) -> None:
        pass


def _chain_to_judge(observation: AddressObservation) -> tuple[bytes, ...]:
    """The default probe's chain (what a modern sender sees), else any negotiated probe's."""
    negotiated = [p for p in observation.probes if p.outcome is ProbeOutcome.NEGOTIATED]
    negotiated.sort(key=lambda p: p.kind is not ProbeKind.DEFAULT)
    for probe in negotiated:
        if probe.chain_der:
            return probe.chain_der
    return ()


def _judge_certificate(
    observation: AddressObservation, host_name: str | None, trust: TrustStore, now: datetime
) -> tuple[CertificateReport | None, str | None]:
    chain = _chain_to_judge(observation)
    if not chain:
        return None, None
    try:
        return analyse_chain(chain, host_name=host_name, trust=trust, now=now), None
    except ValueError as problem:
        return None, str(problem)


def _name_to_verify(resolved: ResolvedTarget, host: str) -> str | None:
    return None if resolved.target.kind is TargetKind.ADDRESS else host


def plan_settings(options: CheckOptions) -> PlanSettings:
    return PlanSettings(
        probe=ProbeSettings(
            ehlo_name=options.ehlo_name,
            timeout=options.timeout,
            greeting_timeout=options.greeting_timeout,
        ),
        deadline_seconds=options.deadline,
        fast=options.fast,
    )


def server_names(resolved: ResolvedTarget) -> dict[Endpoint, str | None]:
    """Each endpoint of a target with the name its certificate is checked against (SNI too):
    the first MX host naming it; None for address targets."""
    names: dict[Endpoint, str | None] = {}
    for host in resolved.hosts:
        for ip in host.addresses:
            names.setdefault(
                Endpoint(ip, resolved.target.port), _name_to_verify(resolved, host.host)
            )
    return names


def judge_domain(
    resolved: ResolvedTarget,
    observations: Mapping[Endpoint, AddressObservation],
    reports: MutableMapping[tuple[Endpoint, str], AddressReport],
    *,
    trust: TrustStore,
    exchange_online: ExchangeOnlinePolicy,
    judged_at: datetime,
    family_filtered: bool,
    started_at: datetime,
    resolve_seconds: float,
    lookups: TransportLookups | None = None,
) -> DomainReport:
    """A target's report from its resolution and the observations of its endpoints.

    ``reports`` caches each (endpoint, MX name) judgement: targets sharing an MX host share it.
    """
    slowest = 0.0
    for host in resolved.hosts:
        for ip in host.addresses:
            endpoint = Endpoint(ip, resolved.target.port)
            key = (endpoint, host.host)
            observation = observations[endpoint]
            slowest = max(slowest, observation.elapsed_seconds)
            if key not in reports:
                name = _name_to_verify(resolved, host.host)
                certificate, problem = _judge_certificate(observation, name, trust, judged_at)
                reports[key] = assess_address(
                    observation,
                    mx_host=host.host,
                    certificate=certificate,
                    certificate_problem=problem,
                    exchange_online=exchange_online,
                )
    domain = assess_domain(
        resolved,
        reports,
        family_filtered=family_filtered,
        started_at=started_at,
        elapsed_seconds=round(resolve_seconds + slowest, 3),
    )
    if lookups is None:
        return domain
    from mailtls.policy.transport import apply_transport_policies  # noqa: PLC0415 - see below

    # Imported here: the transport policies pull in httpcore, which an address check never needs.
    chains = {endpoint: _chain_to_judge(seen) for endpoint, seen in observations.items()}
    return apply_transport_policies(domain, lookups, chains)


async def transport_lookups(
    resolved: ResolvedTarget,
    dns: DnsClient | None,
    options: CheckOptions,
    https: ssl.SSLContext | None,
) -> TransportLookups | None:
    """DANE, MTA-STS and TLS-RPT answers for a target; None when none are wanted or possible."""
    if dns is None or resolved.target.kind is TargetKind.ADDRESS:
        return None
    if not (options.dane or options.mta_sts):
        return None
    from mailtls.transport_lookups import look_up_transport_policies  # noqa: PLC0415

    return await look_up_transport_policies(
        resolved,
        dns,
        dane=options.dane,
        mta_sts=options.mta_sts,
        https=https,
        seconds=options.timeout,
        ipv4=options.ipv4,
        ipv6=options.ipv6,
    )


async def check_targets(
    targets: Sequence[Target],
    options: CheckOptions,
    observer: Observer | None = None,
    *,
    now: datetime | None = None,
) -> CheckReport:
    """Check every target; failures of servers and DNS are in the report, never raised."""
    observer = observer or SilentObserver()
    started_at = datetime.now(UTC)
    exchange_online = load_exchange_online_policy()
    trust = load_trust_store(options.ca_file)  # before any traffic: a bad --ca-file fails fast
    needs_dns = any(t.kind is not TargetKind.ADDRESS for t in targets)
    dns = None
    if needs_dns:
        # Loading dnspython costs a noticeable part of a one-address check's start-up.
        from mailtls.net.dns import DnsClient  # noqa: PLC0415

        dns = DnsClient(options.nameservers, timeout=options.timeout)

    resolve_started = time.monotonic()
    resolved_targets = await asyncio.gather(
        *(resolve_target(target, dns, ipv4=options.ipv4, ipv6=options.ipv6) for target in targets)
    )
    resolve_seconds = time.monotonic() - resolve_started

    # One probe plan per (IP, port); SNI and name checks use the first MX name seen for it.
    names: dict[Endpoint, str | None] = {}
    for resolved in resolved_targets:
        for endpoint, name in server_names(resolved).items():
            names.setdefault(endpoint, name)
    observer.targets_resolved(len(names))

    settings = plan_settings(options)
    contexts = build_contexts(exchange_online)
    limit = asyncio.Semaphore(max(1, options.concurrency))

    async def observe(endpoint: Endpoint) -> AddressObservation:
        async with limit:
            observation = await observe_address(
                endpoint,
                server_name=names[endpoint],
                settings=settings,
                exchange_online=exchange_online,
                contexts=contexts,
            )
        observer.address_finished(observation)
        return observation

    https = None
    if dns is not None and options.mta_sts:
        from mailtls.net.https import https_context  # noqa: PLC0415 - httpcore loads slowly

        https = https_context(options.ca_file)
    observed, looked_up = await asyncio.gather(
        asyncio.gather(*(observe(endpoint) for endpoint in names)),
        asyncio.gather(*(transport_lookups(r, dns, options, https) for r in resolved_targets)),
    )
    observations = dict(zip(names, observed, strict=True))

    judged_at = now or datetime.now(UTC)
    reports: dict[tuple[Endpoint, str], AddressReport] = {}
    domains = [
        judge_domain(
            resolved,
            observations,
            reports,
            trust=trust,
            exchange_online=exchange_online,
            judged_at=judged_at,
            family_filtered=not (options.ipv4 and options.ipv6),
            started_at=started_at,
            resolve_seconds=resolve_seconds,
            lookups=lookups,
        )
        for resolved, lookups in zip(resolved_targets, looked_up, strict=True)
    ]
    return CheckReport(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        generated_at=datetime.now(UTC),
        domains=tuple(domains),
        exit_code=exit_code(domains),
        options=options.summary(),
    )

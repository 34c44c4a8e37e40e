"""Run the probe plan against one address, within the address's deadline."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy
from mailtls.models import AddressObservation, Endpoint, ProbeKind, ProbeResult
from mailtls.net.smtp_connection import ProbeSettings, run_probe
from mailtls.probes.plan import remaining_probes
from mailtls.probes.politeness import PolitenessGate
from mailtls.tls.contexts import context_for


@dataclass(frozen=True)
class PlanSettings:
    probe: ProbeSettings
    deadline_seconds: float  # the whole plan for one address
    fast: bool = False  # after the first probe, run the rest in parallel


def build_contexts(exchange_online: ExchangeOnlinePolicy) -> dict[ProbeKind, ssl.SSLContext]:
    """One context per probe kind, made once per run and shared by every address."""
    return {kind: context_for(kind, exchange_online) for kind in ProbeKind}


async def observe_address(
    endpoint: Endpoint,
    *,
    server_name: str | None,
    settings: PlanSettings,
    exchange_online: ExchangeOnlinePolicy,
    contexts: Mapping[ProbeKind, ssl.SSLContext],
    gate: PolitenessGate | None = None,
) -> AddressObservation:
    """Every probe the plan asks for, one connection at a time unless ``fast``.

    With a ``gate`` (bulk scans), each connection waits for the IP's turn, and a probe that met
    a busy server (421, other 4xx) is tried again after the gate's back-off, within the
    deadline; the observation keeps the last attempt.
    """
    loop = asyncio.get_running_loop()
    started_at = datetime.now(UTC)
    started = time.monotonic()
    deadline = loop.time() + settings.deadline_seconds
    results: list[ProbeResult] = []

    async def connect(kind: ProbeKind) -> ProbeResult:
        return await run_probe(
            endpoint,
            kind,
            contexts[kind],
            server_name=server_name,
            settings=settings.probe,
            deadline=deadline,
        )

    async def probe(kind: ProbeKind) -> ProbeResult:
        if gate is None:
            return await connect(kind)
        attempt = 0
        while True:
            async with gate.connection(endpoint.ip):
                result = await connect(kind)
            delay = gate.retry_delay(endpoint.ip, result, attempt)
            if delay is None or loop.time() + delay >= deadline:
                return result
            attempt += 1

    while plan := remaining_probes(results, exchange_online):
        if settings.fast and results:
            results.extend(await asyncio.gather(*(probe(kind) for kind in plan)))
        else:
            results.append(await probe(plan[0]))
    return AddressObservation(
        endpoint=endpoint,
        probes=tuple(results),
        started_at=started_at,
        elapsed_seconds=round(time.monotonic() - started, 3),
        deadline_hit=loop.time() >= deadline,
    )

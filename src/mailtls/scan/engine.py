"""The bulk scan: a run's pending targets -> DNS -> shared endpoint probes -> stored results.

One asyncio scheduler. A fixed pool of domain workers takes targets in list order from the
store; each resolves its target (answers cached for the run), asks the endpoint cache for every
address, judges the domain and stores its result in one transaction. The cache makes sure
**each (IP, port) is probed once per run**: a probe in flight is awaited by every domain that
needs it, a finished one is reused from memory (a bounded LRU) or from the store (which also
serves a resumed run). Probes run under a global limit and the politeness gate (one
connection per IP at a time, gaps, back-off on busy replies).

Nothing here prints: progress goes to a :class:`ScanObserver`. A domain that outlives its
deadline is stored with what is known and the addresses still pending marked as cut short.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from mailtls.errors import StoreError
from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy, load_exchange_online_policy
from mailtls.models import (
    AddressObservation,
    AddressReport,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    Endpoint,
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    TargetKind,
)
from mailtls.probes.politeness import PolitenessGate
from mailtls.probes.runner import build_contexts, observe_address
from mailtls.resolution import MxDecision, MxKind, ResolvedTarget, resolve_target
from mailtls.scan.gateway import StoreGateway
from mailtls.scan.options import ScanOptions
from mailtls.scanner import judge_domain, plan_settings, server_names, transport_lookups
from mailtls.store import StoredTarget
from mailtls.tls.certificates import load_trust_store

if TYPE_CHECKING:  # dnspython loads only when a target needs DNS
    from mailtls.net.dns import DnsClient
    from mailtls.transport_lookups import TransportLookups

_PAGE = 200  # targets fetched from the store at a time
MAX_FAILURES_KEPT = 20
_DNS_CACHE_SIZE = 4_096  # answers kept (a few KiB each): shared MX hosts stay, as recently used

K = TypeVar("K")
V = TypeVar("V")


class ScanObserver(Protocol):
    def scan_started(self, total: int, done: int) -> None: ...

    def domain_finished(self, report: DomainReport, *, stored: bool) -> None: ...


class SilentScanObserver:
    def scan_started(self, total: int, done: int) -> None:
        pass

    def domain_finished(self, report: DomainReport, *, stored: bool) -> None:
        pass


@dataclass
class ScanTally:
    """What this invocation did (a resumed run counts only its own part)."""

    domains: int = 0
    stored: int = 0
    already_stored: int = 0  # a result was there already (never written twice)
    endpoints_probed: int = 0
    endpoints_reused: int = 0  # taken from memory or the store instead of probing again
    connections: int = 0
    deadline_hits: int = 0
    failed: int = 0  # domains whose check failed inside mailtls: not stored, a resume retries them
    failures: list[str] = field(default_factory=list)  # the first few, for the summary


class _Lru(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._capacity = max(1, capacity)

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


@dataclass(frozen=True)
class _Probed:
    endpoint_id: int
    observation: AddressObservation


class EndpointCache:
    """Each endpoint probed once per run: in flight, in memory, or in the store."""

    def __init__(
        self,
        run_id: int,
        gateway: StoreGateway,
        probe: Callable[[Endpoint, str | None], asyncio.Future[AddressObservation]],
        capacity: int,
        tally: ScanTally,
    ) -> None:
        self._run_id = run_id
        self._gateway = gateway
        self._probe = probe
        self._done: _Lru[Endpoint, _Probed] = _Lru(capacity)
        self._in_flight: dict[Endpoint, asyncio.Task[_Probed]] = {}
        self._tally = tally

    async def get(self, endpoint: Endpoint, server_name: str | None) -> _Probed:
        if (done := self._done.get(endpoint)) is not None:
            self._tally.endpoints_reused += 1
            return done
        task = self._in_flight.get(endpoint)
        if task is None:
            task = asyncio.ensure_future(self._fetch(endpoint, server_name))
            self._in_flight[endpoint] = task
            task.add_done_callback(lambda _t: self._in_flight.pop(endpoint, None))
        else:
            self._tally.endpoints_reused += 1
        # Shielded: a domain that gives up (its deadline) must not cancel a probe others await.
        return await asyncio.shield(task)

    async def close(self) -> None:
        """Stop probes nobody waits for any more (their domains hit the deadline)."""
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, endpoint: Endpoint, server_name: str | None) -> _Probed:
        store = self._gateway.store
        stored = await self._gateway.call(store.endpoint, self._run_id, endpoint)
        if stored is not None:
            self._tally.endpoints_reused += 1
            probed = _Probed(*stored)
        else:
            observation = await self._probe(endpoint, server_name)
            self._tally.endpoints_probed += 1
            self._tally.connections += len(observation.probes)
            endpoint_id = await self._gateway.call(store.save_endpoint, self._run_id, observation)
            probed = _Probed(endpoint_id, observation)
        self._done.put(endpoint, probed)
        return probed


def _unfinished(
    endpoint: Endpoint, started_at: datetime, seconds: float, deadline: float
) -> AddressObservation:
    """An address the domain's deadline cut short: no probe finished in time for it.

    Judged as a timeout of the first probe, which is what it is from this domain's view; the
    probe itself goes on for other domains that share the address.
    """
    cut_short = ProbeResult(
        ProbeKind.DEFAULT,
        ProbeOutcome.TIMEOUT,
        reason=f"the domain's deadline ({deadline:g} s) passed before this address was tested",
        elapsed_seconds=round(seconds, 3),
    )
    return AddressObservation(
        endpoint=endpoint,
        probes=(cut_short,),
        started_at=started_at,
        elapsed_seconds=round(seconds, 3),
        deadline_hit=True,
    )


def _unresolved(stored: StoredTarget, seconds: float) -> ResolvedTarget:
    """A target whose DNS answers did not come within the domain's deadline."""
    target = stored.target
    rdtype = "MX" if target.kind is TargetKind.DOMAIN else "A"
    outcome = DnsOutcome(
        target.name,
        rdtype,
        DnsStatus.TIMEOUT,
        detail=f"no answer within the domain's deadline ({seconds:g} s)",
    )
    decision = MxDecision(MxKind.FAILED) if target.kind is TargetKind.DOMAIN else None
    return ResolvedTarget(target, decision, (outcome,), ())


class Scanner:
    """One invocation of a run: ``await Scanner(...).run()`` stores results as they finish."""

    def __init__(
        self,
        run_id: int,
        gateway: StoreGateway,
        options: ScanOptions,
        observer: ScanObserver | None = None,
    ) -> None:
        self.run_id = run_id
        self.gateway = gateway
        self.options = options
        self.observer = observer or SilentScanObserver()
        self.tally = ScanTally()
        check = options.check
        self._exchange_online: ExchangeOnlinePolicy = load_exchange_online_policy()
        self._trust = load_trust_store(check.ca_file)  # a bad --ca-file fails before any traffic
        self._settings = plan_settings(check)
        self._contexts = build_contexts(self._exchange_online)
        self._gate = PolitenessGate(options.politeness)
        self._probe_slots = asyncio.Semaphore(max(1, check.concurrency))
        self._judgements: _Lru[tuple[Endpoint, str], AddressReport] = _Lru(options.judgement_cache)
        self._endpoints = EndpointCache(
            run_id, gateway, self._probe, options.endpoint_cache, self.tally
        )
        self._dns: DnsClient | None = None
        self._https: ssl.SSLContext | None = None
        if check.mta_sts:
            from mailtls.net.https import https_context  # noqa: PLC0415 - httpcore loads slowly

            self._https = https_context(check.ca_file)

    def _probe(
        self, endpoint: Endpoint, server_name: str | None
    ) -> asyncio.Future[AddressObservation]:
        async def observe() -> AddressObservation:
            async with self._probe_slots:
                return await observe_address(
                    endpoint,
                    server_name=server_name,
                    settings=self._settings,
                    exchange_online=self._exchange_online,
                    contexts=self._contexts,
                    gate=self._gate,
                )

        return asyncio.ensure_future(observe())

    async def run(self) -> ScanTally:
        """Scan every pending target; a store failure ends the run (``StoreError``), a failure
        of one domain is counted in the tally and that domain left for a resume."""
        store = self.gateway.store
        info = await self.gateway.call(store.run, self.run_id)
        self.observer.scan_started(info.targets, info.completed)
        queue: asyncio.Queue[StoredTarget | None] = asyncio.Queue(
            maxsize=2 * self.options.domain_workers
        )

        async def produce() -> None:
            after = -1
            while page := await self.gateway.call(
                store.pending_targets, self.run_id, after=after, limit=_PAGE
            ):
                for stored in page:
                    await queue.put(stored)
                after = page[-1].ordinal
            for _ in range(self.options.domain_workers):
                await queue.put(None)

        try:
            # A task group: should a worker fail (the store), the producer waiting on a full
            # queue is cancelled with the rest instead of waiting for ever.
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self.options.domain_workers):
                    group.create_task(self._worker(queue))
        except* StoreError as failures:
            raise failures.exceptions[0] from None
        finally:
            await self._endpoints.close()
        return self.tally

    async def _worker(self, queue: asyncio.Queue[StoredTarget | None]) -> None:
        while (stored := await queue.get()) is not None:
            try:
                report, endpoint_ids = await self._scan_domain(stored)
            except StoreError:
                raise  # the store is gone for every domain: the run ends
            except Exception as error:  # one domain's failure (a mailtls bug) must not end the run
                self.tally.failed += 1
                if len(self.tally.failures) < MAX_FAILURES_KEPT:
                    self.tally.failures.append(
                        f"{stored.target.original}: {type(error).__name__}: {error}"
                    )
                continue
            saved = await self.gateway.call(
                self.gateway.store.save_result, self.run_id, stored.target_id, report, endpoint_ids
            )
            self.tally.domains += 1
            if saved:
                self.tally.stored += 1
            else:
                self.tally.already_stored += 1
            self.observer.domain_finished(report, stored=saved)

    def _dns_client(self) -> DnsClient:
        if self._dns is None:
            from mailtls.net.dns import DnsClient  # noqa: PLC0415 - dnspython loads slowly

            check = self.options.check
            self._dns = DnsClient(
                check.nameservers, timeout=check.timeout, cache_size=_DNS_CACHE_SIZE
            )
        return self._dns

    async def _scan_domain(self, stored: StoredTarget) -> tuple[DomainReport, dict[Endpoint, int]]:
        check = self.options.check
        deadline = self.options.effective_domain_deadline
        started_at = datetime.now(UTC)
        started = time.monotonic()
        probed: dict[Endpoint, _Probed] = {}
        lookups: TransportLookups | None = None
        resolved: ResolvedTarget | None = None
        resolve_seconds = 0.0
        try:
            async with asyncio.timeout(deadline):
                dns = None if stored.target.kind is TargetKind.ADDRESS else self._dns_client()
                resolved = await resolve_target(
                    stored.target, dns, ipv4=check.ipv4, ipv6=check.ipv6
                )
                resolve_seconds = time.monotonic() - started
                names = server_names(resolved)

                async def fetch(endpoint: Endpoint) -> None:
                    probed[endpoint] = await self._endpoints.get(endpoint, names[endpoint])

                async def look_up() -> None:
                    nonlocal lookups
                    lookups = await transport_lookups(resolved_now, dns, check, self._https)

                resolved_now = resolved
                await asyncio.gather(look_up(), *(fetch(endpoint) for endpoint in names))
        except TimeoutError:
            self.tally.deadline_hits += 1
            if resolved is None:
                resolved = _unresolved(stored, deadline)
                resolve_seconds = deadline
        observations = {endpoint: p.observation for endpoint, p in probed.items()}
        for endpoint in server_names(resolved):
            if endpoint not in observations:
                observations[endpoint] = _unfinished(
                    endpoint, started_at, time.monotonic() - started, deadline
                )
        # Judgements of finished endpoints are shared between domains; one cut short by this
        # domain's deadline is judged for this domain only (the probe may finish for others).
        judgements: dict[tuple[Endpoint, str], AddressReport] = {}
        for host in resolved.hosts:
            for ip in host.addresses:
                key = (Endpoint(ip, resolved.target.port), host.host)
                if key[0] in probed and (known := self._judgements.get(key)) is not None:
                    judgements[key] = known
        report = judge_domain(
            resolved,
            observations,
            judgements,
            trust=self._trust,
            exchange_online=self._exchange_online,
            judged_at=datetime.now(UTC),
            family_filtered=not (check.ipv4 and check.ipv6),
            started_at=started_at,
            resolve_seconds=resolve_seconds,
            lookups=lookups,
        )
        for key, judgement in judgements.items():
            if key[0] in probed:
                self._judgements.put(key, judgement)
        return report, {endpoint: p.endpoint_id for endpoint, p in probed.items()}

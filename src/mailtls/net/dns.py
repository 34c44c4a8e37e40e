"""DNS questions over dnspython's async resolver, each answered as a :class:`DnsOutcome`.

Every failure mode a batch can meet (NXDOMAIN, no data, SERVFAIL, timeout, an unreachable or
refusing resolver) comes back as data, with the resolver's words, never as an exception.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.resolver

from mailtls.errors import UsageError
from mailtls.models import DnsOutcome, DnsStatus
from mailtls.net.nameservers import Nameserver


def _failure_status(error: dns.resolver.NoNameservers) -> DnsStatus:
    # dnspython folds every server's failure into one exception; its text names the rcode.
    return DnsStatus.SERVFAIL if "SERVFAIL" in str(error) else DnsStatus.ERROR


class DnsClient:
    """Asks the configured resolvers; caches answers for the lifetime of one run."""

    def __init__(
        self,
        nameservers: tuple[Nameserver, ...] = (),
        *,
        timeout: float = 10.0,
        cache_size: int | None = None,
    ) -> None:
        try:
            resolver = dns.asyncresolver.Resolver(configure=not nameservers)
        except dns.resolver.NoResolverConfiguration:
            raise UsageError(
                "no DNS resolver is configured on this machine; name one with --nameserver"
            ) from None
        if nameservers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ns.ip, ns.port) for ns in nameservers
            ]
        resolver.lifetime = timeout
        resolver.timeout = min(timeout, 3.0)  # per try: retry other servers / again within lifetime
        # A bulk scan bounds the cache (least recently used answers go first), so memory does
        # not grow with its list; a check keeps every answer of its few targets.
        resolver.cache = dns.resolver.LRUCache(cache_size) if cache_size else dns.resolver.Cache()
        self._resolver = resolver

    @property
    def nameservers(self) -> tuple[str, ...]:
        return tuple(str(ns) for ns in self._resolver.nameservers)

    async def lookup(self, name: str, rdtype: str) -> DnsOutcome:
        try:
            answer = await self._resolver.resolve(
                dns.name.from_text(name), rdtype, search=False, raise_on_no_answer=True
            )
        except dns.resolver.NXDOMAIN:
            return DnsOutcome(name, rdtype, DnsStatus.NXDOMAIN, detail="the name does not exist")
        except dns.resolver.NoAnswer:
            return DnsOutcome(name, rdtype, DnsStatus.NO_DATA, detail=f"no {rdtype} record")
        except dns.resolver.LifetimeTimeout as error:
            return DnsOutcome(name, rdtype, DnsStatus.TIMEOUT, detail=str(error))
        except dns.resolver.NoNameservers as error:
            return DnsOutcome(name, rdtype, _failure_status(error), detail=str(error))
        except dns.exception.DNSException as error:
            return DnsOutcome(
                name, rdtype, DnsStatus.ERROR, detail=f"{type(error).__name__}: {error}"
            )
        records = tuple(rdata.to_text() for rdata in answer)
        return DnsOutcome(name, rdtype, DnsStatus.OK, records=records)

"""The DNS and HTTPS questions behind DANE, MTA-STS and TLS-RPT for one target (I/O only).

For a domain: the TLSA records of each MX host (``_25._tcp.<host>``), the ``_mta-sts`` TXT
record and, when one is there, the policy fetched from ``mta-sts.<domain>``, and the
``_smtp._tls`` TXT record. The answers are judged elsewhere (``policy.transport``), together
with the chains the probes saw.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailtls.models import DnsOutcome, DnsStatus, MtaStsFetch, TargetKind
from mailtls.mtasts.record import select_sts_record
from mailtls.net.https import PolicyFetch, fetch_policy, policy_host
from mailtls.resolution import ResolvedTarget, address_types

if TYPE_CHECKING:  # dnspython loads only when a target needs DNS
    from mailtls.net.dns import DnsClient


@dataclass(frozen=True)
class TransportLookups:
    """What DNS and the policy host answered for one target; None where not asked."""

    tlsa: dict[str, DnsOutcome] = field(default_factory=dict)  # by MX host name
    mta_sts_txt: DnsOutcome | None = None
    mta_sts_fetch: PolicyFetch | None = None
    tls_rpt_txt: DnsOutcome | None = None


def tlsa_name(host: str, port: int = 25) -> str:
    return f"_{port}._tcp.{host}"


def has_sts_record(txt: DnsOutcome) -> bool:
    """Whether a sender goes on to fetch the policy: exactly one valid v=STSv1 record."""
    return txt.status is DnsStatus.OK and select_sts_record(txt.records).record is not None


async def look_up_transport_policies(
    resolved: ResolvedTarget,
    dns: DnsClient,
    *,
    dane: bool,
    mta_sts: bool,
    https: ssl.SSLContext | None,
    seconds: float,
    ipv4: bool = True,
    ipv6: bool = True,
) -> TransportLookups:
    """Every question for one target, at once. Only domains have MTA-STS and TLS-RPT; MX hosts
    (and bracketed host targets) have TLSA records; addresses have neither."""
    target = resolved.target
    if target.kind is TargetKind.ADDRESS:
        return TransportLookups()
    hosts = [host.host for host in resolved.hosts] if dane else []

    async def tlsa(host: str) -> tuple[str, DnsOutcome]:
        return host, await dns.lookup(tlsa_name(host, target.port), "TLSA")

    async def sts() -> tuple[DnsOutcome | None, PolicyFetch | None]:
        if not mta_sts or target.kind is not TargetKind.DOMAIN:
            return None, None
        txt = await dns.lookup(f"_mta-sts.{target.name}", "TXT")
        if not has_sts_record(txt):
            return txt, None
        if https is None:
            return txt, PolicyFetch(MtaStsFetch.NOT_FETCHED, None, "no HTTPS trust store")
        addresses = await _addresses(dns, policy_host(target.name), ipv4=ipv4, ipv6=ipv6)
        return txt, await fetch_policy(target.name, addresses, context=https, seconds=seconds)

    async def tls_rpt() -> DnsOutcome | None:
        if not mta_sts or target.kind is not TargetKind.DOMAIN:
            return None
        return await dns.lookup(f"_smtp._tls.{target.name}", "TXT")

    tlsa_answers, (sts_txt, sts_fetch), rpt = await asyncio.gather(
        asyncio.gather(*(tlsa(host) for host in hosts)), sts(), tls_rpt()
    )
    return TransportLookups(
        tlsa=dict(tlsa_answers), mta_sts_txt=sts_txt, mta_sts_fetch=sts_fetch, tls_rpt_txt=rpt
    )


async def _addresses(dns: DnsClient, name: str, *, ipv4: bool, ipv6: bool) -> list[str]:
    answers = await asyncio.gather(*(dns.lookup(name, t) for t in address_types(ipv4, ipv6)))
    return [record for answer in answers for record in answer.records]

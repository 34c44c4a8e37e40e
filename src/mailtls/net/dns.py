"""DNS questions over dnspython's async resolver, each answered as a :class:`DnsOutcome`.

Every failure mode a batch can meet (NXDOMAIN, no data, SERVFAIL, timeout, an unreachable or
refusing resolver) comes back as data, with the resolver's words, never as an exception.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.rdtypes.txtbase
import dns.resolver

from mailtls.errors import UsageError
from mailtls.models import DnsOutcome, DnssecStatus, DnsStatus
from mailtls.net.nameservers import Nameserver

_EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no fragmentation on the way
MAX_RECORDS = 64  # records kept per answer
MAX_RECORD_CHARACTERS = 8192  # of one record's text


def _failure_status(error: dns.resolver.NoNameservers) -> DnsStatus:
    # dnspython folds every server's failure into one exception; its text names the rcode.
    return DnsStatus.SERVFAIL if "SERVFAIL" in str(error) else DnsStatus.ERROR


class DnsClient:
    """Asks the configured resolvers; caches answers for the lifetime of one run."""

    _unchecked: dns.asyncresolver.Resolver | None

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
        # Ask for DNSSEC (DO) and for the resolver's verdict (AD): a validating resolver sets AD
        # on answers it validated, which is what DANE rests on (RFC 6840 5.7).
        resolver.use_edns(0, dns.flags.DO, _EDNS_PAYLOAD)
        resolver.flags = dns.flags.RD | dns.flags.AD
        self._resolver = resolver
        self._unchecked = None

    @property
    def nameservers(self) -> tuple[str, ...]:
        return tuple(str(ns) for ns in self._resolver.nameservers)

    async def lookup(self, name: str, rdtype: str) -> DnsOutcome:
        """One question; the answer's DNSSEC status comes with it (see ``_status_of``)."""
        qname = dns.name.from_text(name)
        try:
            answer = await self._resolver.resolve(
                qname, rdtype, search=False, raise_on_no_answer=True
            )
        except dns.resolver.NXDOMAIN as error:
            return DnsOutcome(
                name,
                rdtype,
                DnsStatus.NXDOMAIN,
                detail="the name does not exist",
                dnssec=_status_of(_negative_response(error, qname)),
            )
        except dns.resolver.NoAnswer as error:
            return DnsOutcome(
                name,
                rdtype,
                DnsStatus.NO_DATA,
                detail=f"no {rdtype} record",
                dnssec=_status_of(error.kwargs.get("response")),
            )
        except dns.resolver.LifetimeTimeout as error:
            return DnsOutcome(
                name,
                rdtype,
                DnsStatus.TIMEOUT,
                detail=str(error),
                dnssec=DnssecStatus.INDETERMINATE,
            )
        except dns.resolver.NoNameservers as error:
            status = _failure_status(error)
            dnssec = DnssecStatus.INDETERMINATE
            if status is DnsStatus.SERVFAIL and await self._answers_unchecked(qname, rdtype):
                dnssec = DnssecStatus.BOGUS
            return DnsOutcome(name, rdtype, status, detail=str(error), dnssec=dnssec)
        except dns.exception.DNSException as error:
            return DnsOutcome(
                name,
                rdtype,
                DnsStatus.ERROR,
                detail=f"{type(error).__name__}: {error}",
                dnssec=DnssecStatus.INDETERMINATE,
            )
        records = tuple(_presentation(rdata) for rdata in answer)[:MAX_RECORDS]
        return DnsOutcome(
            name, rdtype, DnsStatus.OK, records=records, dnssec=_status_of(answer.response)
        )

    async def _answers_unchecked(self, qname: dns.name.Name, rdtype: str) -> bool:
        """Whether the question has an answer when the resolver skips validation (CD).

        A validating resolver answers SERVFAIL both for a broken zone and for a DNSSEC
        validation failure; only the second goes away with checking disabled.
        """
        unchecked = self._unchecked_resolver()
        try:
            await unchecked.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return True
        except dns.exception.DNSException:
            return False
        return True

    def _unchecked_resolver(self) -> dns.asyncresolver.Resolver:
        if self._unchecked is None:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = self._resolver.nameservers
            resolver.lifetime = self._resolver.lifetime
            resolver.timeout = self._resolver.timeout
            resolver.use_edns(0, dns.flags.DO, _EDNS_PAYLOAD)
            resolver.flags = dns.flags.RD | dns.flags.CD
            self._unchecked = resolver
        return self._unchecked


def _negative_response(
    error: dns.resolver.NXDOMAIN, qname: dns.name.Name
) -> dns.message.Message | None:
    responses: dict[dns.name.Name, dns.message.Message] = error.kwargs.get("responses", {})
    return responses.get(qname)


def _status_of(response: dns.message.Message | None) -> DnssecStatus:
    """SECURE with the AD bit; UNVALIDATED when signatures came without it (the resolver does
    not validate, or did not say so); INSECURE when neither: the zone is not signed."""
    if response is None:
        return DnssecStatus.INDETERMINATE
    if response.flags & dns.flags.AD:
        return DnssecStatus.SECURE
    sections = (*response.answer, *response.authority)
    if any(rrset.rdtype == dns.rdatatype.RRSIG for rrset in sections):
        return DnssecStatus.UNVALIDATED
    return DnssecStatus.INSECURE


def _presentation(rdata: dns.rdata.Rdata) -> str:
    """A record as text; TXT as its strings joined, unquoted (how SPF, MTA-STS and TLS-RPT
    records are read), bounded so a hostile zone cannot hand us megabytes."""
    if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
        text = b"".join(rdata.strings).decode("utf-8", errors="replace")
    else:
        text = rdata.to_text()
    return text[:MAX_RECORD_CHARACTERS]

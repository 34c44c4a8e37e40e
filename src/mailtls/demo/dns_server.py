"""A tiny authoritative DNS server for one static zone, over UDP and TCP.

The demo needs name resolution for its made-up domains without touching the system resolver or
any network: ``StaticZone.answer`` decides each reply (pure, no I/O) and ``DnsServer`` carries
queries to it on loopback. It answers authoritatively (AA) inside its zone, NXDOMAIN for names
that do not exist there, NOERROR with no data for existing names without the asked type, and
REFUSED for anything outside it. It does no recursion, CNAME chasing, wildcards or DNSSEC.
"""

from __future__ import annotations

import asyncio
import errno
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mailtls.demo.serving import Service, TcpService

DEFAULT_TTL = 300
_CLASSIC_UDP_PAYLOAD = 512  # RFC 1035 4.2.1: the limit for a query without EDNS
_TCP_IDLE_TIMEOUT = 10.0
_BIND_ATTEMPTS = 20
_HEADER = struct.Struct("!HHHHHH")


@dataclass(frozen=True)
class DnsRecord:
    """One record in presentation format; ``name`` is absolute (a trailing dot is optional)."""

    name: str
    rdtype: str  # "A", "AAAA", "MX", "TXT", ...
    value: str  # e.g. "10 mx.example.test.", "0 .", '"v=spf1 -all"'
    ttl: int = DEFAULT_TTL


RRsetsByType = Mapping[dns.rdatatype.RdataType, dns.rrset.RRset]


@dataclass(frozen=True)
class StaticZone:
    """The records of one zone, indexed by owner name and type; build it with ``build``."""

    origin: dns.name.Name
    nodes: Mapping[dns.name.Name, RRsetsByType]

    @classmethod
    def build(cls, origin: str, records: Iterable[DnsRecord]) -> StaticZone:
        """Index ``records``; an SOA for the origin is made up unless one is given.

        Raises ``ValueError`` for a record outside the zone or one that does not parse.
        """
        zone_origin = dns.name.from_text(origin)
        grouped: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rrset.RRset]] = {}
        for record in records:
            owner = dns.name.from_text(record.name)
            if not owner.is_subdomain(zone_origin):
                raise ValueError(f"{record.name} is outside the zone {origin}")
            rdtype = dns.rdatatype.from_text(record.rdtype)
            try:
                # Names inside values are absolute even without a trailing dot.
                rdata = dns.rdata.from_text(
                    dns.rdataclass.IN, rdtype, record.value, origin=dns.name.root, relativize=False
                )
            except dns.exception.DNSException as error:
                raise ValueError(
                    f"{record.name} {record.rdtype} {record.value!r}: {error}"
                ) from None
            by_type = grouped.setdefault(owner, {})
            rrset = by_type.get(rdtype)
            if rrset is None:
                rrset = by_type[rdtype] = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
            rrset.add(rdata, record.ttl)
        apex = grouped.setdefault(zone_origin, {})
        if dns.rdatatype.SOA not in apex:
            # Negative answers carry the SOA so that resolvers know how long to remember them.
            apex[dns.rdatatype.SOA] = dns.rrset.from_text(
                zone_origin, DEFAULT_TTL, "IN", "SOA",
                f"ns.{zone_origin} hostmaster.{zone_origin} 1 3600 600 86400 {DEFAULT_TTL}",
            )  # fmt: skip
        return cls(origin=zone_origin, nodes=grouped)

    def _name_exists(self, name: dns.name.Name) -> bool:
        # A name with no records but records below it (an "empty non-terminal") exists too.
        return any(owner.is_subdomain(name) for owner in self.nodes)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """The reply to a query (which must not itself be a response)."""
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN or not question.name.is_subdomain(self.origin):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        node = self.nodes.get(question.name, {})
        if question.rdtype == dns.rdatatype.ANY:
            response.answer.extend(node.values())
        elif question.rdtype in node:
            response.answer.append(node[question.rdtype])
        if response.answer:
            return response
        if not self._name_exists(question.name):
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self.nodes[self.origin][dns.rdatatype.SOA])
        return response


def respond(zone: StaticZone, wire: bytes, *, tcp: bool = False) -> bytes | None:
    """The reply to one DNS message in wire format, or ``None`` when it deserves none."""
    try:
        query = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError, struct.error):
        # dnspython reports malformed input as DNSException, a few odd corners as ValueError
        # or struct.error; garbage of any shape gets a FORMERR or silence, never a crash.
        return _format_error(wire)
    if query.flags & dns.flags.QR:
        return None  # never answer a response: that is how reflection loops start
    response = zone.answer(query)
    if tcp:
        limit = 65535
    elif query.edns >= 0:
        limit = max(query.payload, _CLASSIC_UDP_PAYLOAD)
    else:
        limit = _CLASSIC_UDP_PAYLOAD
    # Too big for the client's buffer: send what fits with TC set, so it retries over TCP.
    return response.to_wire(max_size=limit, prefer_truncation=True)


def _format_error(wire: bytes) -> bytes | None:
    """A bare FORMERR header for a query that does not parse; None if it is not even that."""
    if len(wire) < _HEADER.size:
        return None
    message_id, flags = struct.unpack_from("!HH", wire)
    if flags & dns.flags.QR:
        return None
    opcode_bits = flags & 0x7800
    reply_flags = dns.flags.QR | opcode_bits | dns.rcode.FORMERR
    return _HEADER.pack(message_id, reply_flags, 0, 0, 0, 0)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, zone: StaticZone) -> None:
        self._zone = zone
        self._transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio hands a datagram transport here, though not always a DatagramTransport
        # subclass (the selector loop's is not one on Python 3.11).
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = respond(self._zone, data)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error for an earlier reply: that client has gone, nothing to do

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class DnsServer(Service):
    """Serve a ``StaticZone`` on UDP (and TCP, same port) at (host, port).

    ``port=0`` picks a port free for both protocols; ``port`` tells which once started. Use
    ``async with`` or ``start()``/``close()``.
    """

    def __init__(
        self, zone: StaticZone, host: str = "127.0.0.1", port: int = 0, *, tcp: bool = True
    ) -> None:
        self.zone = zone
        self._host = host
        self._requested_port = port
        self._tcp_enabled = tcp
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._udp_protocol: _UdpProtocol | None = None
        self._tcp: TcpService | None = None
        self._port: int | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def address(self) -> str:
        """The server as "IP:PORT" ("[IP]:PORT" for IPv6), the way a command line names it."""
        return f"[{self._host}]:{self.port}" if ":" in self._host else f"{self._host}:{self.port}"

    async def start(self) -> None:
        if self._port is not None:
            raise RuntimeError("the server is already started")
        attempts = 1 if self._requested_port else _BIND_ATTEMPTS
        for attempt in range(attempts):
            port = await self._start_udp(self._requested_port)
            if not self._tcp_enabled:
                break
            tcp = TcpService(self._tcp_session, self._host, port)
            try:
                await tcp.start()
            except OSError as error:
                await self._close_udp()
                # The ephemeral UDP port can be taken for TCP by someone else: try another.
                if error.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                continue
            self._tcp = tcp
            break
        self._port = port

    async def close(self) -> None:
        if self._tcp is not None:
            await self._tcp.close()
            self._tcp = None
        await self._close_udp()

    async def _start_udp(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self.zone), local_addr=(self._host, port)
        )
        self._udp_transport, self._udp_protocol = transport, protocol
        bound: int = transport.get_extra_info("sockname")[1]
        return bound

    async def _close_udp(self) -> None:
        if self._udp_transport is None or self._udp_protocol is None:
            return
        self._udp_transport.close()
        await self._udp_protocol.closed  # the socket is really closed only then
        self._udp_transport = self._udp_protocol = None

    async def _tcp_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # RFC 1035 4.2.2 / RFC 7766: each message is preceded by its two-byte length.
        while True:
            async with asyncio.timeout(_TCP_IDLE_TIMEOUT):
                prefix = await reader.readexactly(2)
                wire = await reader.readexactly(int.from_bytes(prefix, "big"))
            reply = respond(self.zone, wire, tcp=True)
            if reply is None:
                return
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await writer.drain()

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from mailtls.demo.dns_server import DnsRecord, DnsServer, StaticZone, respond

HOST = "127.0.0.1"
ZONE = "zone.mailtls.test"
T = TypeVar("T")

RECORDS = (
    DnsRecord("mail.zone.mailtls.test", "MX", "10 mx1.zone.mailtls.test."),
    DnsRecord("mail.zone.mailtls.test", "MX", "20 mx2.zone.mailtls.test"),
    DnsRecord("mail.zone.mailtls.test", "TXT", '"v=spf1 mx -all"'),
    DnsRecord("mx1.zone.mailtls.test", "A", "127.0.9.1"),
    DnsRecord("mx1.zone.mailtls.test", "AAAA", "::1"),
    DnsRecord("mx2.zone.mailtls.test", "A", "127.0.9.2"),
    DnsRecord("nomail.zone.mailtls.test", "MX", "0 ."),
    DnsRecord("_smtp._tls.deep.zone.mailtls.test", "TXT", '"v=TLSRPTv1; rua=mailto:r@x.test"'),
)


def zone() -> StaticZone:
    return StaticZone.build(ZONE, RECORDS)


def serve(check: Callable[[DnsServer], Awaitable[T]], *, tcp: bool = True) -> T:
    async def main() -> T:
        async with DnsServer(zone(), HOST, 0, tcp=tcp) as server:
            return await check(server)

    return asyncio.run(main())


def ask(
    name: str, rdtype: str, *, use_edns: bool = False
) -> Callable[[DnsServer], Awaitable[dns.message.Message]]:
    async def check(server: DnsServer) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype, use_edns=use_edns)
        return await dns.asyncquery.udp(query, server.host, timeout=5, port=server.port)

    return check


def answers(response: dns.message.Message) -> list[str]:
    return sorted(rdata.to_text() for rrset in response.answer for rdata in rrset)


def test_a_record_is_answered_authoritatively() -> None:
    response = serve(ask("mx1.zone.mailtls.test", "A"))
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert not response.flags & dns.flags.RA
    assert answers(response) == ["127.0.9.1"]
    assert response.answer[0].ttl == 300


def test_aaaa_record() -> None:
    assert answers(serve(ask("mx1.zone.mailtls.test", "AAAA"))) == ["::1"]


def test_mx_records_keep_their_preferences_and_absolute_names() -> None:
    # Names compare case-insensitively; name compression may echo the question's spelling.
    response = serve(ask("Mail.Zone.MailTLS.test.", "MX"))
    assert [text.lower() for text in answers(response)] == [
        "10 mx1.zone.mailtls.test.",
        "20 mx2.zone.mailtls.test.",
    ]


def test_null_mx() -> None:
    assert answers(serve(ask("nomail.zone.mailtls.test", "MX"))) == ["0 ."]


def test_txt_record() -> None:
    assert answers(serve(ask("mail.zone.mailtls.test", "TXT"))) == ['"v=spf1 mx -all"']


def test_unknown_name_in_the_zone_is_nxdomain_with_the_soa() -> None:
    response = serve(ask("nosuch.zone.mailtls.test", "A"))
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert response.answer == []
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


def test_known_name_without_the_type_is_no_data() -> None:
    response = serve(ask("mx2.zone.mailtls.test", "AAAA"))
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert response.answer == []
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


@pytest.mark.parametrize("name", ["deep.zone.mailtls.test", "_tls.deep.zone.mailtls.test"])
def test_empty_non_terminal_exists(name: str) -> None:
    response = serve(ask(name, "TXT"))
    assert (response.rcode(), response.answer) == (dns.rcode.NOERROR, [])


def test_apex_has_a_soa() -> None:
    response = serve(ask(ZONE, "SOA"))
    assert answers(response) == [
        f"ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
    ]


@pytest.mark.parametrize("name", ["example.com", "mailtls.test", "zone.mailtls.test.evil"])
def test_names_outside_the_zone_are_refused(name: str) -> None:
    response = serve(ask(name, "A"))
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA
    assert response.answer == []


def test_any_returns_every_type_at_the_name() -> None:
    response = serve(ask("mail.zone.mailtls.test", "ANY"))
    assert sorted(dns.rdatatype.to_text(rrset.rdtype) for rrset in response.answer) == [
        "MX",
        "TXT",
    ]


def test_edns_query_gets_edns_back() -> None:
    response = serve(ask("mx1.zone.mailtls.test", "A", use_edns=True))
    assert response.edns == 0
    assert answers(response) == ["127.0.9.1"]


def test_garbage_datagrams_do_not_stop_the_server() -> None:
    rng = random.Random(7)
    good = dns.message.make_query("mx1.zone.mailtls.test", "A")

    async def check(server: DnsServer) -> tuple[bytes, dns.message.Message]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            for size in (0, 1, 5, 11, 40, 300, 1200):
                client.sendto(rng.randbytes(size), (server.host, server.port))
            # A header that parses, followed by junk: worth a FORMERR, not silence.
            client.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff", (
                server.host, server.port,
            ))  # fmt: skip
            formerr = await _receive_until(client, b"\x12\x34")
        response = await dns.asyncquery.udp(good, server.host, timeout=5, port=server.port)
        return formerr, response

    formerr, response = serve(check)
    assert formerr[2] & 0x80  # QR: a response
    assert formerr[3] & 0x0F == dns.rcode.FORMERR
    assert answers(response) == ["127.0.9.1"]


async def _receive_until(client: socket.socket, message_id: bytes) -> bytes:
    """The first datagram with ``message_id`` (random garbage may earn FORMERRs of its own)."""
    while True:
        data = await asyncio.to_thread(client.recv, 4096)
        if data[:2] == message_id:
            return data


def test_responses_are_never_answered() -> None:
    query = dns.message.make_query("mx1.zone.mailtls.test", "A")
    response = dns.message.make_response(query)
    assert respond(zone(), response.to_wire()) is None
    assert respond(zone(), b"\x00\x01\x80\x00" + bytes(8)) is None  # unparsable, QR set


def test_tcp_queries_are_answered_on_the_same_port() -> None:
    async def check(server: DnsServer) -> dns.message.Message:
        query = dns.message.make_query("mail.zone.mailtls.test", "MX")
        return await dns.asyncquery.tcp(query, server.host, timeout=5, port=server.port)

    response = serve(check)
    assert answers(response) == ["10 mx1.zone.mailtls.test.", "20 mx2.zone.mailtls.test."]


def test_large_answers_are_truncated_over_udp_and_whole_over_tcp() -> None:
    many = [DnsRecord("big.zone.mailtls.test", "TXT", f'"{i:03} {"x" * 60}"') for i in range(40)]
    big_zone = StaticZone.build(ZONE, many)

    async def main() -> tuple[dns.message.Message, dns.message.Message]:
        async with DnsServer(big_zone, HOST) as server:
            query = dns.message.make_query("big.zone.mailtls.test", "TXT")
            udp = await dns.asyncquery.udp(query, server.host, timeout=5, port=server.port)
            tcp = await dns.asyncquery.tcp(query, server.host, timeout=5, port=server.port)
            return udp, tcp

    udp, tcp = asyncio.run(main())
    assert udp.flags & dns.flags.TC
    assert len(tcp.answer[0]) == 40


def test_udp_only_server() -> None:
    response = serve(ask("mx2.zone.mailtls.test", "A"), tcp=False)
    assert answers(response) == ["127.0.9.2"]


def test_address_formats_ipv4_and_ipv6() -> None:
    async def main() -> tuple[str, str]:
        async with DnsServer(zone(), HOST) as v4, DnsServer(zone(), "::1") as v6:
            return v4.address, v6.address

    v4, v6 = asyncio.run(main())
    assert v4.startswith("127.0.0.1:")
    assert v6.startswith("[::1]:")


def test_build_refuses_records_outside_the_zone_or_malformed() -> None:
    with pytest.raises(ValueError, match="outside the zone"):
        StaticZone.build(ZONE, [DnsRecord("example.com", "A", "127.0.0.1")])
    with pytest.raises(ValueError, match="not-an-address"):
        StaticZone.build(ZONE, [DnsRecord("a.zone.mailtls.test", "A", "not-an-address")])

"""Hundreds of parallel connections from one address against a receiver with its default caps.

Every connection is held open until all of them have had their first reply, so the per-address
cap is reached for certain: exactly that many sessions are admitted, the rest get 421 and are
closed, each of the hundreds is recorded, and the receiver still serves a normal session after.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Iterator

import pytest

from mailtls.receiver.limits import Caps
from mailtls.receiver.models import SessionEnd

from .running import ACCEPTED_DOMAIN, RunningReceiver, running_receiver

RECEIVER_IP = "127.0.9.4"
FLOOD_IP = "127.0.9.141"
CONNECTIONS = 300
FLOOD_SECONDS = 15.0


@pytest.fixture(scope="module")
def default_caps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReceiver]:
    # No limit options at all: the caps under test are the ones a user gets.
    with running_receiver(tmp_path_factory.mktemp("many"), RECEIVER_IP) as receiver:
        yield receiver


async def _first_reply(reader: asyncio.StreamReader) -> bytes:
    reply = b""
    while True:
        line = await reader.readline()
        reply += line
        if not line or line[3:4] != b"-":
            return reply


async def _flood(receiver: RunningReceiver) -> list[tuple[bytes, bytes]]:
    """Open every connection, hold it until all have their first reply, then end each one.

    Returns each connection's first reply and what followed it (221 after QUIT, or the
    server's close after a 421).
    """
    arrived = 0
    everyone_arrived = asyncio.Event()

    async def one() -> tuple[bytes, bytes]:
        nonlocal arrived
        reader, writer = await asyncio.open_connection(
            receiver.ip, receiver.port, local_addr=(FLOOD_IP, 0)
        )
        try:
            greeting = await _first_reply(reader)
            arrived += 1
            if arrived == CONNECTIONS:
                everyone_arrived.set()
            await everyone_arrived.wait()
            if greeting.startswith(b"220"):
                writer.write(b"QUIT\r\n")
                await writer.drain()
            return greeting, await reader.read()  # until the server closes
        finally:
            writer.close()

    async with asyncio.timeout(FLOOD_SECONDS):
        return await asyncio.gather(*(one() for _ in range(CONNECTIONS)))


def _normal_session(receiver: RunningReceiver) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the receiver's certificate is self-signed
    with smtplib.SMTP(receiver.ip, receiver.port, source_address=(FLOOD_IP, 0)) as smtp:
        smtp.starttls(context=context)
        smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], b"Subject: after\r\n\r\nhi\r\n")


def test_hundreds_of_parallel_connections_from_one_address(default_caps: RunningReceiver) -> None:
    per_address = Caps().per_address
    outcomes = asyncio.run(_flood(default_caps))

    admitted = [after for greeting, after in outcomes if greeting.startswith(b"220")]
    refused = [(g, after) for g, after in outcomes if g.startswith(b"421")]
    assert len(admitted) + len(refused) == CONNECTIONS
    assert len(admitted) == per_address  # all were open at once: the cap is reached, not passed
    assert all(after.startswith(b"221") for after in admitted)
    assert all(b"Too many connections from your address" in g for g, _ in refused)
    assert all(after == b"" for _, after in refused)  # closed right after the 421

    records = default_caps.records(FLOOD_IP, CONNECTIONS)
    assert len(records) == CONNECTIONS  # no session goes unrecorded
    ends = [record.end for record in records]
    assert ends.count(SessionEnd.CONNECTION_CAP) == len(refused)
    assert ends.count(SessionEnd.QUIT) == per_address

    assert default_caps.alive()
    _normal_session(default_caps)  # the address's open connections were all given back
    after = default_caps.records(FLOOD_IP, CONNECTIONS + 1)
    assert len(after) == CONNECTIONS + 1
    last = after[-1]
    assert last.tls is not None
    assert last.tls.version is not None
    assert last.messages[0].recipients == (f"x@{ACCEPTED_DOMAIN}",)
    assert last.end is SessionEnd.QUIT

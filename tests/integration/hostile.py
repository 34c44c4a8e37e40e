"""Scripted SMTP servers that misbehave, for the tests of a prober's defences.

Each behaviour listens on its own loopback address (127.0.3.1 ... 127.0.3.8) so that tests can
be parametrized over ``Behaviour`` and a report names the culprit by address::

    async with hostile_server(Behaviour.ENDLESS_BANNER) as server:
        ...  # connect to (server.host, server.port)

Behaviours that write without end stop when the client goes away and when the context exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailtls.demo.serving import TcpService
from mailtls.demo.smtp_server import Posture, SmtpServer
from mailtls.tls import issuing


class Behaviour(StrEnum):
    ENDLESS_BANNER = "endless_banner"  # "220-" continuation lines, never a last line
    HUGE_LINE = "huge_line"  # a 1 MiB greeting line without CRLF
    TRICKLE = "trickle"  # a valid greeting, one byte per second, continuing forever
    CLOSE_AFTER_EHLO = "close_after_ehlo"  # hangs up as soon as EHLO arrives
    GARBAGE_AFTER_STARTTLS = "garbage_after_starttls"  # random bytes instead of a ServerHello
    TOO_MANY_CONNECTIONS = "too_many_connections"  # 421 4.7.0 at greeting
    TRY_AGAIN_AFTER_EHLO = "try_again_after_ehlo"  # good greeting, 421 4.7.0 after EHLO
    SLOW_GREETING = "slow_greeting"  # greeting after a delay, then proper STARTTLS (1.2, 1.3)


ADDRESSES: Mapping[Behaviour, str] = {
    behaviour: f"127.0.3.{number}" for number, behaviour in enumerate(Behaviour, start=1)
}

HUGE_LINE_BYTES = 2**20
DEFAULT_GREETING_DELAY = 20.0
DEFAULT_BYTE_INTERVAL = 1.0
_COMMAND_TIMEOUT = 30.0  # how long the scripted servers wait for the next command
_GARBAGE_SEED = 20210111
# TLS record content types (RFC 8446 5.1, plus heartbeat): garbage must not start with one, or
# a client would wait for the rest of a plausible record instead of failing at once.
_TLS_CONTENT_TYPES = range(20, 25)


def server_name(behaviour: Behaviour) -> str:
    return f"{behaviour.value.replace('_', '-')}.hostile.mailtls.test"


def garbage_bytes(size: int = 4096) -> bytes:
    """Reproducible random bytes that cannot be mistaken for the start of a TLS record."""
    data = bytearray(random.Random(_GARBAGE_SEED).randbytes(size))
    if data[0] in _TLS_CONTENT_TYPES:
        data[0] ^= 0x80
    return bytes(data)


class HostileServer:
    """A running hostile server: where it listens and how many clients it holds."""

    def __init__(
        self,
        behaviour: Behaviour,
        host: str,
        service: TcpService | SmtpServer,
        ca_file: Path | None,
    ) -> None:
        self.behaviour = behaviour
        self.host = host
        self.name = server_name(behaviour)
        self.ca_file = ca_file  # the anchor of SLOW_GREETING's certificate; None for the others
        self._service = service

    @property
    def port(self) -> int:
        return self._service.port

    @property
    def active_connections(self) -> int:
        return self._service.active_connections


@contextlib.asynccontextmanager
async def hostile_server(
    behaviour: Behaviour,
    *,
    host: str | None = None,
    port: int = 0,
    greeting_delay: float = DEFAULT_GREETING_DELAY,
    byte_interval: float = DEFAULT_BYTE_INTERVAL,
) -> AsyncIterator[HostileServer]:
    """Run one hostile behaviour on ``host`` (default: its own address) and ``port``.

    ``greeting_delay`` is SLOW_GREETING's silence; ``byte_interval`` is TRICKLE's pace.
    """
    address = host or ADDRESSES[behaviour]
    name = server_name(behaviour)
    if behaviour is Behaviour.SLOW_GREETING:
        with tempfile.TemporaryDirectory(prefix="mailtls-hostile-") as folder:
            ca_file, chain_file, key_file = await asyncio.to_thread(
                _issue_certificate, Path(folder), (name, address)
            )
            posture = Posture(
                hostname=name,
                banner=f"{name} ESMTP slow but proper",
                chain_file=chain_file,
                key_file=key_file,
                greeting_delay=greeting_delay,
            )
            async with SmtpServer(posture, address, port) as smtp:
                yield HostileServer(behaviour, address, smtp, ca_file)
        return
    handler = _handler(behaviour, name, byte_interval)
    service = TcpService(handler, address, port)
    await service.start()
    try:
        yield HostileServer(behaviour, address, service, None)
    finally:
        await service.close()


def _issue_certificate(folder: Path, names: tuple[str, ...]) -> tuple[Path, Path, Path]:
    ca = issuing.make_ca("mailtls hostile test root")
    ca_file = issuing.write_ca_bundle(folder / "ca.pem", ca)
    chain_file, key_file = issuing.issue(names, issuer=ca).write(folder, "server")
    return ca_file, chain_file, key_file


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _handler(behaviour: Behaviour, name: str, byte_interval: float) -> Handler:
    greeting = f"220 {name} ESMTP\r\n".encode()

    async def endless_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def write_forever() -> None:
            for batch in itertools.count():
                for line in range(64):
                    writer.write(f"220-{name} banner line {batch * 64 + line}\r\n".encode())
                await writer.drain()
                await asyncio.sleep(0.005)  # endless, not a CPU hog

        await _while_peer_stays(reader, write_forever())

    async def huge_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def write_and_hold() -> None:
            writer.write(b"220 " + b"x" * (HUGE_LINE_BYTES - 4))
            await writer.drain()
            await asyncio.get_running_loop().create_future()  # hold the line open

        await _while_peer_stays(reader, write_and_hold())

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        text = f"220-{name} ESMTP at your service, eventually\r\n".encode()

        async def drip_forever() -> None:
            for byte in itertools.cycle(text):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(byte_interval)

        await _while_peer_stays(reader, drip_forever())

    async def close_after_ehlo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _send(writer, greeting)
        while _verb(await _read_line(reader)) not in ("EHLO", "HELO"):
            await _send(writer, b"502 5.5.1 Command not implemented\r\n")
        # Returning hangs up: the service closes the connection.

    async def garbage_after_starttls(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _send(writer, greeting)
        while True:
            verb = _verb(await _read_line(reader))
            if verb in ("EHLO", "HELO"):
                await _send(writer, f"250-{name}\r\n250-PIPELINING\r\n250 STARTTLS\r\n".encode())
            elif verb == "STARTTLS":
                await _send(writer, b"220 2.0.0 Ready to start TLS\r\n")
                break
            elif verb == "QUIT":
                await _send(writer, b"221 2.0.0 Bye\r\n")
                return
            else:
                await _send(writer, b"502 5.5.1 Command not implemented\r\n")

        async def garbage_and_hold() -> None:
            await _send(writer, garbage_bytes())
            await asyncio.get_running_loop().create_future()

        await _while_peer_stays(reader, garbage_and_hold())

    async def too_many_connections(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _send(writer, b"421 4.7.0 Too many connections\r\n")

    async def try_again_after_ehlo(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _send(writer, greeting)
        while _verb(await _read_line(reader)) not in ("EHLO", "HELO"):
            await _send(writer, b"502 5.5.1 Command not implemented\r\n")
        await _send(writer, b"421 4.7.0 Try again later\r\n")

    handlers: dict[Behaviour, Handler] = {
        Behaviour.ENDLESS_BANNER: endless_banner,
        Behaviour.HUGE_LINE: huge_line,
        Behaviour.TRICKLE: trickle,
        Behaviour.CLOSE_AFTER_EHLO: close_after_ehlo,
        Behaviour.GARBAGE_AFTER_STARTTLS: garbage_after_starttls,
        Behaviour.TOO_MANY_CONNECTIONS: too_many_connections,
        Behaviour.TRY_AGAIN_AFTER_EHLO: try_again_after_ehlo,
    }
    return handlers[behaviour]


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(_COMMAND_TIMEOUT):
        return await reader.readuntil(b"\n")


def _verb(line: bytes) -> str:
    return line.strip().split(b" ", 1)[0].decode("ascii", "replace").upper()


async def _drain_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(2**16):
        pass


async def _while_peer_stays(reader: asyncio.StreamReader, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or the client hangs up, whichever comes first."""
    work_task = asyncio.ensure_future(work)
    watch_task = asyncio.ensure_future(_drain_until_eof(reader))
    try:
        await asyncio.wait({work_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        work_task.cancel()
        watch_task.cancel()
        # Collect both, so no exception (a reset peer) is left unretrieved.
        await asyncio.gather(work_task, watch_task, return_exceptions=True)

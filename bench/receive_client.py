"""The load client: many concurrent SMTP sessions with STARTTLS (TLS 1.2), one small message each.

Every session goes the way a sending MTA's does: greeting, EHLO, STARTTLS and the handshake,
EHLO again, MAIL, RCPT, DATA with a small message, QUIT. The same client drives every server in
a run, so their figures differ only by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field

CLIENT_NAME = "load.client.example"
SENDER = "load@client.example"
SNI = "mx.bench.example"
MESSAGE = (
    b"From: load@client.example\r\n"
    b"To: sink@bench.example\r\n"
    b"Subject: receive benchmark\r\n"
    b"Message-ID: <load@client.example>\r\n"
    b"\r\n" + b"A small message of a few hundred bytes, as a test mail is.\r\n" * 5
)
SESSION_SECONDS = 60.0  # one stuck session must not stall a phase for ever


class SmtpRefused(Exception):
    """The server answered a step with an unexpected code."""


def client_context() -> ssl.SSLContext:
    """TLS 1.2 only, no certificate check: what an opportunistic MTA does, pinned to one version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass(frozen=True)
class Target:
    name: str  # "postfix" or "mailtls-receive"
    ip: str
    port: int
    recipient: str


async def _reply(reader: asyncio.StreamReader, expected: str, step: str) -> None:
    while True:
        line = await reader.readline()
        if not line:
            raise SmtpRefused(f"{step}: connection closed")
        if line[3:4] != b"-":
            break
    if not line.startswith(expected.encode()):
        raise SmtpRefused(f"{step}: {line[:3].decode(errors='replace')}")


async def _command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str, expected: str
) -> None:
    writer.write(line.encode() + b"\r\n")
    verb = line.partition(" ")[0]
    await _reply(reader, expected, verb)


@dataclass
class Tally:
    """What one phase's sessions did, as the client saw it."""

    opened: int = 0  # connections the server accepted (a greeting or any reply came back)
    completed: int = 0  # QUIT answered with 221 after the message was accepted with 250
    failures: Counter[str] = field(default_factory=Counter)
    negotiated: Counter[str] = field(default_factory=Counter)  # "TLSv1.2 ECDHE-RSA-..."


async def one_session(
    target: Target,
    source_ip: str,
    context: ssl.SSLContext,
    tally: Tally,
    *,
    hold: asyncio.Event | None = None,
    on_held: asyncio.Queue[bool] | None = None,
) -> None:
    """One whole session; with ``hold``, it waits after STARTTLS and EHLO until the event.

    ``on_held`` hears True when the session is held, or False when it failed before.
    """
    writer = None
    reported = False
    try:
        async with asyncio.timeout(SESSION_SECONDS if hold is None else None):
            reader, writer = await asyncio.open_connection(
                target.ip, target.port, local_addr=(source_ip, 0)
            )
            tally.opened += 1
            await _reply(reader, "220", "greeting")
            await _command(reader, writer, f"EHLO {CLIENT_NAME}", "250")
            await _command(reader, writer, "STARTTLS", "220")
            await writer.start_tls(context, server_hostname=SNI)
            ssl_object = writer.get_extra_info("ssl_object")
            tally.negotiated[f"{ssl_object.version()} {ssl_object.cipher()[0]}"] += 1
            await _command(reader, writer, f"EHLO {CLIENT_NAME}", "250")
            if hold is not None and on_held is not None:
                on_held.put_nowait(True)
                reported = True
                await hold.wait()
            await _command(reader, writer, f"MAIL FROM:<{SENDER}>", "250")
            await _command(reader, writer, f"RCPT TO:<{target.recipient}>", "250")
            await _command(reader, writer, "DATA", "354")
            writer.write(MESSAGE + b".\r\n")
            await _reply(reader, "250", "end of DATA")
            await _command(reader, writer, "QUIT", "221")
            tally.completed += 1
    except (OSError, ssl.SSLError, SmtpRefused, TimeoutError, asyncio.IncompleteReadError) as error:
        tally.failures[f"{type(error).__name__}: {error}"[:120]] += 1
        if on_held is not None and not reported:
            on_held.put_nowait(False)
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


@dataclass(frozen=True)
class Phase:
    """Sessions back to back on ``concurrency`` connections for ``seconds``."""

    target: str
    concurrency: int
    seconds: float  # from the first connection to the last session's end
    opened: int
    completed: int
    failures: dict[str, int]
    negotiated: dict[str, int]

    @property
    def sessions_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


async def run_phase(
    target: Target, source_ip: str, concurrency: int, duration: float, context: ssl.SSLContext
) -> Phase:
    """``concurrency`` workers start sessions until ``duration`` has passed, then finish theirs."""
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await one_session(target, source_ip, context, tally)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Phase(
        target=target.name,
        concurrency=concurrency,
        seconds=round(time.perf_counter() - started, 3),
        opened=tally.opened,
        completed=tally.completed,
        failures=dict(tally.failures),
        negotiated=dict(tally.negotiated),
    )


@dataclass(frozen=True)
class Hold:
    """``wanted`` sessions opened together and held after STARTTLS until all are, then finished."""

    target: str
    wanted: int
    held_at_once: int  # sessions past STARTTLS and EHLO, all open at the same moment
    seconds_to_hold_all: float | None  # None: not all of them got there within the limit
    opened: int
    completed: int
    failures: dict[str, int]


async def hold_sessions(
    target: Target, source_ip: str, wanted: int, context: ssl.SSLContext, limit: float
) -> Hold:
    tally = Tally()
    release = asyncio.Event()
    held: asyncio.Queue[bool] = asyncio.Queue()
    started = time.perf_counter()
    sessions = [
        asyncio.create_task(
            one_session(target, source_ip, context, tally, hold=release, on_held=held)
        )
        for _ in range(wanted)
    ]
    count = heard = 0
    reached_all: float | None = None
    try:
        async with asyncio.timeout(limit):
            while heard < wanted:
                count += await held.get()
                heard += 1
            if count == wanted:
                reached_all = time.perf_counter() - started
    except TimeoutError:
        pass
    # No session goes past the hold before the release: every one counted is open right now.
    held_at_once = count
    release.set()
    await asyncio.gather(*sessions)
    return Hold(
        target=target.name,
        wanted=wanted,
        held_at_once=held_at_once,
        seconds_to_hold_all=None if reached_all is None else round(reached_all, 3),
        opened=tally.opened,
        completed=tally.completed,
        failures=dict(tally.failures),
    )

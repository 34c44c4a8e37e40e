"""Run the receiver: listeners on the given addresses, and the records written as sessions end.

Records leave the event loop through a queue to one writer thread, which commits each to the
store (one transaction per session) and writes it as a JSON line if asked. The loop never waits
for the database; on shutdown the writer drains the queue before the store is closed, so no
record of a finished session is lost.
"""

from __future__ import annotations

import asyncio
import queue
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import dns.reversename

from mailtls.models import DnsStatus, Endpoint
from mailtls.net.dns import DnsClient
from mailtls.net.nameservers import Nameserver
from mailtls.receiver.limits import ConnectionLimiter
from mailtls.receiver.models import ReceivedSession
from mailtls.receiver.protocol import RecordingSMTP
from mailtls.receiver.render import json_line
from mailtls.receiver.settings import ReceiverSettings

REVERSE_LOOKUP_SECONDS = 3.0
# Pending connections the kernel queues for accept() (capped by net.core.somaxconn). asyncio's
# default of 100 is too few for a burst: past it Linux answers with SYN cookies and drops the
# client's final ACK while the queue is full, and since SMTP waits for the server to speak
# first, such a client then hangs without a greeting instead of getting 220 or 421.
LISTEN_BACKLOG = 1024


class RecordWriter:
    """One thread that stores and prints records in the order sessions ended."""

    def __init__(
        self,
        save: Callable[[ReceivedSession], int] | None,
        json_lines: TextIO | None,
        on_saved: Callable[[ReceivedSession, int | None], None] | None = None,
    ) -> None:
        self._save = save
        self._json_lines = json_lines
        self._on_saved = on_saved
        self._queue: queue.Queue[ReceivedSession | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mailtls-receive-writer")
        self.written = 0
        self.failures: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def put(self, record: ReceivedSession) -> None:
        self._queue.put(record)

    def close(self) -> None:
        """Write everything queued, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (record := self._queue.get()) is not None:
            record_id = None
            try:
                if self._save is not None:
                    record_id = self._save(record)
                if self._json_lines is not None:
                    self._json_lines.write(json_line(record, record_id) + "\n")
                    self._json_lines.flush()
                self.written += 1
                if self._on_saved is not None:
                    self._on_saved(record, record_id)
            except Exception as problem:  # a failed write must not stop the later ones
                self.failures.append(f"{type(problem).__name__}: {problem}")


def reverse_lookup(nameservers: tuple[Nameserver, ...]) -> Callable[[str], object]:
    """A PTR lookup through the given resolvers only; None when nothing usable comes back."""
    client = DnsClient(nameservers, timeout=REVERSE_LOOKUP_SECONDS, cache_size=10_000)

    async def look_up(address: str) -> str | None:
        name = dns.reversename.from_address(address).to_text()
        outcome = await client.lookup(name, "PTR")
        if outcome.status is not DnsStatus.OK or not outcome.records:
            return None
        return outcome.records[0].rstrip(".")

    return look_up


@dataclass
class Receiver:
    """Listening sockets of one receiver, and what they share."""

    settings: ReceiverSettings
    tls_context: ssl.SSLContext
    sink: Callable[[ReceivedSession], None]
    nameservers: tuple[Nameserver, ...] = ()
    servers: list[asyncio.Server] = field(default_factory=list)
    active: set[RecordingSMTP] = field(default_factory=set)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        limiter = ConnectionLimiter(self.settings.caps)
        lookup = reverse_lookup(self.nameservers) if self.nameservers else None
        for endpoint in self.settings.listen:
            listener = str(endpoint)

            def factory(listener: str = listener) -> RecordingSMTP:
                return RecordingSMTP(
                    self.settings,
                    tls_context=self.tls_context,
                    limiter=limiter,
                    sink=self.sink,
                    listener=listener,
                    reverse_lookup=lookup,
                    active=self.active,
                )

            self.servers.append(
                await loop.create_server(
                    factory,
                    host=endpoint.ip,
                    port=endpoint.port,
                    reuse_address=True,
                    backlog=LISTEN_BACKLOG,
                )
            )

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for session in list(self.active):
            session.stop()
        # connection_lost (which hands over each record) runs on the next loop iterations.
        for _ in range(50):
            if not self.active:
                break
            await asyncio.sleep(0.02)
        for server in self.servers:
            await server.wait_closed()


def bound(endpoints: tuple[Endpoint, ...], servers: list[asyncio.Server]) -> list[str]:
    """The addresses actually listened on (port 0 becomes the kernel's choice)."""
    shown = []
    for server in servers:
        for sock in server.sockets:
            host, port = sock.getsockname()[:2]
            shown.append(str(Endpoint(ip=host, port=port)))
    return shown or [str(endpoint) for endpoint in endpoints]

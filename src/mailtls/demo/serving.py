"""A listening TCP socket whose connections all end when it closes.

``asyncio.Server.close()`` stops accepting but leaves running connections alone (on Python 3.11
``wait_closed`` does not even wait for them), so a server that must shut down with no pending task
and no unclosed transport has to track and end its own connections. The demo's SMTP and DNS
servers and the test suite's hostile servers share this one piece.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

# How long a closing connection may take to deliver what is still queued before it is cut.
_CLOSE_GRACE_SECONDS = 2.0


async def close_writer(
    writer: asyncio.StreamWriter, *, grace: float = _CLOSE_GRACE_SECONDS
) -> None:
    """Close a connection and wait until its transport is gone, cutting it after ``grace``."""
    if not writer.transport.is_closing():
        writer.close()
    try:
        async with asyncio.timeout(grace):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        # A peer that reset the connection, or one that stopped reading while data is still
        # queued for it: either way nothing more will get through, so drop the socket now.
        writer.transport.abort()


class Service:
    """``start()``/``close()`` plus ``async with``, for the demo's servers."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class TcpService:
    """Serve ``handler`` on (host, port); ``close()`` ends every open connection too.

    ``port=0`` binds an ephemeral port; ``port`` tells which one after ``start()``. A handler
    need not close its writer: the service does, however the handler ends. A peer that goes
    away (reset, EOF, TLS failure, timeout) ends the handler quietly; any other exception is a
    bug and is left to asyncio to report.

    It accepts connections itself rather than through ``asyncio.start_server``: there, a
    connection accepted just before ``close()`` is set up by a task the caller cannot see, and
    on Python 3.11 nothing waits for it, so its socket can outlive the service.
    """

    def __init__(
        self,
        handler: ConnectionHandler,
        host: str,
        port: int = 0,
        *,
        line_limit: int = 2**16,
        backlog: int = 100,
    ) -> None:
        self._handler = handler
        self._host = host
        self._requested_port = port
        self._line_limit = line_limit
        self._backlog = backlog
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the service is not started")
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def active_connections(self) -> int:
        """How many connections are being served right now."""
        return len(self._connections)

    async def start(self) -> None:
        if self._listener is not None:
            raise RuntimeError("the service is already started")
        family, _, _, _, address = socket.getaddrinfo(
            self._host, self._requested_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            # As asyncio does: a restart must not wait for old connections in TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(self._backlog)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(listener.fileno(), self._accept_ready)

    async def close(self) -> None:
        if self._listener is None or self._loop is None or self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._listener.fileno())
        self._listener.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)

    def _accept_ready(self) -> None:
        # Accepting in a plain callback, with no await between accept() and the task that owns
        # the socket, leaves no moment at which close() could miss an accepted connection.
        assert self._listener is not None
        assert self._loop is not None
        while True:
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # Out of file descriptors, or a client that gave up while queued: the listener
                # stays readable, so pause it for a breath instead of spinning.
                self._loop.remove_reader(self._listener.fileno())
                self._loop.call_later(0.1, self._resume_accepting)
                return
            connection.setblocking(False)
            task = self._loop.create_task(self._serve(connection))
            self._connections.add(task)
            task.add_done_callback(functools.partial(self._forget, connection))

    def _resume_accepting(self) -> None:
        if not self._closing and self._listener is not None and self._loop is not None:
            self._loop.add_reader(self._listener.fileno(), self._accept_ready)

    def _forget(self, connection: socket.socket, task: asyncio.Task[None]) -> None:
        self._connections.discard(task)
        # A no-op when the transport closed it; the only close for a task cancelled before
        # it ever ran.
        connection.close()

    async def _serve(self, connection: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=self._line_limit)
        accepted: list[asyncio.StreamWriter] = []
        # A connected callback marks the protocol as the server side (``start_tls`` relies on
        # that); a plain function, not a coroutine, so that no task is started behind our back.
        protocol = asyncio.StreamReaderProtocol(reader, lambda _, writer: accepted.append(writer))
        await loop.connect_accepted_socket(lambda: protocol, connection)
        writer = accepted[0]
        try:
            try:
                if not self._closing:
                    await self._handler(reader, writer)
            except (OSError, EOFError, asyncio.LimitOverrunError):
                pass  # the peer went away or broke framing: the connection simply ends
            await close_writer(writer)
        except BaseException:
            # Shutting down (cancelled) or a bug in the handler: no goodbye, but no socket left
            # behind either.
            writer.transport.abort()
            await close_writer(writer)
            raise

"""Line-oriented I/O over a TCP stream that a server can switch to TLS in mid-conversation.

asyncio's own upgrade (``StreamWriter.start_tls``) drops the TLS alert when it refuses a
handshake: the client sees the connection vanish (an unexpected EOF) instead of "protocol
version" or "handshake failure", unlike any real mail server. So the TLS here runs through
``ssl.SSLObject`` and memory BIOs, driven by hand, and every byte OpenSSL wants to send,
alerts included, reaches the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

_READ_SIZE = 2**16


class LineTooLong(Exception):
    """The peer sent more than the line limit without a line feed."""


class LineChannel:
    """Reads lines and writes bytes, in plaintext or, after ``start_tls``, over TLS."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        line_limit: int,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._line_limit = line_limit
        self._buffer = bytearray()  # received plaintext not yet returned as lines
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls: ssl.SSLObject | None = None
        self._tls_ended = False  # the peer sent close_notify: lines already decrypted still count

    @property
    def tls(self) -> ssl.SSLObject | None:
        """The TLS session once ``start_tls`` succeeded (version, cipher, ...), else None."""
        return self._tls

    async def read_line(self) -> bytes:
        """The next line, line feed included.

        Raises ``EOFError`` when the peer ends the connection (or TLS) and ``LineTooLong`` when
        ``line_limit`` bytes arrive without a line feed.
        """
        while True:
            end = self._buffer.find(b"\n", 0, self._line_limit)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) >= self._line_limit:
                raise LineTooLong(f"no line feed within {self._line_limit} bytes")
            await self._receive()

    async def write(self, data: bytes) -> None:
        if self._tls is None:
            self._writer.write(data)
        else:
            self._tls.write(data)
            self._writer.write(self._outgoing.read())
        await self._writer.drain()

    async def start_tls(self, context: ssl.SSLContext, *, handshake_timeout: float) -> None:
        """Act as the TLS server; raises ``ssl.SSLError`` (after sending the alert) on refusal."""
        # RFC 3207 section 6: bytes the client sent before the handshake must not count as
        # commands after it (the STARTTLS command injection of CVE-2011-0411).
        self._buffer.clear()
        tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        async with asyncio.timeout(handshake_timeout):
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    await self._flush()
                    self._incoming.write(await self._read_raw())
                except ssl.SSLError:
                    await self._flush()  # the alert that tells the client why
                    raise
        await self._flush()
        self._tls = tls
        # The client may have sent its first command along with its last handshake message.
        await self._decrypt_available()

    async def close_tls(self) -> None:
        """Say goodbye at the TLS level (close_notify) without waiting for the answer."""
        if self._tls is None:
            return
        # In memory-BIO mode unwrap() always ends wanting the peer's close_notify: no error.
        with contextlib.suppress(ssl.SSLError):
            self._tls.unwrap()
        await self._flush()

    async def _receive(self) -> None:
        if self._tls_ended:
            raise EOFError("the peer ended TLS")
        data = await self._read_raw()
        if self._tls is None:
            self._buffer += data
        else:
            self._incoming.write(data)
            await self._decrypt_available()

    async def _read_raw(self) -> bytes:
        data = await self._reader.read(_READ_SIZE)
        if not data:
            raise EOFError("the peer closed the connection")
        return data

    async def _decrypt_available(self) -> None:
        assert self._tls is not None
        while True:
            try:
                chunk = self._tls.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self._tls_ended = True
                break
            if not chunk:
                break
            self._buffer += chunk
        await self._flush()  # post-handshake messages (TLS 1.3 tickets, key updates)

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._writer.write(pending)
            await self._writer.drain()

"""The hostile servers do what they claim, checked with plain sockets and Python's ssl."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from tests.integration.hostile import (
    ADDRESSES,
    HUGE_LINE_BYTES,
    Behaviour,
    HostileServer,
    garbage_bytes,
    hostile_server,
)

T = TypeVar("T")
FOREVER_WRITERS = (
    Behaviour.ENDLESS_BANNER,
    Behaviour.HUGE_LINE,
    Behaviour.TRICKLE,
    Behaviour.GARBAGE_AFTER_STARTTLS,
)


def run_against(behaviour: Behaviour, client: Callable[[HostileServer], T], **options: Any) -> T:
    """Run ``behaviour`` while a blocking client runs in a thread; return the client's result."""

    async def main() -> T:
        async with hostile_server(behaviour, **options) as server:
            return await asyncio.to_thread(client, server)

    return asyncio.run(main())


def connect(server: HostileServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=5)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def read_reply(sock: socket.socket) -> bytes:
    """One complete SMTP reply (up to the line whose code is followed by a space)."""
    received = b""
    while True:
        chunk = sock.recv(4096)
        assert chunk, f"closed after {received!r}"
        received += chunk
        lines = received.split(b"\r\n")
        if len(lines) > 1 and any(line[3:4] == b" " for line in lines[:-1]):
            return received


def wait_until_idle(server: HostileServer, limit: float = 3.0) -> float:
    """How long the server took to let go of its connections after the client left."""
    started = time.monotonic()
    while server.active_connections:
        assert time.monotonic() - started < limit, "the server still holds the connection"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("behaviour", list(Behaviour))
def test_each_behaviour_listens_on_its_own_loopback_address(behaviour: Behaviour) -> None:
    def client(server: HostileServer) -> tuple[str, str]:
        with connect(server) as sock:
            peer = sock.getpeername()[0]
        return server.host, peer

    host, peer = run_against(behaviour, client, greeting_delay=0.0)
    assert host == peer == ADDRESSES[behaviour]
    assert ipaddress.ip_address(host) in ipaddress.ip_network("127.0.3.0/24")
    assert len(set(ADDRESSES.values())) == len(Behaviour)


def test_endless_banner_never_ends_and_stops_when_the_client_leaves() -> None:
    def client(server: HostileServer) -> tuple[list[bytes], float]:
        with connect(server) as sock, sock.makefile("rb") as stream:
            lines = [stream.readline() for _ in range(500)]
        return lines, wait_until_idle(server)

    lines, _ = run_against(Behaviour.ENDLESS_BANNER, client)
    assert all(line.startswith(b"220-") and line.endswith(b"\r\n") for line in lines)
    assert len(set(lines)) == 500  # a stream of lines, not one line read over and over


def test_huge_line_is_one_mebibyte_without_a_line_end() -> None:
    def client(server: HostileServer) -> tuple[bytes, bytes]:
        with connect(server) as sock:
            received = b""
            while len(received) < HUGE_LINE_BYTES:
                chunk = sock.recv(2**16)
                assert chunk
                received += chunk
            sock.settimeout(0.3)
            try:
                more = sock.recv(4096)
            except TimeoutError:
                more = b""
        wait_until_idle(server)
        return received, more

    received, more = run_against(Behaviour.HUGE_LINE, client)
    assert len(received) == HUGE_LINE_BYTES
    assert received.startswith(b"220 ")
    assert b"\n" not in received
    assert more == b""  # the server holds the line open, sending nothing after it


def test_trickle_sends_one_byte_at_a_time() -> None:
    def client(server: HostileServer) -> tuple[list[bytes], float]:
        with connect(server) as sock:
            started = time.monotonic()
            chunks = [sock.recv(4096) for _ in range(8)]
            elapsed = time.monotonic() - started
        wait_until_idle(server)
        return chunks, elapsed

    chunks, elapsed = run_against(Behaviour.TRICKLE, client, byte_interval=0.05)
    assert all(len(chunk) == 1 for chunk in chunks)
    assert b"".join(chunks) == b"220-tric"
    assert elapsed >= 7 * 0.05 * 0.8


def test_close_after_ehlo_hangs_up_on_ehlo_only() -> None:
    def client(server: HostileServer) -> tuple[bytes, bytes, bytes]:
        with connect(server) as sock:
            greeting = read_reply(sock)
            sock.sendall(b"NOOP\r\n")
            noop = read_reply(sock)
            sock.sendall(b"EHLO client.test\r\n")
            return greeting, noop, read_until_closed(sock)

    greeting, noop, after_ehlo = run_against(Behaviour.CLOSE_AFTER_EHLO, client)
    assert greeting.startswith(b"220 ")
    assert noop.startswith(b"502 ")
    assert after_ehlo == b""


def _up_to_starttls(sock: socket.socket) -> bytes:
    read_reply(sock)
    sock.sendall(b"EHLO client.test\r\n")
    assert b"250 STARTTLS\r\n" in read_reply(sock)
    sock.sendall(b"STARTTLS\r\n")
    return read_reply(sock)


def test_garbage_after_starttls_is_not_tls() -> None:
    def client(server: HostileServer) -> tuple[bytes, bytes]:
        with connect(server) as sock:
            go_ahead = _up_to_starttls(sock)
            received = b""
            while len(received) < 4096:
                received += sock.recv(4096)
        return go_ahead, received

    go_ahead, received = run_against(Behaviour.GARBAGE_AFTER_STARTTLS, client)
    assert go_ahead == b"220 2.0.0 Ready to start TLS\r\n"
    assert received == garbage_bytes()
    assert received[0] not in range(20, 25)  # no TLS record type


def test_garbage_after_starttls_fails_a_real_handshake() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def client(server: HostileServer) -> type[BaseException]:
        with connect(server) as sock:
            _up_to_starttls(sock)
            with pytest.raises(ssl.SSLError) as failure:
                context.wrap_socket(sock, server_hostname=server.name)
        wait_until_idle(server)
        return failure.type

    assert issubclass(run_against(Behaviour.GARBAGE_AFTER_STARTTLS, client), ssl.SSLError)


def test_too_many_connections_at_greeting() -> None:
    def client(server: HostileServer) -> bytes:
        with connect(server) as sock:
            return read_until_closed(sock)

    assert run_against(Behaviour.TOO_MANY_CONNECTIONS, client) == (
        b"421 4.7.0 Too many connections\r\n"
    )


def test_try_again_later_after_ehlo() -> None:
    def client(server: HostileServer) -> tuple[bytes, bytes]:
        with connect(server) as sock:
            greeting = read_reply(sock)
            sock.sendall(b"EHLO client.test\r\n")
            return greeting, read_until_closed(sock)

    greeting, rest = run_against(Behaviour.TRY_AGAIN_AFTER_EHLO, client)
    assert greeting.startswith(b"220 ")
    assert rest == b"421 4.7.0 Try again later\r\n"


def test_slow_greeting_then_proper_starttls() -> None:
    def client(server: HostileServer) -> tuple[float, bytes, str | None]:
        assert server.ca_file is not None
        context = ssl.create_default_context(cafile=str(server.ca_file))
        started = time.monotonic()
        with connect(server) as sock:
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(1024)  # silence first
            sock.settimeout(5)
            greeting = read_reply(sock)
            waited = time.monotonic() - started
            sock.sendall(b"EHLO client.test\r\n")
            assert b"STARTTLS" in read_reply(sock)
            sock.sendall(b"STARTTLS\r\n")
            assert read_reply(sock).startswith(b"220 ")
            with context.wrap_socket(sock, server_hostname=server.name) as tls:
                return waited, greeting, tls.version()

    waited, greeting, version = run_against(Behaviour.SLOW_GREETING, client, greeting_delay=0.6)
    assert waited >= 0.6
    assert greeting == b"220 slow-greeting.hostile.mailtls.test ESMTP slow but proper\r\n"
    assert version == "TLSv1.3"


def pinned_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client offering exactly ``version``, at security level 0 so only the server can say no."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 on purpose
        context.minimum_version = context.maximum_version = version
    return context


def test_slow_greeting_speaks_tls12_but_not_tls11() -> None:
    tls12 = pinned_context(ssl.TLSVersion.TLSv1_2)
    tls11 = pinned_context(ssl.TLSVersion.TLSv1_1)

    def handshake(server: HostileServer, context: ssl.SSLContext) -> str | None:
        with connect(server) as sock:
            _up_to_starttls(sock)
            try:
                with context.wrap_socket(sock, server_hostname=server.name) as tls:
                    return tls.version()
            except ssl.SSLError as refusal:
                return refusal.reason

    def client(server: HostileServer) -> tuple[str | None, str | None]:
        return handshake(server, tls12), handshake(server, tls11)

    assert run_against(Behaviour.SLOW_GREETING, client, greeting_delay=0.0) == (
        "TLSv1.2",
        "TLSV1_ALERT_PROTOCOL_VERSION",
    )


@pytest.mark.parametrize("behaviour", FOREVER_WRITERS)
def test_leaving_the_context_ends_connections_that_never_end(behaviour: Behaviour) -> None:
    async def main() -> tuple[float, int, bytes | str]:
        async with hostile_server(behaviour, byte_interval=0.01) as server:
            reader, writer = await asyncio.open_connection(server.host, server.port)
            if behaviour is Behaviour.GARBAGE_AFTER_STARTTLS:
                writer.write(b"EHLO client.test\r\nSTARTTLS\r\n")
            await asyncio.sleep(0.2)  # the server is busy writing; this client does not read
            held = server.active_connections
            started = time.monotonic()
        elapsed = time.monotonic() - started
        try:
            async with asyncio.timeout(5):
                while await reader.read(2**16):
                    pass  # what was sent before the end
            ending: bytes | str = b""
        except ConnectionResetError:
            ending = "reset"
        writer.close()
        await writer.wait_closed()
        return elapsed, held, ending

    elapsed, held, ending = asyncio.run(main())
    assert held == 1
    assert elapsed < 1.0
    assert ending in (b"", "reset")

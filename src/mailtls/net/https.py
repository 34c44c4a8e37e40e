"""Fetching an MTA-STS policy over HTTPS (RFC 8461 3.3), within limits, as data.

``https://mta-sts.<domain>/.well-known/mta-sts.txt`` with the certificate verified against the
system store or ``--ca-file`` for the name ``mta-sts.<domain>``; redirects are not followed
(3.3: "HTTP 3xx redirects MUST NOT be followed"); the body is limited to 64 KiB and the whole
fetch to one deadline, so a server that trickles or sends megabytes cannot hold a check.

The name is resolved by mailtls's own DNS client (the ``--nameserver`` given), not the system's:
httpcore connects to the addresses we hand it, while TLS still checks the name. Every outcome
is a :class:`PolicyFetch`; nothing is raised for a server's behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore

from mailtls import __version__
from mailtls.errors import UsageError
from mailtls.models import MtaStsFetch

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 3.3's suggested maximum


@dataclass(frozen=True)
class PolicyFetch:
    outcome: MtaStsFetch
    body: str | None  # the policy text, when outcome is OK
    detail: str | None  # what happened, for a report, when not OK


def policy_host(domain: str) -> str:
    return f"mta-sts.{domain}"


def policy_url(domain: str) -> str:
    return f"https://{policy_host(domain)}{POLICY_PATH}"


def https_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verification as a sender does it: the system's roots, or only ``ca_file``'s (PEM, or
    one DER certificate, as ``--ca-file`` takes)."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        content = ca_file.read_bytes()
        if b"-----BEGIN" in content:
            return ssl.create_default_context(cadata=content.decode("ascii", errors="replace"))
        return ssl.create_default_context(cadata=content)
    except (OSError, ssl.SSLError, ValueError) as problem:
        raise UsageError(f"--ca-file {ca_file}: {problem}") from None


class _ResolvedBackend(httpcore.AsyncNetworkBackend):
    """Connects to addresses resolved beforehand, in order, instead of asking the system."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self._addresses = tuple(addresses)
        self._inner = httpcore.AnyIOBackend()
        self.opened: list[httpcore.AsyncNetworkStream] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        failures: list[str] = []
        for address in self._addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout=timeout, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as error:
                failures.append(f"{address}: {error or type(error).__name__}")
                continue
            self.opened.append(stream)
            return stream
        raise httpcore.ConnectError("; ".join(failures) or f"{host} has no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def fetch_policy(
    domain: str,
    addresses: Sequence[str],
    *,
    context: ssl.SSLContext,
    seconds: float,
    max_bytes: int = MAX_POLICY_BYTES,
) -> PolicyFetch:
    """GET the domain's policy from ``addresses`` (those of ``mta-sts.<domain>``)."""
    if not addresses:
        return PolicyFetch(
            MtaStsFetch.CONNECT_FAILED, None, f"{policy_host(domain)} has no address"
        )
    try:
        async with asyncio.timeout(seconds):
            return await _fetch(domain, addresses, context, seconds, max_bytes)
    except TimeoutError:
        return PolicyFetch(MtaStsFetch.TIMEOUT, None, f"no complete answer within {seconds:g} s")


async def _fetch(
    domain: str,
    addresses: Sequence[str],
    context: ssl.SSLContext,
    seconds: float,
    max_bytes: int,
) -> PolicyFetch:
    backend = _ResolvedBackend(addresses)
    pool = httpcore.AsyncConnectionPool(
        ssl_context=context, network_backend=backend, max_connections=1, retries=0
    )
    try:
        return await _request(pool, domain, seconds, max_bytes)
    finally:
        # The deadline may cancel us mid-handshake, before the pool owns the connection: close
        # every socket opened, whatever state it is in.
        for stream in backend.opened:
            with contextlib.suppress(Exception):
                await stream.aclose()


async def _request(
    pool: httpcore.AsyncConnectionPool, domain: str, seconds: float, max_bytes: int
) -> PolicyFetch:
    headers = [(b"User-Agent", f"mailtls/{__version__}".encode()), (b"Accept", b"text/plain")]
    extensions = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), seconds)}
    try:
        async with (
            pool,
            pool.stream(
                "GET", policy_url(domain), headers=headers, extensions=extensions
            ) as response,
        ):
            return await _read(response, max_bytes)
    except httpcore.TimeoutException as error:
        return PolicyFetch(MtaStsFetch.TIMEOUT, None, _words(error, "timed out"))
    except httpcore.ConnectError as error:
        text = _words(error, "connection failed")
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return PolicyFetch(MtaStsFetch.TLS_ERROR, None, text)
        return PolicyFetch(MtaStsFetch.CONNECT_FAILED, None, text)
    except (httpcore.ProtocolError, httpcore.NetworkError) as error:
        return PolicyFetch(MtaStsFetch.HTTP_ERROR, None, _words(error, "broken HTTP answer"))
    except ssl.SSLError as error:
        return PolicyFetch(MtaStsFetch.TLS_ERROR, None, _words(error, "TLS failed"))


async def _read(response: httpcore.Response, max_bytes: int) -> PolicyFetch:
    status = response.status
    if status == 404:
        return PolicyFetch(MtaStsFetch.NOT_FOUND, None, "HTTP 404: no policy at this address")
    if status != 200:
        location = _header(response, b"location")
        detail = f"HTTP {status}"
        if 300 <= status < 400:
            where = f" to {location}" if location else ""
            detail += f": a redirect{where}, which RFC 8461 3.3 forbids following"
        return PolicyFetch(MtaStsFetch.HTTP_ERROR, None, detail)
    media_type = (_header(response, b"content-type") or "").split(";", 1)[0].strip().lower()
    if media_type != "text/plain":
        shown = media_type or "none"
        return PolicyFetch(
            MtaStsFetch.WRONG_TYPE, None, f"Content-Type {shown}; RFC 8461 3.3 asks for text/plain"
        )
    body = bytearray()
    async for chunk in response.aiter_stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            return PolicyFetch(
                MtaStsFetch.TOO_LARGE, None, f"more than {max_bytes // 1024} KiB: not read further"
            )
    return PolicyFetch(MtaStsFetch.OK, body.decode("utf-8", errors="replace"), None)


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")[:200]
    return None


def _words(error: BaseException, fallback: str) -> str:
    text = " ".join(str(error).split())
    return text[:300] if text else fallback

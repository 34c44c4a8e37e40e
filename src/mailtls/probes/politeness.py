"""Politeness towards each server of a bulk scan: one connection at a time per IP, a gap
between connections, and a growing wait after a server says it is busy (421, other 4xx).

A run of ten thousand domains that share a provider's MX hosts must not look like an attack on
that provider; a server that answers 421 "too many connections" gets time before we come back.
State is kept only for IPs in use or inside their gap, so memory does not grow with the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from mailtls.models import ProbeResult, ReplyClass

# Replies after which the same connection is worth trying again later: the server is busy,
# not refusing us for good (5xx) or broken.
_RETRYABLE = frozenset({ReplyClass.RATE_LIMITED, ReplyClass.TEMPORARY})


@dataclass(frozen=True)
class PolitenessSettings:
    connections_per_ip: int = 1
    gap_seconds: float = 0.5  # between the end of one connection and the next to the same IP
    backoff_seconds: float = 5.0  # the first wait after a busy reply; doubles with each retry
    backoff_limit_seconds: float = 60.0
    retries: int = 2  # attempts of one probe after busy replies, within the address's deadline


@dataclass
class _IpState:
    slots: asyncio.Semaphore
    next_allowed: float = 0.0  # loop time before which no new connection may start
    users: int = 0
    prune: asyncio.TimerHandle | None = field(default=None, repr=False)


class PolitenessGate:
    """Shared by every probe of a run; only for use inside one event loop."""

    def __init__(self, settings: PolitenessSettings) -> None:
        self.settings = settings
        self._states: dict[str, _IpState] = {}

    @property
    def tracked_ips(self) -> int:
        """IPs with state kept: in use, or inside their gap."""
        return len(self._states)

    def _state(self, ip: str) -> _IpState:
        state = self._states.get(ip)
        if state is None:
            state = _IpState(asyncio.Semaphore(self.settings.connections_per_ip))
            self._states[ip] = state
        if state.prune is not None:
            state.prune.cancel()
            state.prune = None
        return state

    @asynccontextmanager
    async def connection(self, ip: str) -> AsyncIterator[None]:
        """Hold one of the IP's connection slots, after its gap or back-off has passed."""
        loop = asyncio.get_running_loop()
        state = self._state(ip)
        state.users += 1
        try:
            async with state.slots:
                # A back-off set while we slept (another slot's busy reply) counts too: a
                # deadline that moves is re-read, which an Event could not express.
                while (wait := state.next_allowed - loop.time()) > 0:  # noqa: ASYNC110
                    await asyncio.sleep(wait)
                try:
                    yield
                finally:
                    state.next_allowed = max(
                        state.next_allowed, loop.time() + self.settings.gap_seconds
                    )
        finally:
            state.users -= 1
            if state.users == 0:
                delay = max(0.0, state.next_allowed - loop.time())
                state.prune = loop.call_later(delay, self._forget, ip, state)

    def _forget(self, ip: str, state: _IpState) -> None:
        if self._states.get(ip) is state and state.users == 0:
            del self._states[ip]

    def retry_delay(self, ip: str, result: ProbeResult, attempt: int) -> float | None:
        """How long to wait before trying ``result``'s probe again; None: do not retry.

        A busy reply also holds back every other connection to that IP for the same time.
        """
        if result.reply_class not in _RETRYABLE or attempt >= self.settings.retries:
            return None
        delay = min(
            self.settings.backoff_seconds * 2.0**attempt, self.settings.backoff_limit_seconds
        )
        loop = asyncio.get_running_loop()
        state = self._state(ip)
        state.next_allowed = max(state.next_allowed, loop.time() + delay)
        if state.users == 0:
            state.prune = loop.call_later(delay, self._forget, ip, state)
        return delay

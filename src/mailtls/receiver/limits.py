"""Per-address caps on connections: how many at once, and how many per minute.

Pure bookkeeping with the clock passed in. A refused connection is answered with 421 and closed
at once (``protocol``); it is still recorded, so a flood is visible and no session goes
unrecorded. Memory is bounded: an address is forgotten once it has no open connection and no
connection within the window, and at most ``max_addresses`` are tracked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class Admission(StrEnum):
    ADMITTED = "admitted"
    CONNECTION_CAP = "connection_cap"
    RATE_CAP = "rate_cap"
    SERVER_FULL = "server_full"


@dataclass(frozen=True)
class Caps:
    per_address: int = 10  # open connections from one address
    per_address_per_minute: int = 60  # new connections from one address in any 60 s
    total: int = 500  # open connections in all
    window_seconds: float = 60.0


@dataclass
class _Address:
    open: int = 0
    recent: deque[float] = field(default_factory=deque)


class ConnectionLimiter:
    def __init__(self, caps: Caps, max_addresses: int = 100_000) -> None:
        self.caps = caps
        self._max_addresses = max_addresses
        self._addresses: dict[str, _Address] = {}
        self._open = 0

    @property
    def open_connections(self) -> int:
        return self._open

    def admit(self, address: str, now: float) -> Admission:
        """Count a new connection from ``address`` if the caps allow it."""
        if self._open >= self.caps.total:
            return Admission.SERVER_FULL
        entry = self._addresses.get(address)
        if entry is None:
            if len(self._addresses) >= self._max_addresses:
                self._forget_idle(now)
                if len(self._addresses) >= self._max_addresses:
                    return Admission.SERVER_FULL
            entry = self._addresses[address] = _Address()
        while entry.recent and entry.recent[0] <= now - self.caps.window_seconds:
            entry.recent.popleft()
        if entry.open >= self.caps.per_address:
            return Admission.CONNECTION_CAP
        if len(entry.recent) >= self.caps.per_address_per_minute:
            return Admission.RATE_CAP
        entry.open += 1
        entry.recent.append(now)
        self._open += 1
        return Admission.ADMITTED

    def release(self, address: str, now: float) -> None:
        """An admitted connection from ``address`` has ended."""
        entry = self._addresses.get(address)
        if entry is None or entry.open == 0:
            return
        entry.open -= 1
        self._open -= 1
        if entry.open == 0 and (
            not entry.recent or entry.recent[-1] <= now - self.caps.window_seconds
        ):
            del self._addresses[address]

    def _forget_idle(self, now: float) -> None:
        horizon = now - self.caps.window_seconds
        idle = [
            address
            for address, entry in self._addresses.items()
            if entry.open == 0 and (not entry.recent or entry.recent[-1] <= horizon)
        ]
        for address in idle:
            del self._addresses[address]

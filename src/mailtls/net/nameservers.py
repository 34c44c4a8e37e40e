"""``--nameserver`` values: which resolver to ask, parsed without loading any DNS library."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from mailtls.errors import UsageError

_NAMESERVER = re.compile(
    r"^\[(?P<v6>[^\]]+)\](?::(?P<v6port>\d+))?$|^(?P<v4>[^:]+)(?::(?P<port>\d+))?$"
)


@dataclass(frozen=True)
class Nameserver:
    ip: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return host if self.port == 53 else f"{host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """``IP``, ``IP:PORT``, ``IPv6`` or ``[IPv6]:PORT``."""
    candidate = text.strip()
    try:
        return Nameserver(str(ipaddress.ip_address(candidate)))  # a bare IPv6 address has colons
    except ValueError:
        pass
    match = _NAMESERVER.match(candidate)
    if match:
        host = match.group("v6") or match.group("v4")
        port_text = match.group("v6port") or match.group("port")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        port = int(port_text) if port_text else 53
        if address is not None and 0 < port < 65536:
            return Nameserver(str(address), port)
    raise UsageError(f"--nameserver wants an IP address with an optional port, not {text!r}")

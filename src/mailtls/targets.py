"""Parse what the user typed into :class:`~mailtls.models.Target` values (pure).

Syntax follows posttls-finger: ``example.com`` means "the domain's MX hosts"; a host or address in
brackets, optionally with a port, is tested directly: ``[mx.example.net]``, ``[192.0.2.1]:25``,
``[2001:db8::1]:587``. A bare IP address is taken as if bracketed, since it cannot have MX records.
"""

from __future__ import annotations

import ipaddress
import re

from mailtls.errors import UsageError
from mailtls.models import Target, TargetKind

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_BRACKETED = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>[^:]*))?$")


def normalise_host_name(text: str) -> str:
    """A-label, lower-case, no trailing dot; UsageError if it cannot be a DNS host name."""
    name = text.strip().rstrip(".")
    if not name:
        raise UsageError(f"empty host name in {text!r}")
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError as problem:
        raise UsageError(f"{text!r} is not a valid domain name ({problem})") from None
    if len(ascii_name) > 253:
        raise UsageError(f"{text!r} is longer than 253 characters")
    labels = ascii_name.split(".")
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad:
        raise UsageError(f"{text!r} is not a valid domain name (label {bad[0]!r})")
    return ascii_name


def _port(text: str | None, default: int, original: str) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"bad port in {original!r}")
    return int(text)


def parse_target(text: str, *, default_port: int = 25) -> Target:
    original = text
    text = text.strip()
    if not text:
        raise UsageError("empty target")
    bracketed = _BRACKETED.match(text)
    if bracketed:
        host = bracketed.group("host").strip()
        port = _port(bracketed.group("port"), default_port, original)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return Target(TargetKind.HOST, normalise_host_name(host), port, original)
        return Target(TargetKind.ADDRESS, str(address), port, original)
    if "[" in text or "]" in text:
        raise UsageError(f"unbalanced brackets in {original!r}")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return Target(TargetKind.ADDRESS, str(address), default_port, original)
    if ":" in text:
        raise UsageError(
            f"{original!r}: a port goes with a bracketed host, e.g. [mx.example.net]:587"
        )
    return Target(TargetKind.DOMAIN, normalise_host_name(text), default_port, original)

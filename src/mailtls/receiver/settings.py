"""What a receiver is told: addresses, policy, what it accepts, and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtls.models import Endpoint
from mailtls.receiver.limits import Caps
from mailtls.receiver.models import ReceivePolicy


@dataclass(frozen=True)
class Acceptance:
    """The recipients mail is accepted for; everything else is refused (never relayed)."""

    domains: frozenset[str] = frozenset()  # lower case, no trailing dot
    addresses: frozenset[str] = frozenset()  # lower case

    def accepts(self, recipient: str) -> bool:
        address = recipient.strip().lower()
        if address in self.addresses:
            return True
        local, at, domain = address.rpartition("@")
        return bool(at and local) and domain.rstrip(".") in self.domains

    @property
    def empty(self) -> bool:
        return not self.domains and not self.addresses


@dataclass(frozen=True)
class ReceiverSettings:
    listen: tuple[Endpoint, ...]
    acceptance: Acceptance
    hostname: str = "mailtls-receive.invalid"
    policy: ReceivePolicy = ReceivePolicy.OBSERVE
    require_tls: bool = False  # MAIL before STARTTLS gets 530, like a forced-TLS connector
    max_message_bytes: int = 10 * 1024 * 1024
    max_recipients: int = 20  # per message
    idle_timeout: float = 60.0  # seconds without a complete command
    session_timeout: float = 600.0  # the whole session
    caps: Caps = field(default_factory=Caps)
    max_commands: int = 200  # commands of one kind per session before 421

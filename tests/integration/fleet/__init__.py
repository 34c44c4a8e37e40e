"""The integration tests' real servers: Postfix listeners in every TLS posture, and nsd.

``layout`` says what the fleet is (pure data); ``certs``, ``postfix`` and ``nsd`` write their
parts; ``supervisor`` runs the servers; ``lifecycle`` starts, shares and stops the whole.
"""

from .layout import (
    DOMAINS,
    LISTENERS,
    CertificateKind,
    DomainCases,
    Fleet,
    Listener,
    Posture,
    listener_for,
)
from .lifecycle import FleetError, Lease, acquire

__all__ = [
    "DOMAINS",
    "LISTENERS",
    "CertificateKind",
    "DomainCases",
    "Fleet",
    "FleetError",
    "Lease",
    "Listener",
    "Posture",
    "acquire",
    "listener_for",
]

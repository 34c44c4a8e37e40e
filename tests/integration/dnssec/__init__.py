"""The secure world: DNSSEC, DANE, MTA-STS and TLS-RPT cases on loopback, for the checks.

A signed zone tree under ``test.`` served by nsd, a validating unbound with that tree's trust
anchor, and nginx serving MTA-STS policies over HTTPS; the MX hosts are the test fleet's Postfix
listeners, and the TLSA records are computed from the certificates they serve.

``layout`` says what the world is (pure data: zones, MX hosts, test domains and the outcome a
check of each should reach); ``tlsa``, ``zones``, ``signing``, ``servers`` and ``https`` write
its parts; ``world`` starts and stops it. The ``secure_world`` fixture (tests/integration/
conftest.py) gives tests a running one.
"""

from .layout import (
    DOMAINS,
    MX_HOSTS,
    ZONES,
    MtaStsCase,
    MxHost,
    MxHosts,
    SecureWorld,
    Serving,
    Signing,
    Slot,
    Source,
    TlsaSpec,
    TlsRptCase,
    WorldDomain,
    WorldDomains,
    Zone,
)
from .world import WorldError, running_world

__all__ = [
    "DOMAINS",
    "MX_HOSTS",
    "ZONES",
    "MtaStsCase",
    "MxHost",
    "MxHosts",
    "SecureWorld",
    "Serving",
    "Signing",
    "Slot",
    "Source",
    "TlsRptCase",
    "TlsaSpec",
    "WorldDomain",
    "WorldDomains",
    "WorldError",
    "Zone",
    "running_world",
]

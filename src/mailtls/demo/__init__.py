"""The demo: local STARTTLS servers with telling TLS postures and a DNS server for their names.

``mailtls demo`` runs ``DemoEnvironment.start()`` and checks its domains; everything listens on
loopback and needs neither root nor a network.
"""

from __future__ import annotations

from mailtls.demo.dns_server import DnsRecord, DnsServer, StaticZone
from mailtls.demo.environment import DemoDomain, DemoEnvironment, DemoHost
from mailtls.demo.smtp_server import Posture, SmtpServer

__all__ = [
    "DemoDomain",
    "DemoEnvironment",
    "DemoHost",
    "DnsRecord",
    "DnsServer",
    "Posture",
    "SmtpServer",
    "StaticZone",
]

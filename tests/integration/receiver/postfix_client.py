"""A real Postfix acting as SMTP client, relaying to receivers through per-recipient routes.

Like the log tests' Postfix (tests/integration/maillogs): an instance with a config folder of its
own, an smtpd on 127.0.9.20:25 to take mail in, and one client transport per route, each from
its own source address with its own ``smtp_tls_protocols`` and security level.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.integration.fleet.postfix import INTERNAL_SERVICES

POSTFIX = "/usr/sbin/postfix"
SUBMIT_IP = "127.0.9.20"


@dataclass(frozen=True)
class Route:
    recipient: str
    transport: str
    source_ip: str
    protocols: str  # smtp_tls_protocols
    security_level: str  # smtp_tls_security_level
    next_hop: str  # [ip]:port of a receiver


def main_cf(work: Path, routes: tuple[Route, ...]) -> str:
    entries = ", ".join(f"{r.recipient}={r.transport}:{r.next_hop}" for r in routes)
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(work / "spool"),
        "data_directory": str(work / "data"),
        "maillog_file": str(work / "maillog"),
        "maillog_file_prefixes": str(work),  # a log file outside /var is refused otherwise
        "myhostname": "sender.client.example",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "mydestination": "",
        "relay_domains": "",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "transport_maps": "inline:{ " + entries + " }",
        "default_transport": "error:no route",
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        "smtp_tls_loglevel": "1",
        # OpenSSL 3 offers TLS 1.0 only at security level 0.
        "tls_medium_cipherlist": "DEFAULT:@SECLEVEL=0",
        "smtp_connection_cache_on_demand": "no",
        "biff": "no",
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


def master_cf(routes: tuple[Route, ...]) -> str:
    lines = [f"{SUBMIT_IP}:25 inet n - n - - smtpd"]
    for route in routes:
        lines += [
            f"{route.transport} unix - - n - - smtp",
            f"  -o syslog_name=postfix/{route.transport}",
            f"  -o smtp_bind_address={route.source_ip}",
            f"  -o smtp_tls_protocols={route.protocols}",
            # encrypt (mandatory TLS) uses the mandatory list instead
            f"  -o smtp_tls_mandatory_protocols={route.protocols}",
            f"  -o smtp_tls_security_level={route.security_level}",
        ]
    return "\n".join(lines) + "\n" + INTERNAL_SERVICES


@contextmanager
def running_postfix(work: Path, routes: tuple[Route, ...]) -> Iterator[Path]:
    config = work / "etc"
    config.mkdir(parents=True, exist_ok=True)
    (work / "spool").mkdir(exist_ok=True)
    cooled = time.time() - 60  # Postfix rereads a main.cf younger than a second
    for name, text in (("main.cf", main_cf(work, routes)), ("master.cf", master_cf(routes))):
        (config / name).write_text(text)
        os.utime(config / name, (cooled, cooled))
    subprocess.run([POSTFIX, "-c", str(config), "start"], check=True, capture_output=True)
    try:
        yield work / "maillog"
    finally:
        subprocess.run([POSTFIX, "-c", str(config), "stop"], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

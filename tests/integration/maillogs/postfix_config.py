"""The log-producing Postfix: an MX listener, a submission listener, and relays to the fleet.

Pure rendering (``main_cf``, ``master_cf``); ``write_config`` puts the files in place. The
listeners use the names of a stock Debian installation, so the log reads like a real one:
``postfix/smtpd`` for the MX, ``postfix/submission/smtpd`` for submission (Debian's master.cf
sets ``syslog_name=postfix/submission``), ``postfix/smtp`` for the client, and the extra
TLS-1.0-only client transport logs as ``postfix/smtp-tlsv1/smtp``.
"""

from __future__ import annotations

import ipaddress
import os
import time
from pathlib import Path

from mailtls.models import Endpoint, TlsVersion
from tests.integration.fleet.postfix import INTERNAL_SERVICES

from .plan import (
    PARENT_DOMAIN,
    POSTFIX_MX,
    POSTFIX_ROUTES,
    POSTFIX_SUBMISSION,
    SINK_DOMAIN,
    Route,
)
from .workspace import Workspace

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
HOST_NAME = f"mx.{PARENT_DOMAIN}"

# OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0, on either side of the connection.
LEGACY_CIPHERLIST = "DEFAULT:@SECLEVEL=0"

STOCK_TRANSPORT = "smtp"  # offers every version the settings below allow: TLS 1.0 to 1.3


def protocol_range(versions: frozenset[TlsVersion]) -> str:
    ordered = sorted(versions, key=lambda version: version.rank)
    return f">={ordered[0].value},<={ordered[-1].value}"


def _nexthop(server: Endpoint) -> str:
    # Brackets: the address itself, no MX lookup. Postfix writes IPv6 next hops as [ipv6:...].
    if ipaddress.ip_address(server.ip).version == 6:
        return f"[ipv6:{server.ip}]:{server.port}"
    return f"[{server.ip}]:{server.port}"


def transport_map(routes: tuple[Route, ...]) -> str:
    entries = [f"{SINK_DOMAIN}=discard:"]
    entries += [f"{route.domain}={route.transport}:{_nexthop(route.server)}" for route in routes]
    return "inline:{ " + ", ".join(entries) + " }"


def main_cf(workspace: Workspace, certificate_chain: Path, sasl_path: str) -> str:
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(workspace.postfix_queue_dir),
        "data_directory": str(workspace.postfix_data_dir),
        # Postfix >= 3.4 writes its own log through postlogd: no syslog daemon needed.
        "maillog_file": str(workspace.postfix_log),
        "maillog_file_prefixes": str(workspace.work_dir),
        "myhostname": HOST_NAME,
        "mydomain": PARENT_DOMAIN,
        "myorigin": "$myhostname",
        # The listeners bind their own addresses (master.cf). Postfix counts the addresses here
        # as its own and will not deliver to them; with "loopback-only" that includes ::1,
        # where the fleet's IPv6 listener is ("mail for ::1 loops back to myself"). Its
        # addresses 127.0.8.x themselves are not allowed here: no interface carries them.
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "all",
        "mynetworks": "127.0.0.0/8 [::1]/128",
        "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject",
        # Nothing is delivered locally: the sink domain is discarded, the relay domains go to
        # the fleet, and everything else bounces at once.
        "mydestination": "",
        "relay_domains": "",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "transport_maps": transport_map(POSTFIX_ROUTES),
        "default_transport": "error:no route out of the log-producing Postfix",
        "local_transport": "error:no local delivery",
        # No DNS: clients are logged as unknown[address], next hops are addresses.
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        # Receiving: every TLS version, logged.
        "smtpd_tls_chain_files": str(certificate_chain),
        "smtpd_tls_security_level": "may",
        "smtpd_tls_protocols": ">=TLSv1",
        "smtpd_tls_loglevel": "1",
        "tls_medium_cipherlist": LEGACY_CIPHERLIST,
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": sasl_path,
        # Sending: opportunistic TLS, logged, from an address of our own.
        "smtp_tls_security_level": "may",
        "smtp_tls_protocols": ">=TLSv1",
        "smtp_tls_loglevel": "1",
        "smtp_bind_address": POSTFIX_MX.ip,
        # One session per message and destination: a cached connection would carry several
        # messages in one session, and whether it does depends on timing.
        "smtp_connection_cache_on_demand": "no",
        "biff": "no",
        "append_dot_mydomain": "no",
        "readme_directory": "no",
    }
    lines = [f"{name} = {value}".rstrip() for name, value in settings.items()]
    return (
        "# Written by the mailtls log tests; rewritten at every start.\n" + "\n".join(lines) + "\n"
    )


# The fleet's internal services, plus the smtp client these instances relay with.
_INTERNAL_SERVICES = (
    "smtp      unix  -       -       n       -       -       smtp\n" + INTERNAL_SERVICES
)


def master_cf() -> str:
    mx, submission = POSTFIX_MX, POSTFIX_SUBMISSION
    lines = [
        "# Written by the mailtls log tests; rewritten at every start.",
        f"{mx.ip}:{mx.port} inet n - n - - smtpd",
        f"{submission.ip}:{submission.port} inet n - n - - smtpd",
        "  -o syslog_name=postfix/submission",
        "  -o smtpd_tls_security_level=encrypt",
        "  -o smtpd_sasl_auth_enable=yes",
        "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject",
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
    ]
    for name, versions in limited_transports(POSTFIX_ROUTES).items():
        lines += [
            f"{name} unix - - n - - smtp",
            "  -o syslog_name=postfix/$service_name",
            f"  -o smtp_tls_protocols={protocol_range(versions)}",
        ]
    return "\n".join(lines) + "\n" + _INTERNAL_SERVICES


def limited_transports(routes: tuple[Route, ...]) -> dict[str, frozenset[TlsVersion]]:
    """The client transports besides the stock one, each with the versions the plan says it
    offers; master.cf gets one service per transport."""
    limited: dict[str, frozenset[TlsVersion]] = {}
    for route in routes:
        if route.transport == STOCK_TRANSPORT:
            if route.client_versions != frozenset(TlsVersion):
                raise ValueError(f"{route.domain}: the stock transport offers every version")
            continue
        if limited.setdefault(route.transport, route.client_versions) != route.client_versions:
            raise ValueError(f"{route.transport}: one set of versions per transport")
    return limited


def write_config(workspace: Workspace, certificate_chain: Path, sasl_path: str) -> None:
    workspace.postfix_config_dir.mkdir(parents=True, exist_ok=True)
    # Postfix creates the queue's subfolders itself but refuses to start without the folder.
    workspace.postfix_queue_dir.mkdir(parents=True, exist_ok=True)
    written = {
        workspace.postfix_config_dir / "main.cf": main_cf(workspace, certificate_chain, sasl_path),
        workspace.postfix_config_dir / "master.cf": master_cf(),
    }
    cooled = time.time() - 60
    for path, text in written.items():
        path.write_text(text)
        # Postfix rereads a main.cf modified in the last second until it "cools down"; an old
        # time stamp saves that wait at start.
        os.utime(path, (cooled, cooled))


def start_command(workspace: Workspace) -> list[str]:
    return [POSTFIX, "-c", str(workspace.postfix_config_dir), "start-fg"]


def queue_command(workspace: Workspace) -> list[str]:
    """Lists the queue as JSON lines; no output means an empty queue."""
    return [POSTQUEUE, "-c", str(workspace.postfix_config_dir), "-j"]

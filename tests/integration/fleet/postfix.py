"""One Postfix instance with one smtpd listener per posture, in a configuration folder of its own.

Rendering is pure (``main_cf``, ``master_cf``); ``write_config`` puts the files in place and
``start_command`` is what the supervisor runs: ``postfix -c DIR start-fg`` keeps the master in
the foreground, a descendant of the supervisor, which reaps it. To stop, the supervisor sends
the master SIGTERM, as ``postfix -c DIR stop`` does, without that command's one-second polls.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from mailtls.models import TlsVersion

from .layout import SMTP_PORT, ZONE, CertificateKind, FleetPaths, Listener, Posture

POSTFIX = "/usr/sbin/postfix"

# OpenSSL 3 refuses TLS 1.0/1.1 handshakes and SHA-1 signed certificates above security
# level 0, whatever the protocol settings say.
LEGACY_CIPHERLIST = "DEFAULT:@SECLEVEL=0"

# Mail the fleet accepts is dropped on the floor: nothing ever leaves the machine, and no bounce
# piles up in the queue.
_NOWHERE = "discard:the mailtls test fleet delivers nothing"


def main_cf(paths: FleetPaths) -> str:
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(paths.postfix_queue_dir),
        "data_directory": str(paths.postfix_data_dir),
        # Postfix >= 3.4 writes its own log through postlogd: no syslog daemon needed.
        "maillog_file": str(paths.postfix_log),
        "maillog_file_prefixes": str(paths.run_dir),
        "myhostname": f"fleet.{ZONE}",
        "mydomain": ZONE,
        "myorigin": "$myhostname",
        "inet_interfaces": "loopback-only",
        "inet_protocols": "all",
        "mynetworks": "127.0.0.0/8 [::1]/128",
        # Only loopback clients, no local or relay domain, every transport discards.
        "smtpd_client_restrictions": "permit_mynetworks, reject",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "mydestination": "",
        "relay_domains": "",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "default_transport": _NOWHERE,
        "local_transport": _NOWHERE,
        "relay_transport": _NOWHERE,
        # No DNS from the fleet: no reverse lookup of clients, no MX lookup for delivery.
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        "lmtp_dns_support_level": "disabled",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_loglevel": "1",
        "biff": "no",
        "append_dot_mydomain": "no",
        "readme_directory": "no",
    }
    lines = [f"{name} = {value}".rstrip() for name, value in settings.items()]
    return (
        "# Written by the mailtls test fleet; rewritten at every start.\n" + "\n".join(lines) + "\n"
    )


def protocol_range(versions: frozenset[TlsVersion]) -> str:
    """Postfix's ``>=lowest,<=highest`` form for a contiguous set of versions."""
    ordered = sorted(versions, key=lambda version: version.rank)
    return f">={ordered[0].value},<={ordered[-1].value}"


def listener_overrides(listener: Listener, chain_file: Path | None) -> dict[str, str]:
    """The ``-o`` settings that give one smtpd listener its posture."""
    overrides = {"syslog_name": listener.syslog_name, "myhostname": listener.host}
    if not listener.starttls:
        overrides["smtpd_tls_security_level"] = "none"
        return overrides
    if chain_file is None:
        raise ValueError(f"{listener.posture}: STARTTLS needs a certificate")
    protocols = protocol_range(listener.tls_versions)
    overrides |= {
        "smtpd_tls_chain_files": str(chain_file),
        "smtpd_tls_protocols": protocols,
        "smtpd_tls_mandatory_protocols": protocols,
    }
    needs_level_zero = (
        min(version.rank for version in listener.tls_versions) < TlsVersion.TLS1_2.rank
        or listener.certificate is CertificateKind.SHA1_SIGNED
    )
    if listener.tls12_ciphers is not None:
        overrides["tls_medium_cipherlist"] = ":".join(listener.tls12_ciphers)
    elif needs_level_zero:
        overrides["tls_medium_cipherlist"] = LEGACY_CIPHERLIST
    return overrides


def _service_name(listener: Listener) -> str:
    host = f"[{listener.ip}]" if ":" in listener.ip else listener.ip
    return f"{host}:{listener.port}"


# The internal services an smtpd needs to accept (and then discard) a message and to log.
INTERNAL_SERVICES = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def master_cf(listeners: tuple[Listener, ...], chain_files: Mapping[Posture, Path]) -> str:
    lines = ["# Written by the mailtls test fleet; rewritten at every start."]
    for listener in listeners:
        if listener.port != SMTP_PORT:
            raise ValueError(f"{listener.posture}: the fleet listens on port {SMTP_PORT} only")
        lines.append(f"{_service_name(listener)} inet n - n - - smtpd")
        overrides = listener_overrides(listener, chain_files.get(listener.posture))
        lines.extend(f"  -o {name}={value}" for name, value in overrides.items())
    return "\n".join(lines) + "\n" + INTERNAL_SERVICES


def write_config(
    paths: FleetPaths, listeners: tuple[Listener, ...], chain_files: Mapping[Posture, Path]
) -> None:
    paths.postfix_config_dir.mkdir(parents=True, exist_ok=True)
    # Postfix creates the queue's subfolders itself but refuses to start without the folder.
    paths.postfix_queue_dir.mkdir(parents=True, exist_ok=True)
    written = {
        paths.postfix_config_dir / "main.cf": main_cf(paths),
        paths.postfix_config_dir / "master.cf": master_cf(listeners, chain_files),
    }
    cooled = time.time() - 60
    for path, text in written.items():
        path.write_text(text)
        # Postfix rereads a main.cf modified in the last second every 300 ms until it "cools
        # down"; an old timestamp saves that second and a half at every start.
        os.utime(path, (cooled, cooled))


def start_command(paths: FleetPaths) -> list[str]:
    return [POSTFIX, "-c", str(paths.postfix_config_dir), "start-fg"]


def master_pid_file(paths: FleetPaths) -> Path:
    return paths.postfix_queue_dir / "pid" / "master.pid"

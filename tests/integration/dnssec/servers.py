"""Configurations of the world's nsd and unbound, and the commands that run them (pure).

Both run in the foreground, as root, unchrooted, every file in the world's folder.

unbound validates with one trust anchor, the DS of ``test.``, and asks nothing but the world's
nsd: a stub zone sends ``test.`` there, every other name is refused before any query leaves,
and it sends from its own loopback address, from which nothing outside the machine can be
reached anyway.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.fleet import nsd

from .layout import DNS_PORT, ROOT_ZONE, ZONES, Slot

UNBOUND = "/usr/sbin/unbound"


def nsd_conf(slot: Slot, folder: Path, zone_files: dict[str, Path], log: Path) -> str:
    zones = [(zone.name, zone_files[zone.name]) for zone in ZONES]
    return nsd.server_conf(
        slot.authoritative,
        DNS_PORT,
        folder,
        log,
        zones,
        written_by="the secure world of the mailtls tests",
    )


def nsd_command(config: Path) -> list[str]:
    return nsd.start_command(config)


def unbound_conf(slot: Slot, folder: Path, trust_anchor: str, log: Path) -> str:
    return f"""\
# Written by the secure world of the mailtls tests; rewritten at every start.
server:
    interface: {slot.resolver}
    port: {DNS_PORT}
    outgoing-interface: {slot.resolver}
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    num-threads: 1
    username: ""
    chroot: ""
    directory: "{folder}"
    pidfile: "{folder}/unbound.pid"
    logfile: "{log}"
    use-syslog: no
    log-time-ascii: yes
    verbosity: 1
    # Why an answer is bogus, one line each: what the tests' failures show.
    val-log-level: 2
    access-control: 127.0.0.0/8 allow
    # The world's nsd is on loopback, which unbound refuses to query by default.
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor: "{trust_anchor}"
    # No RFC 8145 key tag queries, no root key sentinel: nothing outside the world is asked.
    trust-anchor-signaling: no
    root-key-sentinel: no
    harden-dnssec-stripped: yes
    harden-below-nxdomain: yes
    harden-glue: yes
    harden-algo-downgrade: yes
    # RFC 6761 makes test. an empty local zone in unbound; here it is resolved, everything
    # else refused.
    local-zone: "{ROOT_ZONE}." transparent
    local-zone: "." refuse
remote-control:
    control-enable: no
stub-zone:
    name: "{ROOT_ZONE}."
    stub-addr: {slot.authoritative}@{DNS_PORT}
"""


def unbound_command(config: Path) -> list[str]:
    return [UNBOUND, "-d", "-c", str(config)]

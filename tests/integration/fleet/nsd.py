"""nsd, authoritative for the fleet's zone on 127.0.5.53:53, with every file in one folder.

``zone_text`` and ``nsd_conf`` are pure. nsd runs in the foreground (``-d``) as a child of the
supervisor. A second zone, configured but without a zone file, is how the fleet gets SERVFAIL:
nsd logs "zonefile ... does not exist" and answers SERVFAIL for every name in that zone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

from .layout import (
    DOMAINS,
    NAMESERVER,
    NAMESERVER_HOST,
    ZONE,
    DomainCases,
    FleetPaths,
    Listener,
)

NSD = "/usr/sbin/nsd"
TTL = 300


def _address_record(name: str, ip: str) -> str:
    rdtype = "AAAA" if ipaddress.ip_address(ip).version == 6 else "A"
    return f"{name}. IN {rdtype} {ip}"


def zone_text(listeners: tuple[Listener, ...], domains: DomainCases = DOMAINS) -> str:
    records = [
        f"$TTL {TTL}",
        f"{ZONE}. IN SOA {NAMESERVER_HOST}. hostmaster.{ZONE}. 1 3600 600 86400 {TTL}",
        f"{ZONE}. IN NS {NAMESERVER_HOST}.",
        _address_record(NAMESERVER_HOST, NAMESERVER),
    ]
    for listener in listeners:
        records.append(_address_record(listener.host, listener.ip))
        records.append(f"{listener.domain}. IN MX 10 {listener.host}.")
    records.extend(f"{domains.multi}. IN MX {pref} {host}." for pref, host in domains.multi_mx)
    records.append(f"{domains.dual}. IN MX 10 {domains.dual_host}.")
    records.extend(_address_record(domains.dual_host, ip) for ip in domains.dual_addresses)
    records.append(_address_record(domains.implicit, domains.implicit_address))
    records.append(f"{domains.null_mx}. IN MX 0 .")
    records.append(f"{domains.dangling}. IN MX 10 {domains.dangling_host}.")
    records.append(f'{domains.no_mail}. IN TXT "this name exists and takes no mail"')
    return "\n".join(records) + "\n"


def _zone_file(paths: FleetPaths) -> Path:
    return paths.nsd_dir / f"{ZONE}.zone"


def _missing_zone_file(paths: FleetPaths, domains: DomainCases) -> Path:
    return paths.nsd_dir / f"{domains.servfail}.zone.absent"


def server_conf(
    address: str,
    port: int,
    folder: Path,
    log: Path,
    zones: Sequence[tuple[str, Path]],
    *,
    written_by: str,
) -> str:
    """An nsd.conf that serves ``zones`` (name, zone file) on ``address``:``port``, every file
    of nsd's in ``folder``: the one config of the fleet, the scan tests and the secure world."""
    zone_blocks = "".join(
        f'zone:\n    name: "{name}."\n    zonefile: "{zone_file}"\n' for name, zone_file in zones
    )
    return f"""\
# Written by {written_by}; rewritten at every start.
server:
    ip-address: {address}
    port: {port}
    do-ip4: yes
    do-ip6: no
    server-count: 1
    # Stay root and unchrooted: every file lives in this temporary folder.
    username: ""
    chroot: ""
    database: ""
    zonesdir: "{folder}"
    pidfile: "{folder}/nsd.pid"
    xfrdfile: "{folder}/xfrd.state"
    zonelistfile: "{folder}/zone.list"
    logfile: "{log}"
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
{zone_blocks}"""


def nsd_conf(paths: FleetPaths, domains: DomainCases = DOMAINS) -> str:
    # The second zone is deliberately without a zone file: nsd serves SERVFAIL for it.
    zones = [(ZONE, _zone_file(paths)), (domains.servfail, _missing_zone_file(paths, domains))]
    return server_conf(
        NAMESERVER, 53, paths.nsd_dir, paths.nsd_log, zones, written_by="the mailtls test fleet"
    )


def write_config(paths: FleetPaths, listeners: tuple[Listener, ...]) -> Path:
    paths.nsd_dir.mkdir(parents=True, exist_ok=True)
    _zone_file(paths).write_text(zone_text(listeners))
    config = paths.nsd_dir / "nsd.conf"
    config.write_text(nsd_conf(paths))
    return config


def start_command(config: Path) -> list[str]:
    return [NSD, "-d", "-c", str(config)]


def pid_file(paths: FleetPaths) -> Path:
    return paths.nsd_dir / "nsd.pid"

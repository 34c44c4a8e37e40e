"""A generated zone of many domains sharing a few MX hosts, served by a real nsd of its own.

The MX hosts' addresses are the test fleet's Postfix listeners (and, where a test asks, the
hostile servers), so each domain's expected result follows from the posture of its MX host.
Each test process runs its own nsd on 127.0.9.53 at a port of its own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

from tests.integration.fleet import nsd

ZONE = "scan.test"
NAMESERVER_IP = "127.0.9.53"


@dataclass(frozen=True)
class ScanDomain:
    name: str
    mx_hosts: tuple[str, ...]  # empty: no MX at all (the name does not exist in the zone)


@dataclass(frozen=True)
class ScanZone:
    nameserver: str  # "IP:PORT" for --nameserver
    domains: tuple[ScanDomain, ...]
    hosts: Mapping[str, str]  # MX host name -> IP


def _free_udp_port(ip: str) -> int:
    for _ in range(50):
        candidate = 20000 + (os.getpid() * 7 + int(time.time() * 1000)) % 30000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            try:
                udp.bind((ip, candidate))
                tcp.bind((ip, candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port for the scan zone's nsd")


def zone_text(domains: Sequence[ScanDomain], hosts: Mapping[str, str]) -> str:
    lines = [
        "$TTL 300",
        f"{ZONE}. IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
        f"{ZONE}. IN NS ns.{ZONE}.",
        f"ns.{ZONE}. IN A {NAMESERVER_IP}",
    ]
    lines.extend(f"{host}. IN A {ip}" for host, ip in hosts.items())
    for domain in domains:
        lines.extend(
            f"{domain.name}. IN MX {10 * (index + 1)} {host}."
            for index, host in enumerate(domain.mx_hosts)
        )
    return "\n".join(lines) + "\n"


def _answers(nameserver_port: int) -> bool:
    query = dns.message.make_query(f"ns.{ZONE}", "A")
    try:
        response = dns.query.udp(query, NAMESERVER_IP, port=nameserver_port, timeout=0.5)
    except (OSError, dns.exception.Timeout):
        return False
    return response.rcode() == dns.rcode.NOERROR and bool(response.answer)


@contextlib.contextmanager
def serving_zone(
    folder: Path, domains: Sequence[ScanDomain], hosts: Mapping[str, str]
) -> Iterator[ScanZone]:
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_udp_port(NAMESERVER_IP)
    zone_file = folder / f"{ZONE}.zone"
    zone_file.write_text(zone_text(domains, hosts))
    config = folder / "nsd.conf"
    log = folder / "nsd.log"
    config.write_text(
        nsd.server_conf(
            NAMESERVER_IP, port, folder, log, [(ZONE, zone_file)], written_by="the scan tests"
        )
    )
    process = subprocess.Popen(
        nsd.start_command(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                said = log.read_text() if log.exists() else ""
                raise RuntimeError(f"nsd for {ZONE} did not start: {said[-500:]}")
            time.sleep(0.05)
        yield ScanZone(f"{NAMESERVER_IP}:{port}", tuple(domains), dict(hosts))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

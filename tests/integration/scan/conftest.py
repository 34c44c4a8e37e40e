"""A zone of a few hundred domains over four of the fleet's listeners, and a scan runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailtls.models import TlsVersion
from tests.integration.fleet import Fleet, Listener, Posture
from tests.integration.scan.zone import ZONE, ScanDomain, ScanZone, serving_zone

POSTURES = (Posture.MODERN, Posture.TLS12_ONLY, Posture.LEGACY, Posture.NO_STARTTLS)
DOMAIN_COUNT = 300
MISSING = tuple(f"gone-{n}.{ZONE}" for n in range(3))  # listed, but not in the zone: NXDOMAIN


def mx_host(posture: Posture) -> str:
    return f"mx-{posture.value}.{ZONE}"


def generated_domains(count: int) -> list[ScanDomain]:
    """Domains cycling over the postures' MX hosts; every tenth has a second MX (legacy)."""
    domains = []
    for number in range(count):
        first = mx_host(POSTURES[number % len(POSTURES)])
        hosts = (first,) if number % 10 else (first, mx_host(Posture.LEGACY))
        domains.append(ScanDomain(f"d{number:05d}.{ZONE}", tuple(dict.fromkeys(hosts))))
    return domains


def newest_common(listeners: Sequence[Listener]) -> TlsVersion | None:
    for version in sorted(TlsVersion, key=lambda v: v.rank, reverse=True):
        if all(version in listener.tls_versions for listener in listeners):
            return version
    return None


@dataclass(frozen=True)
class ScanSetup:
    fleet: Fleet
    zone: ScanZone
    list_file: Path  # every generated domain plus the missing ones, one per line

    def expected_best_tls(self, domain: ScanDomain) -> TlsVersion | None:
        by_host = {mx_host(p): self.fleet.listener(p) for p in POSTURES}
        return newest_common([by_host[host] for host in domain.mx_hosts])


@pytest.fixture(scope="module")
def scan_setup(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScanSetup]:
    folder = tmp_path_factory.mktemp("scan-zone")
    hosts = {mx_host(p): fleet.listener(p).ip for p in POSTURES}
    domains = generated_domains(DOMAIN_COUNT)
    list_file = folder / "domains.txt"
    list_file.write_text(
        "# customer domains\n"
        + "".join(f"{d.name}\n" for d in domains)
        + "".join(f"{name}\n" for name in MISSING)
    )
    with serving_zone(folder / "nsd", domains, hosts) as zone:
        yield ScanSetup(fleet, zone, list_file)


def scan_command(setup: ScanSetup, database: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mailtls.cli",
        "scan",
        "--db",
        database,
        "--nameserver",
        setup.zone.nameserver,
        "--ca-file",
        str(setup.fleet.ca_file),
        "--timeout",
        "10",
        "--gap",
        "0",
        "-4",
        *extra,
    ]


def run_mailtls(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailtls.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )

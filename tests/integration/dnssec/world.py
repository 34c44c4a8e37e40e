"""Start a secure world for one pytest process, and stop it again.

``running_world(fleet, folder)`` claims a free slot of addresses (a lock file per slot, held
while the world runs, so xdist workers and concurrent runs never share one), signs the zones
with TLSA records computed from the certificates the running fleet serves, and starts nsd,
unbound and nginx under the fleet's supervisor process: it reaps what the servers leave behind
and stops them if this process dies without stopping them itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from tests.integration.fleet import nsd
from tests.integration.fleet.children import ChildSpec, SupervisorSpec
from tests.integration.fleet.layout import Fleet, FleetPaths, Posture
from tests.integration.fleet.lifecycle import tail

from . import servers
from .https import NGINX, HttpsSite, nginx_command, write_site
from .layout import (
    DNS_PORT,
    HTTPS_PORT,
    MX_HOSTS,
    ROOT_ZONE,
    SECURE_ZONE,
    SLOT_COUNT,
    ZONES,
    SecureWorld,
    Signing,
    Slot,
)
from .signing import LDNS_KEYGEN, LDNS_SIGNZONE, SigningError, break_signature, make_key, sign
from .tlsa import ServedChain, tlsa_rdatas
from .zones import zone_texts

HANG_SCRIPT = Path(__file__).with_name("hang.py")
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0
# Machine-wide, like the addresses the locks stand for.
SLOT_LOCKS = Path(tempfile.gettempdir()) / "mailtls-secure-world"
REQUIRED_PROGRAMS = {
    "nsd": nsd.NSD,
    "unbound": servers.UNBOUND,
    "nginx": NGINX,
    "ldns-keygen": LDNS_KEYGEN,
    "ldns-signzone": LDNS_SIGNZONE,
}
SIGNATURE_VALIDITY = timedelta(days=30)
# Starting an hour back keeps a clock a little behind from seeing signatures "not yet valid".
SIGNATURE_BACKDATING = timedelta(hours=1)
# Validators forgive clock skew: unbound accepts a signature up to a tenth of its validity
# period, at most a day (val-sig-skew-max), past its expiration. A week past is expired for all.
EXPIRED_SIGNATURES_AGE = timedelta(days=7)
EXPIRED_SIGNATURES_SPAN = timedelta(days=60)


class WorldError(RuntimeError):
    """The secure world cannot run here; the message says why and what to do."""


def missing_programs() -> list[str]:
    return [name for name, path in REQUIRED_PROGRAMS.items() if not Path(path).is_file()]


# --- Slots -------------------------------------------------------------------------------------


def _bind_problem(ip: str, port: int, kind: socket.SocketKind) -> str | None:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError as problem:
            return f"{ip} port {port}: {problem.strerror}"
    return None


def _busy(slot: Slot) -> list[str]:
    checks = [
        (slot.authoritative, DNS_PORT, socket.SOCK_DGRAM),
        (slot.authoritative, DNS_PORT, socket.SOCK_STREAM),
        (slot.resolver, DNS_PORT, socket.SOCK_DGRAM),
        (slot.resolver, DNS_PORT, socket.SOCK_STREAM),
        (slot.https, HTTPS_PORT, socket.SOCK_STREAM),
        (slot.hanging, HTTPS_PORT, socket.SOCK_STREAM),
    ]
    return [problem for check in checks if (problem := _bind_problem(*check)) is not None]


@contextlib.contextmanager
def _claimed_slot() -> Iterator[Slot]:
    """A slot whose lock this process holds and whose addresses are free, until exit."""
    SLOT_LOCKS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for number in range(SLOT_COUNT):
        slot = Slot(number)
        lock: TextIO = open(SLOT_LOCKS / f"slot-{number}.lock", "a+")  # noqa: SIM115 (held)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue  # another world runs there
        busy = _busy(slot)
        if busy:
            problems.extend(busy)
            lock.close()
            continue
        try:
            yield slot
        finally:
            lock.close()
        return
    raise WorldError(
        f"no free slot for a secure world among {SLOT_COUNT} in 127.0.6.0/24"
        + (f" ({'; '.join(problems[:4])})" if problems else " (all are taken by running worlds)")
        + ". A system nsd, unbound or nginx listening on all addresses holds these ports: "
        "scripts/setup stops and disables them; `ss -ltnup` shows who it is."
    )


# --- Building the world ------------------------------------------------------------------------


def _fleet_chains(fleet: Fleet) -> dict[Posture, ServedChain]:
    """The chain each fleet listener serves, from the PEM files the fleet gave Postfix."""
    certs_dir = FleetPaths(fleet.state_dir).certs_dir
    chains = {}
    for listener in fleet.listeners:
        path = certs_dir / f"{listener.posture.value}.pem"
        if listener.starttls and path.is_file():
            chains[listener.posture] = ServedChain.from_pem(path.read_bytes())
    return chains


def _write_zones(fleet: Fleet, slot: Slot, folder: Path) -> tuple[dict[str, Path], str]:
    """Sign the zones; return each zone's file and the trust anchor (the root's DS)."""
    keys = {
        zone.name: make_key(zone.name, folder / "keys")
        for zone in ZONES
        if zone.signing is not Signing.UNSIGNED
    }
    chains = _fleet_chains(fleet)
    tlsa = {
        host.name: tlsa_rdatas(host.tlsa, chains.get(host.posture), host.name)
        for host in MX_HOSTS.all()
    }
    texts = zone_texts(slot, tlsa, {name: key.ds for name, key in keys.items()})
    now = datetime.now(UTC)
    files = {}
    for zone in ZONES:
        unsigned = folder / f"{zone.name}.zone"
        unsigned.write_text(texts[zone.name])
        if zone.signing is Signing.UNSIGNED:
            files[zone.name] = unsigned
            continue
        if zone.signing is Signing.EXPIRED:
            inception, expiration = now - EXPIRED_SIGNATURES_SPAN, now - EXPIRED_SIGNATURES_AGE
        else:
            inception, expiration = now - SIGNATURE_BACKDATING, now + SIGNATURE_VALIDITY
        signed = folder / f"{zone.name}.signed"
        sign(
            zone.name, unsigned, keys[zone.name], signed, inception=inception, expiration=expiration
        )
        files[zone.name] = signed
    for host in MX_HOSTS.all():
        if host.broken_tlsa_signature:
            path = files[host.zone.name]
            path.write_text(break_signature(path.read_text(), host.tlsa_name, "TLSA"))
    return files, f"{ROOT_ZONE}. DS {keys[ROOT_ZONE].ds}"


@dataclass(frozen=True)
class _Plan:
    world: SecureWorld
    children: tuple[ChildSpec, ...]
    site: HttpsSite


def _plan(fleet: Fleet, slot: Slot, folder: Path) -> _Plan:
    dns_dir = folder / "dns"
    dns_dir.mkdir(parents=True, exist_ok=True)
    zone_files, trust_anchor = _write_zones(fleet, slot, dns_dir)
    nsd_log = folder / "nsd.log"
    resolver_log = folder / "unbound.log"
    nsd_config = dns_dir / "nsd.conf"
    nsd_config.write_text(servers.nsd_conf(slot, dns_dir, zone_files, nsd_log))
    unbound_config = dns_dir / "unbound.conf"
    unbound_config.write_text(servers.unbound_conf(slot, dns_dir, trust_anchor, resolver_log))
    site = write_site(slot, folder / "https")
    # One CA file for everything a check verifies here: policy hosts and MX hosts.
    ca_file = folder / "ca-bundle.pem"
    ca_file.write_bytes(site.ca_file.read_bytes() + fleet.ca_file.read_bytes())
    world = SecureWorld(
        slot=slot,
        ip=slot.resolver,
        port=DNS_PORT,
        authoritative_ip=slot.authoritative,
        authoritative_port=DNS_PORT,
        https_ip=slot.https,
        https_port=HTTPS_PORT,
        hanging_ip=slot.hanging,
        ca_file=ca_file,
        https_ca_file=site.ca_file,
        trust_anchor=trust_anchor,
        state_dir=folder,
        resolver_log=resolver_log,
        nsd_log=nsd_log,
        nginx_error_log=site.error_log,
        nginx_access_log=site.access_log,
    )
    children = (
        ChildSpec("nsd", tuple(servers.nsd_command(nsd_config)), folder / "nsd.out"),
        ChildSpec(
            "unbound", tuple(servers.unbound_command(unbound_config)), folder / "unbound.out"
        ),
        ChildSpec("nginx", tuple(nginx_command(site, folder / "https")), folder / "nginx.out"),
        ChildSpec(
            "hang",
            (sys.executable, str(HANG_SCRIPT), slot.hanging, str(HTTPS_PORT)),
            folder / "hang.out",
        ),
    )
    return _Plan(world=world, children=children, site=site)


# --- Running it --------------------------------------------------------------------------------


def _diagnostics(world: SecureWorld) -> str:
    folder = world.state_dir
    parts = [
        ("supervisor", folder / "supervisor.log"),
        ("nsd log", world.nsd_log),
        ("nsd output", folder / "nsd.out"),
        ("unbound log", world.resolver_log),
        ("unbound output", folder / "unbound.out"),
        ("nginx error log", world.nginx_error_log),
        ("nginx output", folder / "nginx.out"),
        ("hanging server output", folder / "hang.out"),
    ]
    return "\n".join(f"--- {title} ({path}):\n{tail(path, 12)}" for title, path in parts)


def _answer(name: str, ip: str) -> dns.message.Message | None:
    query = dns.message.make_query(name, "SOA", want_dnssec=True)
    try:
        return dns.query.udp(query, ip, port=DNS_PORT, timeout=0.3)
    except (dns.exception.Timeout, OSError):
        return None


def _listens(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.3):
            return True
    except OSError:
        return False


def _wait_until_ready(world: SecureWorld, supervisor: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    waiting = {"nsd", "unbound", "nginx", "hang"}
    last_resolver_answer = "no answer"
    while waiting:
        if supervisor.poll() is not None:
            raise WorldError(
                "a server of the secure world stopped at start.\n" + _diagnostics(world)
            )
        if time.monotonic() > deadline:
            raise WorldError(
                f"the secure world was not ready after {READY_TIMEOUT:.0f}s, still waiting for "
                f"{', '.join(sorted(waiting))} (the resolver's last answer: "
                f"{last_resolver_answer}).\n" + _diagnostics(world)
            )
        if "nsd" in waiting:
            answer = _answer(f"{ROOT_ZONE}.", world.authoritative_ip)
            if answer is not None and answer.rcode() == dns.rcode.NOERROR:
                waiting.discard("nsd")
        if "unbound" in waiting and "nsd" not in waiting:
            # Ready means validating: the secure zone's SOA comes back authenticated.
            answer = _answer(f"{SECURE_ZONE}.", world.ip)
            if answer is not None:
                last_resolver_answer = f"{dns.rcode.to_text(answer.rcode())}, flags " + (
                    dns.flags.to_text(answer.flags)
                )
                if answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.AD:
                    waiting.discard("unbound")
        if "nginx" in waiting and _listens(world.https_ip, world.https_port):
            waiting.discard("nginx")
        if "hang" in waiting and _listens(world.hanging_ip, world.https_port):
            waiting.discard("hang")
        if waiting:
            time.sleep(0.05)


def _stop(supervisor: subprocess.Popen[bytes]) -> None:
    supervisor.terminate()  # it stops the servers and reaps them before it exits
    try:
        supervisor.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        supervisor.kill()
        supervisor.wait()


@contextlib.contextmanager
def running_world(fleet: Fleet, folder: Path) -> Iterator[SecureWorld]:
    """Build and start a world in ``folder`` (which it fills); stop it on exit.

    Raises ``WorldError`` when it cannot start, with the servers' logs in the message.
    """
    missing = missing_programs()
    if missing:
        raise WorldError(
            f"{', '.join(missing)} not installed: the secure world runs real servers. "
            "Run scripts/setup (as root) first."
        )
    with _claimed_slot() as slot:
        try:
            plan = _plan(fleet, slot, folder)
        except (SigningError, ValueError, OSError) as problem:
            raise WorldError(f"cannot build the secure world in {folder}: {problem}") from None
        spec_file = folder / "supervisor.json"
        spec = SupervisorSpec(
            state_dir=folder / "supervisor", starter_pid=os.getpid(), children=plan.children
        )
        supervisor = spec.start(spec_file, folder / "supervisor.log")
        try:
            _wait_until_ready(plan.world, supervisor)
            yield plan.world
        finally:
            _stop(supervisor)

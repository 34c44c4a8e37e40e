"""Start the fleet once per machine, share it between pytest processes, stop it after the last.

``acquire()`` returns a ``Lease``; ``Lease.release()`` gives it back. The first process to
acquire starts nsd and Postfix under a supervisor (see ``supervisor.py``); later ones, such as
the other xdist workers of the same run, join it. State lives in one folder under the system's
temporary directory because the fleet's addresses are machine-wide: there can only be one.

What a killed run leaves behind (a supervisor nobody uses, servers without a supervisor, stale
pid files) is cleared before the next start.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from . import nsd, postfix
from .certs import build_certificates
from .children import ChildSpec, SupervisorSpec
from .layout import LISTENERS, Fleet, FleetPaths, describe_fleet
from .processes import ProcessId, read_pid_file, terminate, wait_until_gone
from .registry import (
    SupervisorRecord,
    User,
    current_run_key,
    live_users,
    locked,
    register,
    unregister,
)

# Fixed, not per user or per checkout: the fleet's addresses are machine-wide, so every test run
# on this machine must find the same lock and the same record of the running fleet. Set
# MAILTLS_TEST_FLEET_DIR only for a run in a network namespace of its own (``unshare -n``),
# where the addresses are free again and a fleet must not be joined from outside.
STATE_DIR = Path(os.environ.get("MAILTLS_TEST_FLEET_DIR", "/tmp/mailtls-test-fleet"))
READY_TIMEOUT = 10.0
REQUIRED_PROGRAMS = {"postfix": postfix.POSTFIX, "nsd": nsd.NSD}


class FleetError(RuntimeError):
    """The fleet cannot run here; the message says why and what to do."""


def missing_programs() -> list[str]:
    return [name for name, path in REQUIRED_PROGRAMS.items() if not Path(path).is_file()]


# Supervisors this process started and left running for another run (see Lease.release).
_HANDED_OVER: list[subprocess.Popen[bytes]] = []


@dataclass
class Lease:
    """One pytest process's use of the fleet."""

    fleet: Fleet
    paths: FleetPaths
    user: User
    supervisor: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def release(self) -> None:
        with locked(self.paths):
            unregister(self.paths, self.user)
        if self.supervisor is not None:
            # This process started the supervisor, so only this process can reap it: wait
            # until the other workers of this run are done before deciding.
            _wait_for_run_to_finish(self.paths, self.user)
        with locked(self.paths):
            if live_users(self.paths):
                # Another run still uses the fleet; its last process stops it. Our handle on
                # the supervisor stays referenced: collected while the supervisor runs, it
                # would warn (ResourceWarning) in the middle of whatever test runs then.
                if self.supervisor is not None:
                    _HANDED_OVER.append(self.supervisor)
                return
            record = SupervisorRecord.read(self.paths)
            if record is not None:
                _stop_supervisor(self.paths, record, self.supervisor)
            # Servers outlive their supervisor only if it was killed; leave nothing behind.
            _clear_leftovers(self.paths)
        if self.supervisor is not None:
            self.supervisor.wait(timeout=15)  # reap it, also when it stopped on its own


def _wait_for_run_to_finish(paths: FleetPaths, me: User) -> None:
    while True:
        with locked(paths):
            if not any(user.run == me.run for user in live_users(paths)):
                return
        time.sleep(0.1)


def _stop_supervisor(
    paths: FleetPaths, record: SupervisorRecord, child: subprocess.Popen[bytes] | None
) -> None:
    """Stop a running supervisor (it stops its servers) and forget it; the caller holds the lock."""
    if child is not None and child.pid == record.supervisor.pid:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    else:
        terminate(record.supervisor, timeout=15)
    SupervisorRecord.remove(paths)


def _clear_leftovers(paths: FleetPaths) -> None:
    """Stop servers a killed supervisor left running, by the pid files in the last run folder."""
    for pid_file, name in (
        (postfix.master_pid_file(paths), "master"),
        (nsd.pid_file(paths), "nsd"),
    ):
        process = read_pid_file(pid_file, name)
        if process is not None:
            terminate(process)


def _bind_check(ip: str, port: int, kind: socket.SocketKind) -> str | None:
    family = socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError as problem:
            return f"{ip} port {port}: {problem.strerror}"
    return None


def _check_ipv6_loopback() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError as problem:
            raise FleetError(
                f"the IPv6 loopback address ::1 is unusable ({problem.strerror}); the fleet "
                "has an IPv6 listener. Enable IPv6 on lo: sysctl net.ipv6.conf.lo.disable_ipv6=0"
            ) from None


def _check_addresses_free(fleet: Fleet) -> None:
    _check_ipv6_loopback()
    problems = [
        problem
        for problem in (
            *(_bind_check(item.ip, item.port, socket.SOCK_STREAM) for item in fleet.listeners),
            _bind_check(fleet.nameserver, fleet.dns_port, socket.SOCK_STREAM),
            _bind_check(fleet.nameserver, fleet.dns_port, socket.SOCK_DGRAM),
        )
        if problem is not None
    ]
    if problems:
        raise FleetError(
            "the test fleet cannot listen where it must: "
            + "; ".join(problems)
            + ". Another server holds these addresses (a system Postfix or nsd listening on "
            "all addresses? scripts/setup stops and disables them; `ss -ltnup` shows who it is)."
        )


def _prepare(paths: FleetPaths) -> tuple[ChildSpec, ...]:
    """Write certificates and configurations for a fresh start; return what to run."""
    shutil.rmtree(paths.run_dir, ignore_errors=True)
    paths.run_dir.mkdir(parents=True)
    certificates = build_certificates(paths.certs_dir, LISTENERS)
    postfix.write_config(paths, LISTENERS, certificates.chain_files)
    nsd_config = nsd.write_config(paths, LISTENERS)
    return (
        ChildSpec(
            name="nsd",
            argv=tuple(nsd.start_command(nsd_config)),
            output=paths.run_dir / "nsd.out",
        ),
        ChildSpec(
            name="postfix",
            argv=tuple(postfix.start_command(paths)),
            output=paths.run_dir / "postfix.out",
            # start-fg runs the master under a shell; the master is what must get SIGTERM.
            stop_pid_file=postfix.master_pid_file(paths),
            stop_pid_program="master",
        ),
    )


def _smtp_banner(ip: str, port: int, timeout: float) -> bytes:
    with socket.create_connection((ip, port), timeout=timeout) as connection:
        banner = connection.recv(512)
        connection.sendall(b"QUIT\r\n")
        return banner


def _dns_answers(fleet: Fleet, timeout: float) -> bool:
    query = dns.message.make_query(fleet.zone, "SOA")
    try:
        response = dns.query.udp(query, fleet.nameserver, port=fleet.dns_port, timeout=timeout)
    except (dns.exception.Timeout, OSError):
        return False
    return response.rcode() == dns.rcode.NOERROR and bool(response.answer)


def _wait_until_ready(fleet: Fleet, paths: FleetPaths, supervisor: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = list(fleet.listeners)
    dns_ready = False
    while pending or not dns_ready:
        if supervisor.poll() is not None:
            raise FleetError("the fleet's servers stopped during start-up.\n" + _diagnostics(paths))
        if time.monotonic() > deadline:
            waiting = [str(item.endpoint) for item in pending]
            if not dns_ready:
                waiting.append(f"nsd at {fleet.nameserver}")
            raise FleetError(
                f"the fleet was not ready after {READY_TIMEOUT:.0f}s, still waiting for "
                + ", ".join(waiting)
                + ".\n"
                + _diagnostics(paths)
            )
        dns_ready = dns_ready or _dns_answers(fleet, timeout=0.2)
        for listener in list(pending):
            try:
                banner = _smtp_banner(listener.ip, listener.port, timeout=1.0)
            except OSError:
                continue
            if banner.startswith(b"220"):
                pending.remove(listener)
        if pending or not dns_ready:
            time.sleep(0.05)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a server's log or output, for the message of a failed start."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no file)"
    return "\n".join(text[-lines:]) or "(empty)"


def _diagnostics(paths: FleetPaths) -> str:
    parts = [
        ("supervisor", paths.supervisor_log),
        ("postfix log", paths.postfix_log),
        ("postfix output", paths.run_dir / "postfix.out"),
        ("nsd log", paths.nsd_log),
        ("nsd output", paths.run_dir / "nsd.out"),
    ]
    return "\n".join(f"--- {title} ({path}):\n{tail(path)}" for title, path in parts)


def _start(paths: FleetPaths, fleet: Fleet, starter: ProcessId) -> subprocess.Popen[bytes]:
    _check_addresses_free(fleet)
    children = _prepare(paths)
    spec_file = paths.run_dir / "supervisor.json"
    spec = SupervisorSpec(state_dir=paths.root, starter_pid=starter.pid, children=children)
    supervisor = spec.start(spec_file, paths.supervisor_log)
    supervisor_id = ProcessId.of(supervisor.pid)
    if supervisor_id is None:
        supervisor.wait()
        raise FleetError("the fleet supervisor exited at once.\n" + _diagnostics(paths))
    record = SupervisorRecord(supervisor=supervisor_id, starter=starter)
    record.write(paths)
    try:
        _wait_until_ready(fleet, paths, supervisor)
    except BaseException:
        _stop_supervisor(paths, record, supervisor)
        raise
    return supervisor


def _joinable(record: SupervisorRecord, users: list[User]) -> bool:
    """A running fleet is in use while someone is registered, or while the process that
    started it lives: that one unregisters before it stops the fleet, and leaves the fleet
    running if someone joined meanwhile."""
    return record.supervisor.running() and (bool(users) or record.starter.running())


def acquire(state_dir: Path = STATE_DIR) -> Lease:
    """Join the running fleet or start it; raise ``FleetError`` when it cannot run here."""
    missing = missing_programs()
    if missing:
        raise FleetError(
            f"{' and '.join(missing)} not installed: the integration tests run real servers. "
            "Run scripts/setup (as root) first."
        )
    paths = FleetPaths(state_dir)
    fleet = describe_fleet(paths)
    me = User(process=ProcessId.current(), run=current_run_key())
    supervisor: subprocess.Popen[bytes] | None = None
    with locked(paths):
        record = SupervisorRecord.read(paths)
        if record is not None and not _joinable(record, live_users(paths)):
            # Left by a killed run: nobody uses it, or its supervisor died.
            if record.supervisor.running():
                terminate(record.supervisor, timeout=15)
            wait_until_gone(record.supervisor, timeout=5)
            SupervisorRecord.remove(paths)
            record = None
        if record is None:
            _clear_leftovers(paths)
            supervisor = _start(paths, fleet, me.process)
        register(paths, me)
    return Lease(fleet=fleet, paths=paths, user=me, supervisor=supervisor)

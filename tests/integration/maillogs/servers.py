"""Run the log-producing Postfix and Exim under the fleet's supervisor, and stop them again.

The supervisor (``tests.integration.fleet.supervisor``) reaps every process the servers leave
and stops them if the pytest process that started them dies. Readiness is read from the
kernel's socket table, not by connecting: a test connection would be a session in the very
logs whose sessions are counted.
"""

from __future__ import annotations

import ipaddress
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mailtls.models import Endpoint
from mailtls.tls.issuing import issue, make_ca
from tests.integration.fleet.children import ChildSpec, SupervisorSpec
from tests.integration.fleet.processes import ProcessId, read_pid_file, terminate

from . import exim_config, postfix_config
from .plan import EXIM_MX, POSTFIX_MX, POSTFIX_SUBMISSION
from .workspace import EXIM_PACKAGE_CACHE, EXIM_PACKAGES, Workspace

REPOSITORY = Path(__file__).resolve().parents[3]
READY_TIMEOUT = 15.0
LISTENERS: tuple[Endpoint, ...] = (POSTFIX_MX, POSTFIX_SUBMISSION, EXIM_MX)
_SETUP_HINT = "Run scripts/setup (as root) first."


class ServersError(RuntimeError):
    """The servers cannot run here; the message says why."""


def exim_packages(cache: Path = EXIM_PACKAGE_CACHE) -> list[Path]:
    """The downloaded .deb of each Exim package; raises if one is missing."""
    found = []
    for package in EXIM_PACKAGES:
        candidates = sorted(cache.glob(f"{package}_*.deb"))
        if not candidates:
            raise ServersError(f"{package}_*.deb is not in {cache}. {_SETUP_HINT}")
        found.append(candidates[-1])
    return found


def check_prerequisites() -> None:
    missing = [
        path
        for path in (postfix_config.POSTFIX, postfix_config.POSTQUEUE, "/usr/bin/swaks")
        if not Path(path).is_file()
    ]
    if missing:
        raise ServersError(f"{', '.join(missing)} not installed. {_SETUP_HINT}")
    exim_packages()
    try:
        pwd.getpwnam(exim_config.EXIM_USER)
    except KeyError:
        raise ServersError(f"no {exim_config.EXIM_USER} user for Exim. {_SETUP_HINT}") from None


# --- Readiness from /proc/net/tcp{,6} -----------------------------------------------------------

_LISTEN = "0A"


def _decode(hex_address: str) -> Endpoint:
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    # The kernel prints each 32-bit word in host (little-endian) order.
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return Endpoint(ip=str(ipaddress.ip_address(ordered)), port=int(port, 16))


def listening(tables: Iterable[str]) -> set[Endpoint]:
    """The endpoints in LISTEN state in the text of /proc/net/tcp and /proc/net/tcp6."""
    endpoints = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _LISTEN:
                endpoints.add(_decode(fields[1]))
    return endpoints


def _listening_now() -> set[Endpoint]:
    return listening(Path(f"/proc/net/{name}").read_text() for name in ("tcp", "tcp6"))


def check_addresses_free() -> None:
    busy = []
    for endpoint in LISTENERS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((endpoint.ip, endpoint.port))
            except OSError as problem:
                busy.append(f"{endpoint}: {problem.strerror}")
    if busy:
        raise ServersError(
            "the log-producing servers cannot listen where they must: "
            + "; ".join(busy)
            + " (`ss -ltnp` shows who holds them)"
        )


# --- Files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    chain_with_key: Path  # Postfix's smtpd_tls_chain_files: key, then leaf and intermediates
    chain: Path
    key: Path


def _issue_certificate(directory: Path) -> Certificate:
    directory.mkdir(parents=True, exist_ok=True)
    root = make_ca("mailtls log tests root")
    leaf = issue((postfix_config.HOST_NAME, exim_config.HOST_NAME), issuer=root)
    chain, key = leaf.write(directory, "server")
    combined = directory / "server-chain.pem"
    combined.write_bytes(leaf.key_pem + leaf.chain_pem)
    combined.chmod(0o600)
    return Certificate(chain_with_key=combined, chain=chain, key=key)


def _unpack_exim(workspace: Workspace) -> None:
    workspace.exim_root.mkdir(parents=True, exist_ok=True)
    for package in exim_packages():
        subprocess.run(["dpkg-deb", "-x", str(package), str(workspace.exim_root)], check=True)
    if not workspace.exim_binary.is_file():
        raise ServersError(f"the Exim packages hold no {workspace.exim_binary.name}")


def _own(paths: Iterable[Path], user: str) -> None:
    entry = pwd.getpwnam(user)
    for path in paths:
        shutil.chown(path, entry.pw_uid, entry.pw_gid)


def prepare(workspace: Workspace, sasl_path: str) -> tuple[ChildSpec, ...]:
    """Write everything for a fresh start into an empty work folder; return what to run."""
    shutil.rmtree(workspace.work_dir, ignore_errors=True)
    workspace.work_dir.mkdir(parents=True)
    certificate = _issue_certificate(workspace.certs_dir)
    postfix_config.write_config(workspace, certificate.chain_with_key, sasl_path)
    _unpack_exim(workspace)
    for folder in (workspace.exim_spool_dir, workspace.exim_log_dir):
        folder.mkdir(parents=True)
    # Exim receives and delivers as its own user: it writes spool and log, and reads the key
    # when a client starts TLS.
    _own(
        (workspace.exim_spool_dir, workspace.exim_log_dir, certificate.key),
        exim_config.EXIM_USER,
    )
    workspace.exim_config.write_text(
        exim_config.exim_conf(workspace, certificate.chain, certificate.key)
    )
    _check_exim_config(workspace)
    return (
        ChildSpec(
            name="postfix",
            argv=tuple(postfix_config.start_command(workspace)),
            output=workspace.postfix_output,
            # start-fg runs the master under a shell; the master is what must get SIGTERM.
            stop_pid_file=workspace.postfix_master_pid,
            stop_pid_program="master",
        ),
        ChildSpec(
            name="exim",
            argv=tuple(exim_config.start_command(workspace)),
            output=workspace.exim_output,
        ),
    )


def _check_exim_config(workspace: Workspace) -> None:
    """Exim's own verdict on binary and configuration (a missing library shows here)."""
    check = subprocess.run(
        [str(workspace.exim_binary), "-C", str(workspace.exim_config), "-bV"],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if check.returncode != 0:
        raise ServersError(
            f"Exim cannot run from {workspace.exim_binary} (exit {check.returncode}):\n"
            f"{check.stdout}{check.stderr}\n{_SETUP_HINT}"
        )


# --- Start and stop -----------------------------------------------------------------------------


def clear_leftovers(workspace: Workspace) -> None:
    """Stop what a killed run left: its supervisor, then servers that outlived it."""
    try:
        recorded = ProcessId.from_text(workspace.supervisor_record.read_text())
    except (FileNotFoundError, ValueError):
        recorded = None
    if recorded is not None and recorded.running():
        terminate(recorded, timeout=15)
    workspace.supervisor_record.unlink(missing_ok=True)
    for pid_file, program in (
        (workspace.postfix_master_pid, "master"),
        (workspace.exim_pid_file, "exim4"),
    ):
        process = read_pid_file(pid_file, program)
        if process is not None:
            terminate(process)


def start(workspace: Workspace, children: tuple[ChildSpec, ...]) -> subprocess.Popen[bytes]:
    SupervisorSpec(
        state_dir=workspace.root, starter_pid=ProcessId.current().pid, children=children
    ).write(workspace.supervisor_spec)
    with open(workspace.supervisor_log, "ab") as log:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.fleet.supervisor",
                str(workspace.supervisor_spec),
            ],
            cwd=REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches pytest, which stops the servers in order
        )
    process = ProcessId.of(supervisor.pid)
    if process is not None:
        workspace.supervisor_record.write_text(process.as_text())
    try:
        _wait_until_listening(workspace, supervisor)
    except BaseException:
        stop(workspace, supervisor)
        raise
    return supervisor


def _wait_until_listening(workspace: Workspace, supervisor: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if supervisor.poll() is not None:
            raise ServersError("a server stopped during start-up.\n" + diagnostics(workspace))
        waiting = set(LISTENERS) - _listening_now()
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise ServersError(
                f"not listening after {READY_TIMEOUT:.0f}s: "
                + ", ".join(sorted(str(endpoint) for endpoint in waiting))
                + "\n"
                + diagnostics(workspace)
            )
        time.sleep(0.05)


def stop(workspace: Workspace, supervisor: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the supervisor, which stops both servers and reaps what they leave."""
    if supervisor.poll() is None:
        supervisor.terminate()
        try:
            supervisor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()
    workspace.supervisor_record.unlink(missing_ok=True)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no file)"
    return "\n".join(text[-lines:]) or "(empty)"


def diagnostics(workspace: Workspace) -> str:
    parts = [
        ("supervisor", workspace.supervisor_log),
        ("postfix log", workspace.postfix_log),
        ("postfix output", workspace.postfix_output),
        ("exim main log", workspace.exim_main_log),
        ("exim panic log", workspace.exim_panic_log),
        ("exim output", workspace.exim_output),
    ]
    return "\n".join(f"--- {title} ({path}):\n{_tail(path)}" for title, path in parts)

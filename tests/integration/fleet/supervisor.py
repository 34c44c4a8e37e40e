"""The parent of the fleet's servers: starts them, reaps every process they leave, stops them.

Run as ``python -m tests.integration.fleet.supervisor SPEC.json`` from the repository root.
Why a process of its own: daemons that fork (nsd's server children, Postfix's smtpd processes)
leave orphans behind when they stop; as a child subreaper this process inherits and reaps them,
so no zombie is left even where PID 1 does not reap (containers). It also outlives the pytest
process that started it when other xdist workers still use the fleet.

It stops the servers and exits when
- it receives SIGTERM / SIGINT / SIGHUP (the last user leaving sends SIGTERM), or
- one of the servers exits (the fleet is broken; users see the failure), or
- the process that started it has died and no registered user is alive (a killed test run).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from .children import ChildSpec, SupervisorSpec
from .layout import FleetPaths
from .processes import ProcessId, children_of, read_pid_file, terminate
from .registry import SupervisorRecord, live_users, locked

_PR_SET_CHILD_SUBREAPER = 36
_POLL_SECONDS = 0.1
_REAP_TIMEOUT = 10.0


def _log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
    print(f"{stamp} supervisor[{os.getpid()}]: {message}", flush=True)


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        _log(f"cannot become a child subreaper (errno {ctypes.get_errno()})")


class Supervisor:
    def __init__(
        self, paths: FleetPaths, children: tuple[ChildSpec, ...], starter_pid: int
    ) -> None:
        self.paths = paths
        self.specs = children
        self.running: dict[int, ChildSpec] = {}  # pid of each server still running
        self.stop_requested = threading.Event()
        self.starter_pid = starter_pid

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_requested.set()

    def start_children(self) -> None:
        for spec in self.specs:
            with open(spec.output, "ab") as output:
                child = subprocess.Popen(
                    spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Postfix manages its own process group
                )
            self.running[child.pid] = spec
            _log(f"started {spec.name} (pid {child.pid}): {' '.join(spec.argv)}")

    def _reap(self) -> None:
        """Collect every exited child: servers we started and orphans we inherited."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            spec = self.running.pop(pid, None)
            if spec is not None:
                _log(
                    f"{spec.name} (pid {pid}) exited with status {os.waitstatus_to_exitcode(status)}"
                )

    def _stop_if_abandoned(self) -> bool:
        """Stop the servers if the starting run is gone and no user is left; True if stopped.

        Deciding and stopping happen under one hold of the lock, so nobody can join a fleet
        that is on its way down.
        """
        if os.getppid() == self.starter_pid:
            return False
        with locked(self.paths, blocking=False) as have_lock:
            # Someone holding the lock is starting, joining or stopping: decide next time.
            if not have_lock or live_users(self.paths):
                return False
            _log("the run that started the fleet is gone and nobody uses it")
            self.stop_children()
            record = SupervisorRecord.read(self.paths)
            if record is not None and record.supervisor.pid == os.getpid():
                SupervisorRecord.remove(self.paths)
            return True

    def watch(self) -> None:
        """Return once the servers must stop; they are already stopped if abandoned."""
        while True:
            if self.stop_requested.is_set():
                _log("asked to stop")
                self.stop_children()
                return
            before = set(self.running)
            self._reap()
            if set(self.running) != before:
                _log("a server exited: stopping the others")
                self.stop_children()
                return
            if self._stop_if_abandoned():
                return
            time.sleep(_POLL_SECONDS)

    def stop_children(self) -> None:
        for pid, spec in list(self.running.items()):
            target = ProcessId.of(pid)
            if spec.stop_pid_file is not None and spec.stop_pid_program is not None:
                target = read_pid_file(spec.stop_pid_file, spec.stop_pid_program) or target
            if target is not None and target.running():
                _log(f"stopping {spec.name} (pid {target.pid})")
                os.kill(target.pid, signal.SIGTERM)
        deadline = time.monotonic() + _REAP_TIMEOUT
        while True:
            self._reap()
            remaining = children_of(os.getpid())
            if not remaining:
                return
            if time.monotonic() > deadline:
                for process in remaining:
                    _log(f"killing pid {process.pid}, still there after {_REAP_TIMEOUT}s")
                    terminate(process, timeout=1.0)
                deadline = time.monotonic() + _REAP_TIMEOUT
            time.sleep(0.02)

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        _become_subreaper()
        self.start_children()
        self.watch()
        _log("all servers stopped")
        return 0


def main(argv: list[str]) -> int:
    spec = SupervisorSpec.read(Path(argv[1]))
    return Supervisor(FleetPaths(spec.state_dir), spec.children, spec.starter_pid).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Who uses the fleet, and who runs it: small files under one lock.

Every pytest process (each xdist worker, or the single process without xdist) that uses the
fleet registers itself; the fleet stops when the last one leaves. An entry whose process has
died (a killed run) no longer counts, so a dead run can neither keep the fleet up forever nor
stop the next run from starting a fresh one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

from .layout import FleetPaths
from .processes import ProcessId


@contextlib.contextmanager
def locked(paths: FleetPaths, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the fleet's lock; with ``blocking=False`` yield False instead of waiting for it."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with open(paths.lock_file, "a+") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class User:
    process: ProcessId
    run: str  # processes of one pytest run (xdist workers) share this key


def current_run_key() -> str:
    """pytest-xdist gives all workers of one run the same id; a plain run is its own process."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"


def register(paths: FleetPaths, user: User) -> None:
    paths.users_dir.mkdir(parents=True, exist_ok=True)
    (paths.users_dir / user.process.as_text()).write_text(json.dumps({"run": user.run}))


def unregister(paths: FleetPaths, user: User) -> None:
    (paths.users_dir / user.process.as_text()).unlink(missing_ok=True)


def live_users(paths: FleetPaths) -> list[User]:
    """The registered users still running; entries of dead processes are removed."""
    if not paths.users_dir.is_dir():
        return []
    users = []
    for entry in paths.users_dir.iterdir():
        try:
            process = ProcessId.from_text(entry.name)
            run = str(json.loads(entry.read_text())["run"])
        except (ValueError, KeyError, OSError):
            entry.unlink(missing_ok=True)
            continue
        if process.running():
            users.append(User(process=process, run=run))
        else:
            entry.unlink(missing_ok=True)
    return users


@dataclass(frozen=True)
class SupervisorRecord:
    """The supervisor process that owns the running servers, and the process that started it."""

    supervisor: ProcessId
    starter: ProcessId

    def write(self, paths: FleetPaths) -> None:
        paths.supervisor_record.write_text(
            json.dumps({"supervisor": self.supervisor.as_text(), "starter": self.starter.as_text()})
        )

    @classmethod
    def read(cls, paths: FleetPaths) -> SupervisorRecord | None:
        try:
            raw = json.loads(paths.supervisor_record.read_text())
            return cls(
                supervisor=ProcessId.from_text(raw["supervisor"]),
                starter=ProcessId.from_text(raw["starter"]),
            )
        except (FileNotFoundError, ValueError, KeyError):
            return None

    @staticmethod
    def remove(paths: FleetPaths) -> None:
        paths.supervisor_record.unlink(missing_ok=True)

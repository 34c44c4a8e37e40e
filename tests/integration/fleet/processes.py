"""Processes named so that a reused pid is never mistaken for the process that was recorded."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name sits in parentheses and may itself hold spaces or parentheses.
    return text[text.rindex(")") + 2 :].split()


@dataclass(frozen=True)
class ProcessId:
    """A pid plus the process's start time in clock ticks since boot (``/proc/PID/stat``)."""

    pid: int
    start_ticks: int

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        fields = _stat_fields(pid)
        return None if fields is None else cls(pid=pid, start_ticks=int(fields[19]))

    @classmethod
    def current(cls) -> ProcessId:
        me = cls.of(os.getpid())
        if me is None:
            raise RuntimeError("/proc is not mounted")
        return me

    def running(self) -> bool:
        """True while this very process exists and has not exited (a zombie has exited)."""
        fields = _stat_fields(self.pid)
        return fields is not None and fields[0] != "Z" and int(fields[19]) == self.start_ticks

    def as_text(self) -> str:
        return f"{self.pid}-{self.start_ticks}"

    @classmethod
    def from_text(cls, text: str) -> ProcessId:
        pid, ticks = text.strip().split("-")
        return cls(pid=int(pid), start_ticks=int(ticks))


def children_of(parent: int) -> list[ProcessId]:
    """The processes whose parent is ``parent``, zombies included."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[1]) == parent:
            children.append(ProcessId(pid=int(entry.name), start_ticks=int(fields[19])))
    return children


def wait_until_gone(process: ProcessId, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.running():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def terminate(process: ProcessId, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if the process outlives ``timeout``; returns once it has exited."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not process.running():
            return
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            return
        if wait_until_gone(process, timeout):
            return
    raise RuntimeError(f"process {process.pid} survived SIGKILL")


def read_pid_file(path: Path, program: str) -> ProcessId | None:
    """The process a daemon's pid file names, if it still runs the executable ``program``.

    Checking the executable's file name keeps a stale pid file from pointing at an unrelated
    process that reused the pid. (Not the command name: nsd renames its processes.)
    """
    try:
        pid = int(path.read_text().split()[0])
        executable = Path(os.readlink(f"/proc/{pid}/exe"))
    except (FileNotFoundError, ValueError, IndexError):
        return None
    process = ProcessId.of(pid)
    if executable.name != program or process is None or not process.running():
        return None
    return process

"""What the supervisor runs, written to a file by the starting process and read by the supervisor."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ChildSpec:
    """A server to run in the foreground. ``stop_pid_file``: signal the process named there
    (``stop_pid_program`` is its executable's file name) instead of the child itself."""

    name: str
    argv: tuple[str, ...]
    output: Path
    stop_pid_file: Path | None = None
    stop_pid_program: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "argv": list(self.argv),
            "output": str(self.output),
            "stop_pid_file": str(self.stop_pid_file) if self.stop_pid_file else None,
            "stop_pid_program": self.stop_pid_program,
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> ChildSpec:
        stop_file = raw.get("stop_pid_file")
        stop_name = raw.get("stop_pid_program")
        argv = raw["argv"]
        if not isinstance(argv, list):
            raise TypeError("argv must be a list")
        return cls(
            name=str(raw["name"]),
            argv=tuple(str(arg) for arg in argv),
            output=Path(str(raw["output"])),
            stop_pid_file=Path(str(stop_file)) if stop_file else None,
            stop_pid_program=str(stop_name) if stop_name else None,
        )


@dataclass(frozen=True)
class SupervisorSpec:
    state_dir: Path
    # The process that starts the supervisor. Compared with the supervisor's parent, not taken
    # from it: the starter may die before the supervisor has even looked.
    starter_pid: int
    children: tuple[ChildSpec, ...]

    def write(self, path: Path) -> None:
        raw = {
            "state_dir": str(self.state_dir),
            "starter_pid": self.starter_pid,
            "children": [child.as_json() for child in self.children],
        }
        path.write_text(json.dumps(raw, indent=2))

    @classmethod
    def read(cls, path: Path) -> SupervisorSpec:
        raw = json.loads(path.read_text())
        return cls(
            state_dir=Path(raw["state_dir"]),
            starter_pid=int(raw["starter_pid"]),
            children=tuple(ChildSpec.from_json(child) for child in raw["children"]),
        )

    def start(self, spec_file: Path, log: Path) -> subprocess.Popen[bytes]:
        """Write this spec to ``spec_file`` and start the supervisor on it, its output to
        ``log``. In a session of its own: a Ctrl-C at the terminal reaches pytest, which then
        stops the servers in order, instead of killing them under running tests."""
        self.write(spec_file)
        with open(log, "ab") as output:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.integration.fleet.supervisor", str(spec_file)],
                cwd=REPOSITORY,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

"""The machine and the tool versions a set of figures was measured with, and where the figures
are written."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import ssl
import subprocess
import sys
import sysconfig
from datetime import datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPOSITORY / "bench" / "results"


def mailtls_command() -> tuple[str, ...]:
    """The installed ``mailtls`` console script, as a user runs it."""
    script = Path(sysconfig.get_path("scripts")) / "mailtls"
    if script.is_file():
        return (str(script),)
    found = shutil.which("mailtls")
    return (found,) if found else (sys.executable, "-m", "mailtls.cli")


def write_results(document: object, output: Path | None, name: str, started_at: datetime) -> Path:
    """Write a benchmark's raw figures as JSON: to ``output`` if given, else to
    ``bench/results/<name><date>.json``, with ``-2``, ``-3``, ... for the day's later runs.
    Returns where they went."""
    if output is None:
        day = started_at.strftime("%Y-%m-%d")
        output = RESULTS_DIR / f"{name}{day}.json"
        number = 2
        while output.exists():
            output = RESULTS_DIR / f"{name}{day}-{number}.json"
            number += 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n")
    return output


def _output(argv: list[str]) -> str | None:
    """A command's first line of output, or None when it cannot run here."""
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=30, check=False, cwd=REPOSITORY
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    """1, 5 and 15 minute load: other work on the machine slows every tool alike."""
    return [round(value, 2) for value in os.getloadavg()]


def describe_machine() -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "os": _output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "python_openssl": ssl.OPENSSL_VERSION,
    }


def _debian_version(package: str) -> str | None:
    return _output(["dpkg-query", "-W", "-f=${Version}", package])


def _venv_versions(python: Path, packages: tuple[str, ...]) -> dict[str, str | None]:
    script = (
        "import importlib.metadata as m, sys\n"
        "for name in sys.argv[1:]:\n"
        "    try: print(name, m.version(name))\n"
        "    except m.PackageNotFoundError: print(name, '-')\n"
    )
    try:
        result = subprocess.run(
            [str(python), "-c", script, *packages],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return dict.fromkeys(packages)
    found = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return {name: None if found.get(name, "-") == "-" else found[name] for name in packages}


def describe_tools(sslyze_python: Path) -> dict[str, object]:
    """Versions of everything whose speed or answers the figures depend on."""
    dirty = _output(["git", "status", "--porcelain", "--untracked-files=no"])
    sslyze_venv = _venv_versions(sslyze_python, ("sslyze", "nassl", "cryptography"))
    return {
        "mailtls": importlib.metadata.version("mailtls"),
        "mailtls_commit": _output(["git", "rev-parse", "--short=12", "HEAD"]),
        "mailtls_worktree_modified": dirty is not None,
        "cryptography": importlib.metadata.version("cryptography"),
        "testssl.sh": _debian_version("testssl.sh"),
        # testssl.sh does every handshake with the system's openssl binary.
        "openssl_binary": _output([shutil.which("openssl") or "openssl", "version"]),
        "sslyze": sslyze_venv["sslyze"],
        # sslyze's own venv: nassl brings the OpenSSL builds sslyze handshakes with.
        "sslyze_venv": sslyze_venv,
        "postfix": _output(["postconf", "-d", "-h", "mail_version"]),
    }

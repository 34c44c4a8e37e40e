"""A ``mailtls receive`` process on a loopback address, and its records read from its store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mailtls.receiver.models import ReceivedSession
from mailtls.store import Store

REPOSITORY = Path(__file__).resolve().parents[3]
ACCEPTED_DOMAIN = "test.example"
START_TIMEOUT = 15.0


@dataclass
class RunningReceiver:
    ip: str
    port: int
    database: Path
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def records(self, client_ip: str, count: int, timeout: float = 10.0) -> list[ReceivedSession]:
        """The sessions from ``client_ip``, once at least ``count`` of them are stored."""
        deadline = time.monotonic() + timeout
        while True:
            with Store(str(self.database)) as store:
                found = [record for _, record in store.received_sessions(client_ip=client_ip)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def running_receiver(
    work: Path, ip: str, *options: str, port: int = 2525
) -> Iterator[RunningReceiver]:
    database = work / f"receiver-{ip}.sqlite"
    stderr_path = work / f"receiver-{ip}.err"
    argv = [
        sys.executable, "-m", "mailtls.receiver",
        "--listen", f"{ip}:{port}", "--accept", ACCEPTED_DOMAIN, "--db", str(database),
        "--hostname", "rx.test", *options,
    ]  # fmt: skip
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            argv,
            cwd=REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
    receiver = RunningReceiver(ip, port, database, process, stderr_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while b"receiving on" not in stderr_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the receiver did not start:\n{stderr_path.read_text()}")
            time.sleep(0.05)
        yield receiver
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

"""A PostgreSQL server of the tests' own: a private cluster on 127.0.0.1, started once per
test process, each test in a database of its own.

Debian's ``postgresql`` package (installed by scripts/setup) provides the binaries; its system
cluster stays stopped. The cluster runs as the ``postgres`` user (PostgreSQL refuses root) with
``trust`` login on loopback only, and fsync off: it is thrown away after the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg


class PostgresError(RuntimeError):
    pass


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresError("PostgreSQL is not installed (run scripts/setup)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass(frozen=True)
class PostgresServer:
    port: int
    data: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.encode())

    def new_database(self) -> str:
        name = f"mailtls_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    binaries = _binaries()
    data = Path(tempfile.mkdtemp(prefix="mailtls-pg-", dir="/var/tmp"))
    shutil.chown(data, "postgres", "postgres") if os.geteuid() == 0 else None
    port = _free_port()
    log = data / "server.log"

    def run(*command: str) -> None:
        done = subprocess.run(
            _as_postgres(*command), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise PostgresError(
                f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}"
            )

    cluster = data / "cluster"
    run(
        str(binaries / "initdb"), "-D", str(cluster), "-U", "postgres", "--auth=trust", "-E", "UTF8"
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={data} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run(str(binaries / "pg_ctl"), "-D", str(cluster), "-o", options, "-l", str(log), "-w", "start")
    try:
        yield PostgresServer(port, data)
    finally:
        subprocess.run(
            _as_postgres(str(binaries / "pg_ctl"), "-D", str(cluster), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .running import RunningReceiver, running_receiver

OBSERVE_IP = "127.0.9.1"
EXO_IP = "127.0.9.2"
REQUIRE_TLS_IP = "127.0.9.3"

# Small limits, so that the abuse tests finish quickly.
LIMITS = (
    "--idle-timeout", "2", "--session-timeout", "20", "--max-size", "100000",
    "--max-recipients", "5", "--max-per-ip", "5", "--max-per-ip-per-minute", "1000",
)  # fmt: skip


def worker_port() -> int:
    """A port of this test process's own: xdist workers each start the session's receivers, on
    the same addresses, so the port tells them apart (gw0 -> 2525, gw1 -> 2526, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker[2:]) if worker[2:].isdigit() else 0
    return 2525 + number


@pytest.fixture(scope="session")
def receiver_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("receiver")


@pytest.fixture(scope="session")
def observing(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(receiver_work, OBSERVE_IP, *LIMITS, port=worker_port()) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def exo(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(
        receiver_work, EXO_IP, "--policy", "exo", *LIMITS, port=worker_port()
    ) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def requiring_tls(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(
        receiver_work, REQUIRE_TLS_IP, "--require-tls", *LIMITS, port=worker_port()
    ) as receiver:
        yield receiver

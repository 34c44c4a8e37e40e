from __future__ import annotations

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


@pytest.fixture(scope="session")
def receiver_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("receiver")


@pytest.fixture(scope="session")
def observing(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(receiver_work, OBSERVE_IP, *LIMITS) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def exo(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(receiver_work, EXO_IP, "--policy", "exo", *LIMITS) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def requiring_tls(receiver_work: Path) -> Iterator[RunningReceiver]:
    with running_receiver(receiver_work, REQUIRE_TLS_IP, "--require-tls", *LIMITS) as receiver:
        yield receiver

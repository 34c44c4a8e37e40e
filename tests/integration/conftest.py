"""Fixtures for tests against real servers on loopback (see ``fleet/``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.integration.dnssec import SecureWorld, WorldError, running_world
from tests.integration.fleet import Fleet, FleetError, acquire
from tests.integration.maillogs import MailLogs, MailLogsError
from tests.integration.maillogs import obtain as obtain_maillogs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the fleet, so ``-m "not integration"`` runs without servers."""
    for item in items:
        if "fleet" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    """nsd and Postfix in every posture, started once and shared by all xdist workers.

    Fails (never skips) when the servers are not installed: run ``scripts/setup``.
    """
    try:
        lease = acquire()
    except FleetError as problem:
        pytest.fail(f"test fleet unavailable: {problem}", pytrace=False)
    try:
        yield lease.fleet
    finally:
        lease.release()


# --- Logs written by real MTAs (``maillogs/``), for the ``mailtls logs`` tests ---------------


@pytest.fixture(scope="session")
def maillogs(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> MailLogs:
    """Postfix and Exim logs of known sessions, produced once per run and shared by all workers.

    Needs the fleet (the MTAs relay mail to its listeners). Fails (never skips) when Postfix,
    swaks or Exim's packages are missing: run ``scripts/setup``.
    """
    base = tmp_path_factory.getbasetemp()
    # xdist workers of one run share the parent of their own temporary folders.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    try:
        return obtain_maillogs(shared)
    except MailLogsError as problem:
        pytest.fail(f"MTA logs unavailable: {problem}", pytrace=False)


# --- DNSSEC, DANE, MTA-STS and TLS-RPT (``dnssec/``), for the checks that need them ------------


@pytest.fixture(scope="session")
def secure_world(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureWorld]:
    """A signed zone tree with a validating resolver, and HTTPS hosts serving MTA-STS policies.

    One per test process, on addresses of its own in 127.0.6.0/24; its MX hosts are the fleet's
    listeners. Fails (never skips) when nsd, unbound, nginx or ldnsutils are missing: run
    ``scripts/setup``.
    """
    world = contextlib.ExitStack()
    try:
        running = world.enter_context(running_world(fleet, tmp_path_factory.mktemp("secure-world")))
    except WorldError as problem:
        pytest.fail(f"secure world unavailable: {problem}", pytrace=False)
    with world:
        yield running

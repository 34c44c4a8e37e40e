"""Fixtures for tests against real servers on loopback (see ``fleet/``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.fleet import Fleet, FleetError, acquire


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

"""A scan that meets hostile servers: it ends within its deadlines, stores every domain, and a
domain cut short by its deadline says so while the probe goes on for others."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from mailtls.errors import StoreError
from mailtls.models import AddressStatus, DomainReport, Endpoint, FindingCode
from mailtls.probes.politeness import PolitenessSettings
from mailtls.scan.engine import Scanner
from mailtls.scan.gateway import StoreGateway
from mailtls.scan.options import ScanOptions
from mailtls.scanner import CheckOptions
from mailtls.store import ListedTarget, Store, StoredTarget
from mailtls.targets import parse_target
from tests.integration.fleet import Fleet
from tests.integration.hostile import Behaviour, hostile_server

pytestmark = pytest.mark.integration

OPTIONS = ScanOptions(
    check=CheckOptions(ehlo_name="probe.mailtls.test", timeout=2, greeting_timeout=3, deadline=8),
    politeness=PolitenessSettings(gap_seconds=0.0, backoff_seconds=0.2, retries=1),
    domain_workers=4,
    domain_deadline=12,
)


async def scan(database: str, targets: list[str], options: ScanOptions) -> tuple[int, float]:
    with Store(database) as store:
        run = store.create_run(
            label="hostile",
            started_at=datetime.now(UTC),
            tool_version="test",
            options=options.summary(),
            listed=[ListedTarget(n, parse_target(t)) for n, t in enumerate(targets, start=1)],
        )
    gateway = StoreGateway(database)
    started = time.monotonic()
    try:
        await gateway.open()
        await Scanner(run.info.run_id, gateway, options).run()
    finally:
        gateway.close()
    return run.info.run_id, time.monotonic() - started


def test_hostile_servers_never_stall_the_run(fleet: Fleet, tmp_path: Path) -> None:
    asyncio.run(hostile_run(fleet, tmp_path))


async def hostile_run(fleet: Fleet, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    async with contextlib.AsyncExitStack() as stack:
        servers = {
            b: await stack.enter_async_context(hostile_server(b))
            for b in (Behaviour.TRICKLE, Behaviour.ENDLESS_BANNER, Behaviour.TOO_MANY_CONNECTIONS)
        }
        good = f"[{fleet.modern.ip}]:{fleet.modern.port}"
        targets = [f"[{s.host}]:{s.port}" for s in servers.values()] + [good]
        options = ScanOptions(
            check=CheckOptions(
                ehlo_name="probe.mailtls.test",
                timeout=2,
                greeting_timeout=3,
                deadline=8,
                ca_file=fleet.ca_file,
            ),
            politeness=OPTIONS.politeness,
            domain_workers=4,
            domain_deadline=12,
        )
        run_id, wall = await scan(database, targets, options)
    assert wall < 30  # the address deadline is 8 s; one retry after 0.2 s for the 421
    with Store(database) as store:
        reports = {r.target.original: r for r in store.domain_reports(run_id)}
        assert store.run(run_id).completed == len(targets)
    status = {name: report.mx_hosts[0].addresses[0].status for name, report in reports.items()}
    assert status[good] is AddressStatus.OK
    trickle = targets[0]
    assert status[trickle] is AddressStatus.TIMEOUT
    assert status[targets[1]] in {AddressStatus.PROTOCOL_ERROR, AddressStatus.TIMEOUT}
    assert status[targets[2]] is AddressStatus.RATE_LIMITED


def test_a_domain_deadline_cuts_the_domain_short_not_the_run(fleet: Fleet, tmp_path: Path) -> None:
    asyncio.run(deadline_run(fleet, tmp_path))


async def deadline_run(fleet: Fleet, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    async with hostile_server(Behaviour.SLOW_GREETING) as slow:
        options = ScanOptions(
            check=CheckOptions(ehlo_name="probe.mailtls.test", timeout=5, greeting_timeout=30),
            politeness=OPTIONS.politeness,
            domain_workers=2,
            domain_deadline=1.0,
        )
        good = f"[{fleet.modern.ip}]:{fleet.modern.port}"
        run_id, wall = await scan(database, [f"[{slow.host}]:{slow.port}", good], options)
    # The slow server's probe is stopped when no domain needs it any more.
    assert wall < 10
    with Store(database) as store:
        reports = list(store.domain_reports(run_id))
    slow_report, good_report = reports
    address = slow_report.mx_hosts[0].addresses[0]
    assert address.status is AddressStatus.TIMEOUT
    assert "the domain's deadline (1 s)" in (address.status_detail or "")
    assert [f.code for f in address.findings][:1] == [FindingCode.TIMEOUT]
    # The good server answers within the second: its domain is complete.
    assert good_report.mx_hosts[0].addresses[0].status is AddressStatus.OK


class FailingScanner(Scanner):
    """A scanner whose check of one target fails inside mailtls (a narrow seam for the test)."""

    async def _scan_domain(self, stored: StoredTarget) -> tuple[DomainReport, dict[Endpoint, int]]:
        if stored.ordinal == 1:
            raise RuntimeError("a bug met on the way")
        return await super()._scan_domain(stored)


def test_one_domain_failing_inside_mailtls_does_not_end_the_run(
    fleet: Fleet, tmp_path: Path
) -> None:
    asyncio.run(failing_run(fleet, tmp_path))


async def failing_run(fleet: Fleet, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    good = f"[{fleet.modern.ip}]:{fleet.modern.port}"
    targets = [good, f"[{fleet.tls12_only.ip}]:{fleet.tls12_only.port}", f"[{fleet.legacy.ip}]"]
    with Store(database) as store:
        run = store.create_run(
            label="failing",
            started_at=datetime.now(UTC),
            tool_version="test",
            options=OPTIONS.summary(),
            listed=[ListedTarget(n, parse_target(t)) for n, t in enumerate(targets, start=1)],
        )
    gateway = StoreGateway(database)
    try:
        await gateway.open()
        tally = await FailingScanner(run.info.run_id, gateway, OPTIONS).run()
    finally:
        gateway.close()
    assert (tally.stored, tally.failed) == (2, 1)
    assert tally.failures == [f"{targets[1]}: RuntimeError: a bug met on the way"]
    with Store(database) as store:
        pending = store.pending_targets(run.info.run_id, after=-1, limit=10)
    assert [p.target.original for p in pending] == [targets[1]]  # left for a resume


def test_a_store_failure_ends_the_run_with_a_store_error(fleet: Fleet, tmp_path: Path) -> None:
    database = tmp_path / "scan.sqlite"
    targets = [f"[{fleet.modern.ip}]:{fleet.modern.port}"]
    with Store(str(database)) as store:
        run = store.create_run(
            label="vanishing",
            started_at=datetime.now(UTC),
            tool_version="test",
            options=OPTIONS.summary(),
            listed=[ListedTarget(1, parse_target(targets[0]))],
        )

    async def scan_with_the_store_gone() -> None:
        gateway = StoreGateway(str(database))
        try:
            await gateway.open()
            # Every later write fails: the file becomes read-only for the scan's connection.
            with gateway.store.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA query_only = ON")
                connection.commit()
            gateway.store.engine.pool.dispose()
            event.listen(
                gateway.store.engine,
                "connect",
                lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON"),
            )
            await asyncio.wait_for(Scanner(run.info.run_id, gateway, OPTIONS).run(), 60)
        finally:
            gateway.close()

    with pytest.raises(StoreError, match="read-only"):
        asyncio.run(scan_with_the_store_gone())

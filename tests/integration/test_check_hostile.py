"""`mailtls check` with its DEFAULT limits against servers that misbehave on purpose.

All eight hostile servers are checked in one run, as a user's batch would meet them: each must
end with its own status within its limits, and none may stall or crash the others. The slow
greeting (20 s before every banner, as greet_pause does) must still be tested completely.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import pytest

from mailtls.models import (
    AddressReport,
    AddressStatus,
    CheckReport,
    ExoInbound,
    FindingCode,
    TlsVersion,
    VersionSupport,
)
from mailtls.scanner import CheckOptions, check_targets
from mailtls.targets import parse_target
from tests.integration.hostile import ADDRESSES, Behaviour, hostile_server

pytestmark = pytest.mark.integration

DEFAULTS = CheckOptions()
# A server that answers at once must be done in well under a second; allow for a loaded machine.
PROMPT = 10.0


@dataclass(frozen=True)
class Run:
    report: CheckReport
    wall_seconds: float
    active_after: dict[Behaviour, int]


async def check_all_hostile_servers() -> Run:
    async with contextlib.AsyncExitStack() as stack:
        servers = {
            behaviour: await stack.enter_async_context(hostile_server(behaviour))
            for behaviour in Behaviour
        }
        ca_file = servers[Behaviour.SLOW_GREETING].ca_file
        targets = [parse_target(f"[{s.host}]:{s.port}") for s in servers.values()]
        options = CheckOptions(ca_file=ca_file, ehlo_name="probe.mailtls.test")
        started = time.monotonic()
        report = await check_targets(targets, options)
        wall = time.monotonic() - started
        await asyncio.sleep(0.2)  # let the servers notice our closes
        active = {b: s.active_connections for b, s in servers.items()}
    return Run(report, wall, active)


@pytest.fixture(scope="module")
def run() -> Run:
    return asyncio.run(check_all_hostile_servers())


def address(run: Run, behaviour: Behaviour) -> AddressReport:
    ip = ADDRESSES[behaviour]
    return next(
        a
        for d in run.report.domains
        for h in d.mx_hosts
        for a in h.addresses
        if a.endpoint.ip == ip
    )


@pytest.mark.parametrize(
    ("behaviour", "status", "code", "limit"),
    [
        (Behaviour.ENDLESS_BANNER, AddressStatus.PROTOCOL_ERROR, FindingCode.PROTOCOL_ERROR, PROMPT),
        (Behaviour.HUGE_LINE, AddressStatus.PROTOCOL_ERROR, FindingCode.PROTOCOL_ERROR, PROMPT),
        # One byte a second never trips a read timeout; the greeting limit covers the whole reply.
        (Behaviour.TRICKLE, AddressStatus.TIMEOUT, FindingCode.TIMEOUT, DEFAULTS.greeting_timeout + 5),
        (Behaviour.CLOSE_AFTER_EHLO, AddressStatus.CONNECTION_CLOSED, FindingCode.CONNECTION_CLOSED, PROMPT),
        (Behaviour.GARBAGE_AFTER_STARTTLS, AddressStatus.TLS_FAILED, FindingCode.TLS_HANDSHAKE_FAILED, PROMPT),
        (Behaviour.TOO_MANY_CONNECTIONS, AddressStatus.RATE_LIMITED, FindingCode.RATE_LIMITED, PROMPT),
        (Behaviour.TRY_AGAIN_AFTER_EHLO, AddressStatus.RATE_LIMITED, FindingCode.RATE_LIMITED, PROMPT),
    ],
)  # fmt: skip
def test_each_hostile_server_ends_in_time_with_its_own_status(
    run: Run, behaviour: Behaviour, status: AddressStatus, code: FindingCode, limit: float
) -> None:
    report = address(run, behaviour)
    assert report.status is status, report.status_detail
    assert code in {f.code for f in report.findings}
    assert FindingCode.STARTTLS_MISSING not in {f.code for f in report.findings}
    assert report.verdict.inbound is ExoInbound.NOT_TESTED or status is AddressStatus.TLS_FAILED
    assert report.elapsed_seconds <= limit
    assert report.elapsed_seconds <= DEFAULTS.deadline


def test_rate_limit_replies_are_kept_verbatim(run: Run) -> None:
    for behaviour in (Behaviour.TOO_MANY_CONNECTIONS, Behaviour.TRY_AGAIN_AFTER_EHLO):
        report = address(run, behaviour)
        assert report.connections == 1  # no hammering a server that said it is busy
        assert any(e.reply.code == 421 for e in report.replies)
        assert "421" in (report.status_detail or "")


def test_a_greeting_delayed_20s_is_still_tested_completely_with_defaults(run: Run) -> None:
    report = address(run, Behaviour.SLOW_GREETING)
    assert report.status is AddressStatus.OK
    assert report.starttls is True
    assert report.tls_versions == {
        TlsVersion.TLS1_0: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_1: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_2: VersionSupport.SUPPORTED,
        TlsVersion.TLS1_3: VersionSupport.SUPPORTED,
    }
    assert report.verdict.inbound is ExoInbound.TLS12
    assert report.elapsed_seconds >= 20 * report.connections * 0.95


def test_the_run_is_never_longer_than_its_slowest_address(run: Run) -> None:
    slowest = max(
        a.elapsed_seconds for d in run.report.domains for h in d.mx_hosts for a in h.addresses
    )
    assert run.wall_seconds <= slowest + 5
    assert len(run.report.domains) == len(Behaviour)


def test_no_connection_is_left_open(run: Run) -> None:
    assert run.active_after == dict.fromkeys(Behaviour, 0)

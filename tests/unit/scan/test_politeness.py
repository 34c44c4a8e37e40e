"""The politeness gate on a real event loop: one connection per IP, gaps, back-off."""

from __future__ import annotations

import asyncio

from mailtls.models import ProbeKind, ProbeOutcome, ProbeResult, ReplyClass
from mailtls.probes.politeness import PolitenessGate, PolitenessSettings


def busy(reply_class: ReplyClass | None) -> ProbeResult:
    return ProbeResult(ProbeKind.DEFAULT, ProbeOutcome.SMTP_FAILURE, reply_class=reply_class)


async def hold(
    gate: PolitenessGate, ip: str, log: list[tuple[str, str, float]], seconds: float
) -> None:
    loop = asyncio.get_running_loop()
    async with gate.connection(ip):
        log.append((ip, "open", loop.time()))
        await asyncio.sleep(seconds)
        log.append((ip, "close", loop.time()))


def test_one_connection_at_a_time_per_ip_with_a_gap_others_in_parallel() -> None:
    async def scenario() -> list[tuple[str, str, float]]:
        gate = PolitenessGate(PolitenessSettings(gap_seconds=0.1))
        log: list[tuple[str, str, float]] = []
        await asyncio.gather(
            hold(gate, "192.0.2.1", log, 0.05),
            hold(gate, "192.0.2.1", log, 0.05),
            hold(gate, "192.0.2.2", log, 0.05),
        )
        return log

    log = asyncio.run(scenario())
    first = [t for ip, _, t in log if ip == "192.0.2.1"]
    events = [e for ip, e, _ in log if ip == "192.0.2.1"]
    assert events == ["open", "close", "open", "close"]
    assert first[2] - first[1] >= 0.1  # the gap after the first connection closed
    other_open = next(t for ip, e, t in log if ip == "192.0.2.2" and e == "open")
    assert other_open < first[1]  # another IP did not wait


def test_state_is_forgotten_once_the_gap_has_passed() -> None:
    async def scenario() -> tuple[int, int]:
        gate = PolitenessGate(PolitenessSettings(gap_seconds=0.05))
        await hold(gate, "192.0.2.1", [], 0.0)
        during = gate.tracked_ips
        await asyncio.sleep(0.1)
        return during, gate.tracked_ips

    assert asyncio.run(scenario()) == (1, 0)


def test_busy_replies_back_off_doubling_up_to_the_limit_and_a_retry_count() -> None:
    async def scenario() -> list[float | None]:
        gate = PolitenessGate(
            PolitenessSettings(backoff_seconds=1.0, backoff_limit_seconds=3.0, retries=3)
        )
        rate_limited = busy(ReplyClass.RATE_LIMITED)
        return [gate.retry_delay("192.0.2.1", rate_limited, attempt) for attempt in range(4)]

    assert asyncio.run(scenario()) == [1.0, 2.0, 3.0, None]


def test_only_busy_replies_are_retried() -> None:
    async def scenario() -> list[float | None]:
        gate = PolitenessGate(PolitenessSettings(backoff_seconds=1.0))
        return [
            gate.retry_delay("192.0.2.1", busy(reply_class), 0)
            for reply_class in (ReplyClass.TEMPORARY, ReplyClass.REJECTED, None)
        ]

    assert asyncio.run(scenario()) == [1.0, None, None]


def test_a_back_off_holds_back_the_next_connection_to_that_ip() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        gate = PolitenessGate(PolitenessSettings(gap_seconds=0.0, backoff_seconds=0.15))
        gate.retry_delay("192.0.2.1", busy(ReplyClass.RATE_LIMITED), 0)
        started = loop.time()
        async with gate.connection("192.0.2.1"):
            return loop.time() - started

    assert asyncio.run(scenario()) >= 0.15

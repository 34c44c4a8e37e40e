"""TLS sessions per second and sessions held at once: ``mailtls receive`` vs Postfix's smtpd.

Run from the repository root, as root, after ``scripts/setup``::

    python3 -m bench.receive_throughput [--seconds 10] [--concurrency 1,50,200] [--hold 200]

It starts a Postfix instance (127.0.10.1:25, STARTTLS, mail for the test domain discarded) and
``mailtls receive`` (127.0.10.2:25, same certificate) in a network namespace of its own
(``unshare --net``), drives both with the same load client (``bench.receive_client``) phase by
phase, and prints a Markdown table and the targets' outcome; the raw figures, the machine and the
tool versions go to ``bench/results/receive-throughput-<date>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import isolation
from bench.machine import REPOSITORY, describe_machine, load_average, mailtls_command, write_results
from bench.receive_client import Hold, Phase, Target, client_context, hold_sessions, run_phase
from bench.receive_servers import (
    ACCEPTED_DOMAIN,
    RECEIVER_CAP_OPTIONS,
    SERVER_NAME,
    PostfixInstance,
    ReceiverProcess,
    ServerError,
)
from mailtls.tls.issuing import issue

WORK = Path(tempfile.gettempdir()) / "mailtls-bench-receive"
POSTFIX_IP = "127.0.10.1"
RECEIVER_IP = "127.0.10.2"
RECIPIENT = f"sink@{ACCEPTED_DOMAIN}"
POSTFIX = Target("postfix", POSTFIX_IP, 25, RECIPIENT)
RECEIVER = Target("mailtls-receive", RECEIVER_IP, 25, RECIPIENT)
TARGETS = (POSTFIX, RECEIVER)
RATE_TARGET = 0.5  # the receiver's sessions/s at least half of Postfix's
SETTLE_SECONDS = 60.0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def enter_private_network(argv: Sequence[str]) -> None:
    isolation.enter_private_network(
        "bench.receive_throughput", argv, needs="a network namespace, port 25"
    )


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One phase against one server, with the processor time both sides used."""

    phase: Phase
    source_ip: str
    server_cpu_seconds: float
    client_cpu_seconds: float
    load_average: list[float]


def _source_ip(block: int, index: int) -> str:
    # Every phase from an address of its own: its records are counted by client address.
    return f"127.0.{block}.{index}"


async def _measure(
    target: Target,
    source_ip: str,
    server_cpu: Callable[[], float],
    concurrency: int,
    seconds: float,
) -> Measured:
    cpu_before, client_before = server_cpu(), time.process_time()
    phase = await run_phase(target, source_ip, concurrency, seconds, client_context())
    return Measured(
        phase=phase,
        source_ip=source_ip,
        server_cpu_seconds=round(server_cpu() - cpu_before, 2),
        client_cpu_seconds=round(time.process_time() - client_before, 2),
        load_average=load_average(),
    )


@dataclass(frozen=True)
class Plan:
    concurrencies: tuple[int, ...]
    seconds: float
    warmup_seconds: float
    hold: int
    hold_limit: float


async def measure_all(
    plan: Plan, cpu: dict[str, Callable[[], float]]
) -> tuple[list[Measured], list[Measured], list[tuple[Hold, str]]]:
    """Warm-up, then every concurrency against both servers in turn, then the hold test."""
    warmups = [
        await _measure(t, _source_ip(11, n + 1), cpu[t.name], 10, plan.warmup_seconds)
        for n, t in enumerate(TARGETS)
    ]
    measured = []
    for level, concurrency in enumerate(plan.concurrencies):
        # Alternate which server goes first, so that drift in the machine's load hits both.
        order = TARGETS if level % 2 == 0 else TARGETS[::-1]
        for target in order:
            index = level * len(TARGETS) + TARGETS.index(target) + 1
            result = await _measure(
                target, _source_ip(12, index), cpu[target.name], concurrency, plan.seconds
            )
            _say(
                f"{target.name:>16} c={concurrency:<4} {result.phase.completed:6d} sessions "
                f"in {result.phase.seconds:6.2f} s = {result.phase.sessions_per_second:7.1f}/s, "
                f"server CPU {result.server_cpu_seconds} s, "
                f"failures {sum(result.phase.failures.values())}"
            )
            measured.append(result)
    holds = []
    for n, target in enumerate(TARGETS):
        source = _source_ip(13, n + 1)
        hold = await hold_sessions(target, source, plan.hold, client_context(), plan.hold_limit)
        _say(
            f"{target.name:>16} hold {hold.held_at_once}/{hold.wanted} at once "
            f"(all after {hold.seconds_to_hold_all} s), completed {hold.completed}"
        )
        holds.append((hold, source))
    return warmups, measured, holds


@dataclass(frozen=True)
class Records:
    """The receiver's stored sessions from one client address against what the client did."""

    source_ip: str
    opened: int  # connections the client opened
    completed: int  # sessions the client completed (message accepted, QUIT answered)
    recorded: int  # sessions in the receiver's store
    recorded_with_message: int  # of them, with the message accepted

    @property
    def lost(self) -> int:
        return max(self.opened - self.recorded, 0)


def count_records(receiver: ReceiverProcess, expected: dict[str, tuple[int, int]]) -> list[Records]:
    """Wait until the store holds every session (or stops growing), then count per address."""
    total_expected = sum(opened for opened, _ in expected.values())
    deadline = time.monotonic() + SETTLE_SECONDS
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        stored, _ = receiver.recorded()
        if stored >= total_expected:
            break
        if stored != last:
            last, still_since = stored, time.monotonic()
        elif time.monotonic() - still_since > 5:
            break
        time.sleep(0.2)
    counted = []
    for source, (opened, completed) in expected.items():
        recorded, with_message = receiver.recorded(source)
        counted.append(Records(source, opened, completed, recorded, with_message))
    return counted


def wait_for_postfix(postfix: PostfixInstance, completed: int) -> int:
    """Messages Postfix delivered to discard, once they reach ``completed`` or stop growing."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        delivered = postfix.delivered()
        if delivered >= completed:
            return delivered
        if delivered != last:
            last, still_since = delivered, time.monotonic()
        elif time.monotonic() - still_since > 5:
            return delivered
        time.sleep(0.2)
    return postfix.delivered()


def list_json_count(receiver: ReceiverProcess) -> int | None:
    """The number of sessions ``mailtls receive list --json`` shows: the user's view."""
    argv = [*receiver.command, "receive", "list", "--json", "--db", str(receiver.database)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    try:
        document = json.loads(result.stdout)
    except ValueError:
        return None
    sessions = document.get("sessions", document) if isinstance(document, dict) else document
    return len(sessions) if isinstance(sessions, list) else None


# --- reporting ---------------------------------------------------------------------------------


def _rate(measured: list[Measured], target: str, concurrency: int) -> Measured:
    return next(
        m for m in measured if m.phase.target == target and m.phase.concurrency == concurrency
    )


def markdown(measured: list[Measured], concurrencies: Sequence[int]) -> str:
    rows = [
        "| concurrency | server | sessions | seconds | sessions/s | server CPU ms/session "
        "| client CPU s | failures | receive ÷ Postfix (sessions/s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for concurrency in concurrencies:
        postfix = _rate(measured, POSTFIX.name, concurrency)
        for target in TARGETS:
            m = _rate(measured, target.name, concurrency)
            per_session = (
                1000 * m.server_cpu_seconds / m.phase.completed if m.phase.completed else 0
            )
            base = postfix.phase.sessions_per_second
            ratio = m.phase.sessions_per_second / base if base else 0.0
            rows.append(
                f"| {concurrency} | {target.name} | {m.phase.completed} | {m.phase.seconds:.1f} "
                f"| {m.phase.sessions_per_second:.1f} | {per_session:.1f} "
                f"| {m.client_cpu_seconds:.1f} | {sum(m.phase.failures.values())} | {ratio:.2f}× |"
            )
    return "\n".join(rows)


@dataclass(frozen=True)
class TargetOutcome:
    target: str
    met: bool
    detail: str


def judge_targets(
    measured: list[Measured],
    concurrencies: Sequence[int],
    holds: list[Hold],
    records: list[Records],
    wanted_hold: int,
) -> list[TargetOutcome]:
    ratios = {
        c: _rate(measured, RECEIVER.name, c).phase.sessions_per_second
        / max(_rate(measured, POSTFIX.name, c).phase.sessions_per_second, 1e-9)
        for c in concurrencies
    }
    held = next(h for h in holds if h.target == RECEIVER.name)
    lost = sum(r.lost for r in records)
    opened = sum(r.opened for r in records)
    return [
        TargetOutcome(
            f">= {RATE_TARGET:.0%} of Postfix's TLS session rate",
            all(ratio >= RATE_TARGET for ratio in ratios.values()),
            ", ".join(f"{ratio:.2f}× at concurrency {c}" for c, ratio in ratios.items()),
        ),
        TargetOutcome(
            f"{wanted_hold} concurrent sessions held",
            held.held_at_once >= wanted_hold and held.completed == held.wanted,
            f"{held.held_at_once} of {held.wanted} held at once after STARTTLS "
            f"({held.seconds_to_hold_all} s to get there), {held.completed} completed",
        ),
        TargetOutcome(
            "zero lost records",
            lost == 0,
            f"{lost} lost: {sum(r.recorded for r in records)} sessions stored for "
            f"{opened} connections the client opened",
        ),
    ]


def _parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.receive_throughput",
        description="mailtls receive vs Postfix smtpd: TLS sessions/s and sessions held at once",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per server first (2)")
    parser.add_argument("--concurrency", default="1,50,200", help="levels (1,50,200)")
    parser.add_argument("--hold", type=int, default=200, help="sessions held at once (200)")
    parser.add_argument("--hold-limit", type=float, default=120.0, help="seconds to get there")
    parser.add_argument("--profile", type=Path, help="run the receiver under cProfile into FILE")
    parser.add_argument("--output", type=Path, help="JSON file (bench/results/...)")
    arguments = parser.parse_args(argv)
    try:
        arguments.concurrency = tuple(int(c) for c in arguments.concurrency.split(","))
    except ValueError as problem:
        parser.error(str(problem))
    if arguments.seconds <= 0 or arguments.hold < 1 or min(arguments.concurrency) < 1:
        parser.error("--seconds, --hold and every --concurrency must be positive")
    return arguments


def _stop_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the finally that stops the servers


def _versions(command: tuple[str, ...]) -> dict[str, object]:
    def output(argv: list[str]) -> str | None:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPOSITORY)
        return result.stdout.strip() or None if result.returncode == 0 else None

    return {
        "mailtls": importlib.metadata.version("mailtls"),
        "mailtls_commit": output(["git", "rev-parse", "--short=12", "HEAD"]),
        "mailtls_worktree_modified": bool(
            output(["git", "status", "--porcelain", "--untracked-files=no", "src"])
        ),
        "aiosmtpd": importlib.metadata.version("aiosmtpd"),
        "postfix": PostfixInstance.version(),
        "receiver_command": list(command),
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = _parse_arguments(argv)
    enter_private_network(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    command = shlex.join(["python3", "-m", "bench.receive_throughput", *argv])
    plan = Plan(
        concurrencies=arguments.concurrency,
        seconds=arguments.seconds,
        warmup_seconds=arguments.warmup,
        hold=arguments.hold,
        hold_limit=arguments.hold_limit,
    )
    shutil.rmtree(WORK, ignore_errors=True)
    certificate, key = issue((SERVER_NAME,)).write(WORK / "tls", "server")
    postfix = PostfixInstance(WORK / "postfix", POSTFIX_IP)
    receiver = ReceiverProcess(WORK / "receiver", RECEIVER_IP, mailtls_command(), arguments.profile)
    started_at, load_at_start = datetime.now(UTC), load_average()
    try:
        postfix.start(certificate, key)
        receiver.start(certificate, key)
        _say(f"Postfix on {POSTFIX_IP}:25, mailtls receive on {RECEIVER_IP}:25 (private namespace)")
        cpu = {POSTFIX.name: postfix.cpu_seconds, RECEIVER.name: receiver.cpu_seconds}
        warmups, measured, holds = asyncio.run(measure_all(plan, cpu))
        everything = [*warmups, *measured]
        expected = {
            m.source_ip: (m.phase.opened, m.phase.completed)
            for m in everything
            if m.phase.target == RECEIVER.name
        } | {source: (h.opened, h.completed) for h, source in holds if h.target == RECEIVER.name}
        records = count_records(receiver, expected)
        postfix_completed = sum(
            m.phase.completed for m in everything if m.phase.target == POSTFIX.name
        ) + sum(h.completed for h, _ in holds if h.target == POSTFIX.name)
        postfix_delivered = wait_for_postfix(postfix, postfix_completed)
        listed = list_json_count(receiver)
    except ServerError as problem:
        _say(f"receive_throughput: {problem}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted: stopping the servers, no results written")
        return 130
    finally:
        receiver_said = receiver.stop()
        postfix.stop()
    finished_at, load_at_end = datetime.now(UTC), load_average()

    hold_results = [hold for hold, _ in holds]
    targets = judge_targets(measured, plan.concurrencies, hold_results, records, plan.hold)
    machine = describe_machine()
    tools = _versions(receiver.command)
    document = {
        "benchmark": "receive_throughput",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "isolation": "private network namespace (unshare --net), loopback only, own servers",
        "machine": machine | {"load_average": {"start": load_at_start, "end": load_at_end}},
        "tools": tools,
        "servers": {
            POSTFIX.name: {
                "address": f"{POSTFIX_IP}:25",
                "main.cf": (postfix.config / "main.cf").read_text().splitlines(),
                "master.cf": (postfix.config / "master.cf").read_text().splitlines()[:1],
            },
            RECEIVER.name: {
                "address": f"{RECEIVER_IP}:25",
                "argv": receiver.argv(Path("CERT"), Path("KEY")),
                "raised_caps": list(RECEIVER_CAP_OPTIONS),
                "last_words": receiver_said.strip().splitlines()[-3:],
            },
        },
        "plan": asdict(plan),
        "warmup": [asdict(m) for m in warmups],
        "phases": [
            asdict(m) | {"sessions_per_second": round(m.phase.sessions_per_second, 2)}
            for m in measured
        ],
        "holds": [asdict(hold) | {"source_ip": source} for hold, source in holds],
        "receiver_records": [asdict(r) | {"lost": r.lost} for r in records],
        "receiver_records_listed": listed,
        "postfix_sessions_completed": postfix_completed,
        "postfix_messages_discarded": postfix_delivered,
        "targets": [asdict(t) for t in targets],
    }
    output = write_results(document, arguments.output, "receive-throughput-", started_at)

    print(f"Command: `{command}`  ")
    print(
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, {machine['python_openssl']}; "
        f"load average {load_at_start} at start, {load_at_end} at end  "
    )
    print(
        f"Tools: mailtls {tools['mailtls']} ({tools['mailtls_commit']}), aiosmtpd "
        f"{tools['aiosmtpd']}, Postfix {tools['postfix']}; {started_at:%Y-%m-%d %H:%M} UTC\n"
    )
    print(markdown(measured, plan.concurrencies))
    print()
    for hold in hold_results:
        print(
            f"- {hold.target}: {hold.held_at_once}/{hold.wanted} sessions held at once after "
            f"STARTTLS ({hold.seconds_to_hold_all} s), {hold.completed} completed, failures "
            f"{sum(hold.failures.values())}"
        )
    print(
        f"- records: {sum(r.recorded for r in records)} stored for "
        f"{sum(r.opened for r in records)} connections ({listed} in `mailtls receive list "
        f"--json`); Postfix discarded {postfix_delivered} of {postfix_completed} messages"
    )
    print("\nTargets:")
    for outcome in targets:
        print(f"- {outcome.target}: {'met' if outcome.met else 'NOT met'} ({outcome.detail})")
    shown = output.relative_to(REPOSITORY) if output.is_relative_to(REPOSITORY) else output
    print(f"\nRaw figures: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

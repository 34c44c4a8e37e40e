"""Time and connections for a full check of one address: mailtls vs testssl.sh and sslyze.

Run from the repository root, as root, after ``scripts/setup`` and ``bench/setup``::

    python3 -m bench.check_one_address [--repetitions 5] [--postures modern,tls12,legacy]

It starts the integration tests' Postfix fleet, runs every tool against the same listeners,
round-robin, and prints a Markdown table and the targets' outcome; the raw figures, the machine
and the tool versions go to ``bench/results/<date>.json``. See bench/README.md.

The whole run happens in a network namespace of its own (``unshare --net``) with a fleet of its
own: its loopback is private, so no test suite running at the same time can add connections to
the counts, and none of the three tools can reach any address but the fleet's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from tests.integration.fleet import FleetError, Listener, Posture, acquire, listener_for
from tests.integration.fleet.layout import FleetPaths, describe_fleet

from bench import isolation
from bench.machine import (
    REPOSITORY,
    describe_machine,
    describe_tools,
    load_average,
    mailtls_command,
    write_results,
)
from bench.postfix_log import log_end, wait_for_sessions
from bench.report import Run, check_targets, markdown_table, summarise, targets_text
from bench.tools import (
    BASELINE,
    IN_PROCESS,
    VARIANTS,
    Answer,
    Programs,
    Variant,
    answer_from_report,
)
from mailtls.models import ALL_TLS_VERSIONS
from mailtls.scanner import CheckOptions
from mailtls.scanner import check_targets as mailtls_check_targets
from mailtls.targets import parse_target

# A fleet of the benchmark's own: the test suite's registry and addresses live in another
# network namespace, and the two must never be mistaken for each other.
STATE_DIR = Path(tempfile.gettempdir()) / "mailtls-bench-fleet"
SSLYZE = REPOSITORY / "bench" / ".work" / "venv" / "bin" / "sslyze"
DEFAULT_POSTURES = (Posture.MODERN, Posture.TLS12_ONLY, Posture.LEGACY)
IN_PROCESS_LABEL = "check_targets() in-process"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- isolation -----------------------------------------------------------------------------


def enter_private_network(argv: Sequence[str]) -> None:
    isolation.enter_private_network(
        "bench.check_one_address", argv, needs="a network namespace, ports 25 and 53"
    )


# --- running the tools ---------------------------------------------------------------------


def find_programs(ca_file: Path) -> Programs:
    testssl = shutil.which("testssl.sh") or shutil.which("testssl")
    missing = [
        name
        for name, present in (("testssl.sh", testssl is not None), ("sslyze", SSLYZE.is_file()))
        if not present
    ]
    if missing or testssl is None:
        sys.exit(f"check_one_address: {' and '.join(missing)} not installed; run bench/setup")
    return Programs(mailtls=mailtls_command(), testssl=testssl, sslyze=str(SSLYZE), ca_file=ca_file)


def _run_process(argv: Sequence[str], workdir: Path, time_limit: float) -> tuple[int | None, str]:
    """Run a tool to its end (or kill it and its children at the limit); exit code and stdout."""
    with subprocess.Popen(
        argv,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # testssl.sh starts openssl processes: kill them all together
    ) as process:
        try:
            stdout, _ = process.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, _ = process.communicate()
            return None, stdout
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        return process.returncode, stdout


def judge(answer: Answer, listener: Listener) -> tuple[bool, str | None]:
    """Whether the tool's answer for every TLS version matches the listener's configuration."""
    wrong = [
        f"{version.value} said {'accepted' if said else 'refused'}"
        for version in ALL_TLS_VERSIONS
        if (said := answer.versions.get(version)) is not None
        and said != (version in listener.tls_versions)
    ]
    if wrong:
        return False, "wrong: " + ", ".join(wrong)
    if answer.failure or any(answer.versions.get(v) is None for v in ALL_TLS_VERSIONS):
        return False, answer.failure or "no answer for some versions"
    return True, None


def _record(
    listener: Listener,
    variant: str,
    repetition: int,
    *,
    wall_seconds: float,
    exit_code: int | None,
    answer: Answer,
    log_offset: int,
    log: Path,
) -> Run:
    counted = wait_for_sessions(log, log_offset, listener.syslog_name)
    right, problem = judge(answer, listener)
    return Run(
        posture=listener.posture.value,
        address=str(listener.endpoint),
        variant=variant,
        repetition=repetition,
        wall_seconds=round(wall_seconds, 4),
        exit_code=exit_code,
        connections=counted.sessions.connects,
        connections_settled=counted.settled,
        reported_connections=answer.reported_connections,
        answers={version.value: answer.versions.get(version) for version in ALL_TLS_VERSIONS},
        right=right,
        problem=problem,
    )


@dataclass(frozen=True)
class Bench:
    """What every run needs: the tools, the log that counts connections, a time limit."""

    programs: Programs
    log: Path
    time_limit: float


def run_tool(variant: Variant, bench: Bench, listener: Listener, repetition: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="mailtls-bench-") as work:
        workdir = Path(work)
        invocation = variant.build(bench.programs, listener.endpoint, workdir)
        offset = log_end(bench.log)
        started = time.perf_counter()
        exit_code, stdout = _run_process(invocation.argv, workdir, bench.time_limit)
        wall = time.perf_counter() - started
        output_file = invocation.output_file
        output = output_file.read_text() if output_file and output_file.is_file() else None
        answer = variant.read(stdout, output)
    return _record(
        listener,
        variant.key,
        repetition,
        wall_seconds=wall,
        exit_code=exit_code,
        answer=answer,
        log_offset=offset,
        log=bench.log,
    )


def run_in_process(bench: Bench, listener: Listener, repetition: int) -> Run:
    """mailtls's library call alone: no interpreter start, no imports, no JSON rendering."""
    options = CheckOptions(ca_file=bench.programs.ca_file)
    target = parse_target(f"[{listener.ip}]:{listener.port}")
    offset = log_end(bench.log)
    started = time.perf_counter()
    report = asyncio.run(mailtls_check_targets([target], options))
    wall = time.perf_counter() - started
    return _record(
        listener,
        IN_PROCESS,
        repetition,
        wall_seconds=wall,
        exit_code=report.exit_code,
        answer=answer_from_report(report),
        log_offset=offset,
        log=bench.log,
    )


# --- the benchmark -------------------------------------------------------------------------


def _describe(run: Run) -> str:
    verdict = "right" if run.right else f"NOT right ({run.problem})"
    which = "warm-up" if run.repetition < 0 else f"run {run.repetition + 1}"
    return (
        f"{run.posture:>7} {which:<7} {run.variant:<18} {run.wall_seconds:7.3f} s "
        f"{run.connections:4d} connections, {verdict}"
    )


@dataclass(frozen=True)
class Plan:
    postures: tuple[Posture, ...]
    variants: tuple[Variant, ...]
    in_process: bool
    repetitions: int
    warmups: int


def measure(plan: Plan, bench: Bench) -> tuple[list[Run], list[Run]]:
    """Round-robin over the tools within each repetition, so that drift hits them alike."""
    measured: list[Run] = []
    warmup_runs: list[Run] = []
    for posture in plan.postures:
        listener = listener_for(posture)
        for repetition in range(-plan.warmups, plan.repetitions):
            batch = [run_tool(variant, bench, listener, repetition) for variant in plan.variants]
            if plan.in_process:
                batch.append(run_in_process(bench, listener, repetition))
            for run in batch:
                _say(_describe(run))
            (warmup_runs if repetition < 0 else measured).extend(batch)
    return measured, warmup_runs


def _parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.check_one_address",
        description="mailtls check vs testssl.sh -p and sslyze on the same Postfix listeners",
    )
    parser.add_argument("--repetitions", type=int, default=5, help="timed runs per tool (5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
    parser.add_argument(
        "--postures",
        default=",".join(p.value for p in DEFAULT_POSTURES),
        help="fleet listeners to check, by posture (modern,tls12,legacy)",
    )
    parser.add_argument(
        "--variants",
        default=",".join([*(v.key for v in VARIANTS), IN_PROCESS]),
        help="tools to run (all): " + ", ".join([*(v.key for v in VARIANTS), IN_PROCESS]),
    )
    parser.add_argument("--time-limit", type=float, default=300.0, help="per run, seconds")
    parser.add_argument("--output", type=Path, help="JSON file (bench/results/<date>.json)")
    arguments = parser.parse_args(argv)
    if arguments.repetitions < 1 or arguments.warmup < 0:
        parser.error("--repetitions must be at least 1 and --warmup at least 0")
    try:
        arguments.postures = [Posture(name) for name in arguments.postures.split(",")]
    except ValueError as problem:
        parser.error(str(problem))
    known = {v.key for v in VARIANTS} | {IN_PROCESS}
    chosen = arguments.variants.split(",")
    if unknown := set(chosen) - known:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    if BASELINE not in chosen:
        parser.error(f"the ratios are taken against {BASELINE!r}: keep it in --variants")
    arguments.variants = chosen
    return arguments


def _stop_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the finally that stops the fleet


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = _parse_arguments(argv)
    enter_private_network(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    command = shlex.join(["python3", "-m", "bench.check_one_address", *argv])
    variants = [v for v in VARIANTS if v.key in arguments.variants]
    labels = {v.key: v.label for v in VARIANTS} | {IN_PROCESS: IN_PROCESS_LABEL}

    # Before any server starts: a missing tool should cost nothing.
    programs = find_programs(describe_fleet(FleetPaths(STATE_DIR)).ca_file)
    started_at = datetime.now(UTC)
    load_at_start = load_average()
    _say(f"starting the Postfix fleet in {STATE_DIR} (private network namespace)")
    try:
        lease = acquire(STATE_DIR)
    except FleetError as problem:
        _say(f"check_one_address: the fleet cannot start: {problem}")
        return 1
    try:
        plan = Plan(
            postures=tuple(arguments.postures),
            variants=tuple(variants),
            in_process=IN_PROCESS in arguments.variants,
            repetitions=arguments.repetitions,
            warmups=arguments.warmup,
        )
        bench = Bench(programs, lease.fleet.postfix_log, arguments.time_limit)
        runs, warmups = measure(plan, bench)
    except KeyboardInterrupt:
        _say("interrupted: stopping the fleet, no results written")
        return 130
    finally:
        lease.release()
    finished_at = datetime.now(UTC)
    load_at_end = load_average()

    summaries = summarise(runs, labels, BASELINE)
    targets = check_targets(summaries, runs, BASELINE, testssl="testssl-p")
    machine = describe_machine()
    tools = describe_tools(SSLYZE.parent / "python")
    example_dir = Path("$WORKDIR")
    document = {
        "benchmark": "check_one_address",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "isolation": "private network namespace (unshare --net), loopback only, own fleet",
        "repetitions": arguments.repetitions,
        "warmup": arguments.warmup,
        "machine": machine | {"load_average": {"start": load_at_start, "end": load_at_end}},
        "tools": tools,
        "labels": labels,
        "commands": {
            posture.value: {
                v.key: list(v.build(programs, listener_for(posture).endpoint, example_dir).argv)
                for v in variants
            }
            for posture in arguments.postures
        },
        "summary": [asdict(s) for s in summaries],
        "targets": [asdict(t) for t in targets],
        "runs": [asdict(r) for r in runs],
        "warmup_runs": [asdict(r) for r in warmups],
    }
    output = write_results(document, arguments.output, "", started_at)

    print(f"Command: `{command}`  ")
    print(
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, {machine['python_openssl']}; "
        f"load average {load_at_start[0]} at start, {load_at_end[0]} at end  "
    )
    print(
        f"Tools: mailtls {tools['mailtls']} ({tools['mailtls_commit']}), testssl.sh "
        f"{tools['testssl.sh']} ({tools['openssl_binary']}), sslyze {tools['sslyze']}, "
        f"Postfix {tools['postfix']}  "
    )
    print(
        f"{arguments.repetitions} timed runs per tool and address, after {arguments.warmup} "
        f"warm-up; {started_at:%Y-%m-%d %H:%M} UTC\n"
    )
    print(markdown_table(summaries, BASELINE))
    print("\nTargets:\n" + targets_text(targets))
    shown = output.relative_to(REPOSITORY) if output.is_relative_to(REPOSITORY) else output
    print(f"\nRaw figures: {shown}")
    unsettled = [r for r in runs if not r.connections_settled]
    if unsettled:
        print(f"\nWarning: {len(unsettled)} run(s) left sessions open in the log at the limit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

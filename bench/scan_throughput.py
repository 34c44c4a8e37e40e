"""Domains per minute, connections and peak memory of ``mailtls scan`` over generated lists.

Run from the repository root, as root, after ``scripts/setup`` and ``bench/setup``::

    python3 -m bench.scan_throughput [--shared-sizes 2500,10000,40000] [--distinct 1000]

In a network namespace of its own (``unshare --net``) it starts the integration tests' Postfix
fleet and an nsd serving a generated zone, then runs the installed ``mailtls scan`` over:

* lists of domains that share a handful of MX hosts (several sizes: speed and memory against
  the list length), on SQLite and, when PostgreSQL is installed, on a private PostgreSQL;
* a list where every domain has an MX address of its own (nftables DNAT leads each /16 of
  loopback addresses to one listener), with the scan's default politeness;
* a small subset of those domains, scanned by mailtls and by ``testssl.sh --file ... --mode
  parallel`` on their addresses, in the same run.

The Markdown tables and the targets go to standard output, progress to standard error, the raw
figures (machine, tool versions, every command) to ``bench/results/scan-throughput-<date>.json``.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from tests.integration.fleet import LISTENERS, FleetError, Posture, acquire
from tests.integration.scan.zone import ScanZone, serving_zone

from bench import isolation
from bench.machine import (
    REPOSITORY,
    describe_machine,
    describe_tools,
    load_average,
    mailtls_command,
    write_results,
)
from bench.postfix_log import count_sessions, log_end
from bench.scan_answers import Judged, judge_mailtls, judge_testssl
from bench.scan_lists import (
    DISTINCT_POSTURES,
    NFT_TABLE,
    SHARED_HOSTS,
    DistinctDomain,
    distinct_domains,
    list_text,
    mix_counts,
    nat_ruleset,
    shared_domains,
    testssl_lines,
    zone_hosts,
)
from bench.scan_report import ScanRun, check_targets, scan_table, subset_table, targets_text
from bench.timing import GNU_TIME, run_under_gnu_time

# A fleet of the benchmark's own, apart from check_one_address's (which may run at the same
# time in its own namespace) and from the test suite's.
STATE_DIR = Path(tempfile.gettempdir()) / "mailtls-bench-scan-fleet"
WORK_DIR = REPOSITORY / "bench" / ".work" / "scan"
NFT = "nft"
SSLYZE_PYTHON = REPOSITORY / "bench" / ".work" / "venv" / "bin" / "python"

LABELS = {
    "shared": "shared MX hosts",
    "shared-postgresql": "shared MX hosts",
    "distinct": "distinct addresses (defaults: --gap 0.5, --concurrency 10)",
    "distinct-concurrency": "distinct addresses, --concurrency {c}",
    "subset-mailtls": "mailtls scan SUBSET --db DB --json -q ...",
    "subset-testssl": "testssl.sh --file LINES --mode parallel (each: --starttls smtp -p)",
}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- isolation -----------------------------------------------------------------------------


def enter_private_network(argv: Sequence[str]) -> None:
    isolation.enter_private_network(
        "bench.scan_throughput", argv, needs="a network namespace, ports 25 and 53, nftables"
    )


@contextmanager
def distinct_addresses_routed(listener_ips: dict[Posture, str]) -> Iterator[None]:
    """nftables DNAT of 127.(1+k).0.0/16:25 to the fleet's listeners, removed afterwards."""
    subprocess.run([NFT, "-f", "-"], input=nat_ruleset(listener_ips), text=True, check=True)
    try:
        yield
    finally:
        subprocess.run([NFT, "delete", "table", "ip", NFT_TABLE], check=False)


# --- running one command -------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    wall_seconds: float
    peak_rss_kib: int | None
    cpu_seconds: float | None
    exit_code: int | None
    stdout: str


def run_timed(argv: Sequence[str], workdir: Path, time_limit: float) -> Timed:
    """Run to the end under GNU time: wall seconds, peak RSS, processor seconds, exit code."""
    stdout_file = workdir / "stdout.txt"
    measured = run_under_gnu_time(
        argv,
        stdout=stdout_file,
        rusage=workdir / "rusage.txt",
        time_limit=time_limit,
        cwd=workdir,  # testssl.sh writes beside itself
    )
    return Timed(
        measured.wall_seconds,
        measured.peak_rss_kib,
        measured.cpu_seconds,
        measured.exit_code,
        stdout_file.read_text(errors="replace"),
    )


_SYSLOG_NAMES = tuple(listener.syslog_name for listener in LISTENERS)
_ANY_SESSION = re.compile(r" postfix-[\w-]+/smtpd\[\d+\]: (?:dis)?connect from ")


def server_sessions(log: Path, offset: int, time_limit: float = 30.0) -> tuple[int, bool]:
    """smtpd sessions every listener logged since ``offset``, once all of them have ended."""
    deadline = time.monotonic() + time_limit
    last: tuple[int, int] | None = None
    still_since = time.monotonic()
    while True:
        with log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
        counts = [count_sessions(text, name) for name in _SYSLOG_NAMES]
        current = (sum(c.connects for c in counts), sum(c.disconnects for c in counts))
        now = time.monotonic()
        if current != last:
            last, still_since = current, now
        elif current[0] == current[1] and now - still_since >= 0.5:
            return current[0], True
        if now > deadline:
            return current[0], False
        time.sleep(0.05)


# --- the scenarios -------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What every run needs: the tools, the zone, the fleet's CA and log, a time limit."""

    mailtls: tuple[str, ...]
    testssl: str
    zone: ScanZone
    ca_file: Path
    postfix_log: Path
    time_limit: float
    work: Path


def scan_argv(setting: Setting, list_file: Path, database: str, *extra: str) -> list[str]:
    return [
        *setting.mailtls,
        "scan",
        str(list_file),
        "--db",
        database,
        "--json",
        "-q",
        "--nameserver",
        setting.zone.nameserver,
        "--ca-file",
        str(setting.ca_file),
        "-4",  # the zone has A records only: no AAAA question for every MX host
        *extra,
    ]


def _scan_summary(stdout: str) -> dict[str, object]:
    try:
        document = json.loads(stdout)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def database_name(path: str) -> str:
    return Path(path).name


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def run_scan(
    setting: Setting,
    key: str,
    names: Sequence[str],
    *,
    store: str,
    database: str,
    extra: Sequence[str] = (),
    judge_expected: dict[str, Posture] | None = None,
) -> ScanRun:
    folder = setting.work / f"{key}-{len(names)}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    list_file = folder / "domains.txt"
    list_file.write_text(list_text(names))
    if store == "sqlite":
        database = str(folder / database)
    argv = scan_argv(setting, list_file, database, *extra)
    load_before = load_average()
    offset = log_end(setting.postfix_log)
    timed = run_timed(argv, folder, setting.time_limit)
    load_after = load_average()
    server, settled = server_sessions(setting.postfix_log, offset)
    summary = _scan_summary(timed.stdout)
    invocation = summary.get("this_invocation")
    tally = invocation if isinstance(invocation, dict) else {}
    judged: Judged | None = None
    if judge_expected is not None:
        run_id = str(summary.get("run", "latest"))
        shown = subprocess.run(
            [*setting.mailtls, "show", run_id, "--db", database, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        judged = judge_mailtls(shown.stdout, judge_expected)
    if store == "sqlite":  # a 40 000-domain store is large; its figures are in hand
        for leftover in folder.glob(f"{database_name(database)}*"):
            leftover.unlink()
    problems: list[str] = [] if summary else [f"no JSON summary (exit {timed.exit_code})"]
    run = ScanRun(
        key=key,
        tool="mailtls",
        store=store,
        domains=len(names),
        wall_seconds=round(timed.wall_seconds, 3),
        peak_rss_kib=timed.peak_rss_kib,
        cpu_seconds=round(timed.cpu_seconds, 2) if timed.cpu_seconds is not None else None,
        exit_code=timed.exit_code,
        completed=_int(summary.get("completed")),
        endpoints_probed=_int(tally.get("endpoints_probed")),
        endpoints_reused=_int(tally.get("endpoints_reused")),
        connections=_int(tally.get("connections")),
        server_connections=server,
        server_connections_settled=settled,
        deadline_hits=_int(tally.get("deadline_hits")),
        right=judged.right if judged else None,
        right_of=judged.total if judged else None,
        problems=tuple(problems) + (judged.problems if judged else ()),
        load_before=tuple(load_before),  # type: ignore[arg-type]
        load_after=tuple(load_after),  # type: ignore[arg-type]
        argv=tuple(argv),
    )
    _describe(run)
    return run


def run_testssl(setting: Setting, subset: Sequence[DistinctDomain]) -> ScanRun:
    folder = setting.work / f"subset-testssl-{len(subset)}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = folder / "testssl-lines.txt"
    lines.write_text(testssl_lines([item.ip for item in subset]))
    output = folder / "testssl.json"
    argv = [
        setting.testssl,
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "batch",
        "--jsonfile",
        str(output),
        "--file",
        str(lines),
        "--mode",
        "parallel",
    ]
    load_before = load_average()
    offset = log_end(setting.postfix_log)
    timed = run_timed(argv, folder, setting.time_limit)
    load_after = load_average()
    server, settled = server_sessions(setting.postfix_log, offset)
    findings = output.read_text(errors="replace") if output.is_file() else ""
    judged = judge_testssl(findings, {item.ip: item.posture for item in subset})
    run = ScanRun(
        key="subset-testssl",
        tool="testssl.sh",
        store=None,
        domains=len(subset),
        wall_seconds=round(timed.wall_seconds, 3),
        peak_rss_kib=timed.peak_rss_kib,
        cpu_seconds=round(timed.cpu_seconds, 2) if timed.cpu_seconds is not None else None,
        exit_code=timed.exit_code,
        completed=None,
        endpoints_probed=None,
        endpoints_reused=None,
        connections=None,
        server_connections=server,
        server_connections_settled=settled,
        deadline_hits=None,
        right=judged.right,
        right_of=judged.total,
        problems=judged.problems,
        load_before=tuple(load_before),  # type: ignore[arg-type]
        load_after=tuple(load_after),  # type: ignore[arg-type]
        argv=tuple(argv),
    )
    _describe(run)
    return run


def _describe(run: ScanRun) -> None:
    rss = f"{run.peak_rss_kib / 1024:7.1f} MiB" if run.peak_rss_kib else "      - MiB"
    right = f", right {run.right}/{run.right_of}" if run.right_of is not None else ""
    _say(
        f"{run.key:<22} {run.store or '-':<10} {run.domains:>7} {run.wall_seconds:8.1f} s "
        f"{run.domains_per_minute:9.0f}/min {rss} connections {run.connections} own, "
        f"{run.server_connections} server{right}; load {run.load_before[0]}->"
        f"{run.load_after[0]}" + (f"; {'; '.join(run.problems)}" if run.problems else "")
    )


@dataclass(frozen=True)
class Plan:
    shared_sizes: tuple[int, ...]
    postgres_size: int  # 0: no PostgreSQL run
    distinct: int
    distinct_concurrency: int  # 0: no extra run
    subset: int


def measure(setting: Setting, plan: Plan, distinct: Sequence[DistinctDomain]) -> list[ScanRun]:
    runs = []
    largest = shared_domains(max(plan.shared_sizes))
    for size in plan.shared_sizes:
        names = [domain.name for domain in largest[:size]]
        runs.append(run_scan(setting, "shared", names, store="sqlite", database="scan.sqlite"))
    if plan.postgres_size:
        runs.extend(_postgres_run(setting, [d.name for d in largest[: plan.postgres_size]]))
    distinct_names = [item.domain.name for item in distinct]
    runs.append(
        run_scan(setting, "distinct", distinct_names, store="sqlite", database="scan.sqlite")
    )
    if plan.distinct_concurrency:
        runs.append(
            run_scan(
                setting,
                "distinct-concurrency",
                distinct_names,
                store="sqlite",
                database="scan.sqlite",
                extra=("--concurrency", str(plan.distinct_concurrency)),
            )
        )
    subset = _subset(distinct, plan.subset)
    runs.append(
        run_scan(
            setting,
            "subset-mailtls",
            [item.domain.name for item in subset],
            store="sqlite",
            database="scan.sqlite",
            judge_expected={item.ip: item.posture for item in subset},
        )
    )
    runs.append(run_testssl(setting, subset))
    return runs


def _subset(distinct: Sequence[DistinctDomain], size: int) -> list[DistinctDomain]:
    """The first ``size`` distinct domains: every posture in turn, so the mix is the list's."""
    return list(distinct[:size])


def _postgres_run(setting: Setting, names: Sequence[str]) -> list[ScanRun]:
    try:
        from tests.integration.postgres import PostgresError, running_postgres  # noqa: PLC0415
    except ImportError as problem:  # psycopg missing: the postgresql extra is not installed
        _say(f"PostgreSQL run skipped: {problem}")
        return []
    try:
        with running_postgres() as server:
            url = server.new_database()
            return [run_scan(setting, "shared-postgresql", names, store="postgresql", database=url)]
    except PostgresError as problem:
        _say(f"PostgreSQL run skipped: {problem}")
        return []


# --- the benchmark -------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.scan_throughput",
        description="mailtls scan over generated domains: domains/min, connections, memory",
    )
    parser.add_argument(
        "--shared-sizes",
        type=_sizes,
        default=(2500, 10_000, 40_000),
        help="list lengths with shared MX hosts, on SQLite (2500,10000,40000)",
    )
    parser.add_argument(
        "--postgres-size",
        type=int,
        default=10_000,
        help="shared-MX list length on PostgreSQL, 0 for none (10000)",
    )
    parser.add_argument(
        "--distinct", type=int, default=1000, help="domains with an address each (1000)"
    )
    parser.add_argument(
        "--distinct-concurrency",
        type=int,
        default=100,
        help="a second distinct run with this --concurrency, 0 for none (100)",
    )
    parser.add_argument(
        "--subset", type=int, default=30, help="domains scanned by mailtls and testssl.sh (30)"
    )
    parser.add_argument("--time-limit", type=float, default=1800.0, help="per run, seconds")
    parser.add_argument("--output", type=Path, help="JSON file (bench/results/...)")
    arguments = parser.parse_args(argv)
    if not arguments.shared_sizes or min(arguments.shared_sizes) < 1:
        parser.error("--shared-sizes needs at least one positive size")
    if not 1 <= arguments.subset <= arguments.distinct:
        parser.error("--subset must be between 1 and --distinct")
    return arguments


def _stop_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop the servers


def _find_testssl() -> str:
    found = shutil.which("testssl.sh") or shutil.which("testssl")
    missing = [
        name
        for name, present in (
            ("testssl.sh", found is not None),
            ("nft (nftables)", shutil.which(NFT) is not None),
            ("GNU time", Path(GNU_TIME).is_file()),
        )
        if not present
    ]
    if missing or found is None:
        sys.exit(f"scan_throughput: {', '.join(missing)} not installed; run bench/setup")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = _parse_arguments(argv)
    testssl = _find_testssl()
    enter_private_network(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    command = shlex.join(["python3", "-m", "bench.scan_throughput", *argv])
    plan = Plan(
        shared_sizes=tuple(sorted(arguments.shared_sizes)),
        postgres_size=arguments.postgres_size,
        distinct=arguments.distinct,
        distinct_concurrency=arguments.distinct_concurrency,
        subset=arguments.subset,
    )
    started_at = datetime.now(UTC)
    load_at_start = load_average()
    # Before the runs: other engineers commit to this checkout meanwhile, and the figures belong
    # to the code the runs started with.
    tools = describe_tools(SSLYZE_PYTHON)
    _say(f"starting the Postfix fleet in {STATE_DIR} (private network namespace)")
    try:
        lease = acquire(STATE_DIR)
    except FleetError as problem:
        _say(f"scan_throughput: the fleet cannot start: {problem}")
        return 1
    try:
        with ExitStack() as stack:
            fleet = lease.fleet
            listener_ips = {listener.posture: listener.ip for listener in fleet.listeners}
            distinct = distinct_domains(plan.distinct)
            served, hosts = zone_hosts(max(plan.shared_sizes), distinct, listener_ips)
            _say(f"serving {len(served)} domains and {len(hosts)} MX hosts with nsd")
            zone = stack.enter_context(serving_zone(WORK_DIR / "nsd", served, hosts))
            stack.enter_context(
                distinct_addresses_routed({p: listener_ips[p] for p in DISTINCT_POSTURES})
            )
            setting = Setting(
                mailtls=mailtls_command(),
                testssl=testssl,
                zone=zone,
                ca_file=fleet.ca_file,
                postfix_log=fleet.postfix_log,
                time_limit=arguments.time_limit,
                work=WORK_DIR,
            )
            runs = measure(setting, plan, distinct)
    except KeyboardInterrupt:
        _say("interrupted: stopping the servers, no results written")
        return 130
    finally:
        lease.release()
    finished_at = datetime.now(UTC)
    load_at_end = load_average()

    labels = dict(LABELS)
    labels["distinct-concurrency"] = LABELS["distinct-concurrency"].format(
        c=plan.distinct_concurrency
    )
    targets = check_targets(runs)
    machine = describe_machine()
    largest = shared_domains(max(plan.shared_sizes))
    document = {
        "benchmark": "scan_throughput",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "isolation": "private network namespace (unshare --net), loopback only, own fleet",
        "machine": machine | {"load_average": {"start": load_at_start, "end": load_at_end}},
        "tools": {k: v for k, v in tools.items() if not k.startswith("sslyze")},
        "plan": asdict(plan),
        "lists": {
            "shared": {str(size): mix_counts(largest[:size]) for size in plan.shared_sizes},
            "shared_mx_hosts": {host.name: host.posture.value for host in SHARED_HOSTS},
            "distinct": {
                "domains": plan.distinct,
                "postures": [p.value for p in DISTINCT_POSTURES],
                "nftables": nat_ruleset({p: listener_ips[p] for p in DISTINCT_POSTURES}),
            },
        },
        "labels": labels,
        "targets": [asdict(t) for t in targets],
        "runs": [
            asdict(run)
            | {
                "domains_per_minute": round(run.domains_per_minute, 1),
                "connections_per_domain": round(run.connections_per_domain, 4),
            }
            for run in runs
        ],
    }
    output = write_results(document, arguments.output, "scan-throughput-", started_at)

    print(f"Command: `{command}`  ")
    print(
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}; load average "
        f"{load_at_start[0]} at start, {load_at_end[0]} at end  "
    )
    print(
        f"Tools: mailtls {tools['mailtls']} ({tools['mailtls_commit']}), testssl.sh "
        f"{tools['testssl.sh']} ({tools['openssl_binary']}), Postfix {tools['postfix']}  "
    )
    print(f"{started_at:%Y-%m-%d %H:%M}–{finished_at:%H:%M} UTC\n")
    print(scan_table(runs, labels))
    print()
    print(subset_table(runs, labels))
    print("\nTargets:\n" + targets_text(targets))
    shown = output.relative_to(REPOSITORY) if output.is_relative_to(REPOSITORY) else output
    print(f"\nRaw figures: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

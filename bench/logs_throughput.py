"""Lines per second and peak memory reading a Postfix log: mailtls logs vs pflogsumm and grep.

Run from the repository root after ``scripts/setup`` and ``bench/setup`` (pflogsumm)::

    python3 -m bench.logs_throughput [--main-lines 5000000] [--repetitions 3]

It generates (once; they are kept in ``bench/.work/logs``) realistic Postfix 3.7 logs of 1, 5 and
10 million lines with ``bench.generate_postfix_log``, reads them once to bring them into the page
cache, and runs every tool on the main log ``--repetitions`` times, round-robin, and once on the
others (memory against file size). Each run's wall time and peak resident memory (the child's
``ru_maxrss``, from ``wait4``) are recorded, and each tool's answer is checked against what the
generator wrote. The Markdown table goes to standard output, progress to standard error, and the
raw figures to ``bench/results/logs-throughput-<date>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.generate_postfix_log import GENERATOR_VERSION, SAMPLE, Truth, ensure_log, unknown_shapes
from bench.logs_report import (
    MAILTLS_IMPACT,
    NEEDS_LOGS_COMMAND,
    VARIANTS,
    Programs,
    Run,
    Variant,
    check_targets,
    markdown_table,
    summarise,
    targets_text,
)
from bench.machine import REPOSITORY, describe_machine, load_average, mailtls_command, write_results
from bench.timing import GNU_TIME, run_under_gnu_time

OUTPUTS = REPOSITORY / "bench" / ".work" / "logs" / "out"
SHAPE_CHECK_LINES = 200_000


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _first_line(argv: Sequence[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else None


def find_programs() -> Programs:
    pflogsumm = shutil.which("pflogsumm")
    grep = shutil.which("grep")
    if pflogsumm is None or grep is None or not Path(GNU_TIME).is_file():
        sys.exit("logs_throughput: pflogsumm or GNU time not installed; run bench/setup")
    return Programs(
        grep=grep, pflogsumm=pflogsumm, mailtls=mailtls_command(), python=sys.executable
    )


def mailtls_logs_available(programs: Programs) -> bool:
    """Whether this mailtls has the logs command at all."""
    try:
        result = subprocess.run(
            [*programs.mailtls, "logs", "--help"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def describe_tools(programs: Programs) -> dict[str, object]:
    dirty = _first_line(
        ["git", "-C", str(REPOSITORY), "status", "--porcelain", "--untracked-files=no"]
    )
    return {
        "mailtls_commit": _first_line(
            ["git", "-C", str(REPOSITORY), "rev-parse", "--short=12", "HEAD"]
        ),
        # Uncommitted changes to tracked files (the figures may then not match any commit).
        "mailtls_worktree_modified": dirty is not None,
        "mailtls": importlib.metadata.version("mailtls"),
        "pflogsumm": _first_line(["dpkg-query", "-W", "-f=${Version}", "pflogsumm"]),
        "perl": _first_line(["perl", "-e", "print $^V"]),
        "grep": _first_line([programs.grep, "--version"]),
    }


# --- one run ---------------------------------------------------------------------------------


def measure(
    argv: Sequence[str], output: Path, time_limit: float
) -> tuple[float, int | None, float | None, int | None]:
    """Run to the end: wall seconds, peak RSS in KiB, processor seconds (user + system), exit
    code (None: killed at the limit)."""
    measured = run_under_gnu_time(
        argv, stdout=output, rusage=output.with_suffix(".rss"), time_limit=time_limit
    )
    return measured.wall_seconds, measured.peak_rss_kib, measured.cpu_seconds, measured.exit_code


def run_variant(
    variant: Variant,
    programs: Programs,
    log: Path,
    truth: Truth,
    *,
    repetition: int,
    time_limit: float,
) -> Run:
    OUTPUTS.mkdir(parents=True, exist_ok=True)
    output = OUTPUTS / f"{variant.key}-{truth.lines}.out"
    argv = variant.build(programs, log, truth)
    wall, peak, cpu, exit_code = measure(argv, output, time_limit)
    verdict = variant.judge(output.read_text(errors="replace"), truth)
    right = verdict.right and exit_code in variant.exit_codes
    detail = (
        verdict.detail if exit_code in variant.exit_codes else f"exit {exit_code}; {verdict.detail}"
    )
    run = Run(
        variant=variant.key,
        lines=truth.lines,
        log_bytes=log.stat().st_size,
        repetition=repetition,
        wall_seconds=round(wall, 3),
        peak_rss_kib=peak or 0,
        exit_code=exit_code,
        right=right,
        detail=detail,
        cpu_seconds=round(cpu, 3) if cpu is not None else None,
    )
    _say(
        f"{truth.lines:>9} lines  {variant.key:<15} {wall:8.2f} s  {cpu or 0:8.2f} s CPU  "
        f"{(peak or 0) / 1024:8.1f} MiB  "
        f"{'right' if right else 'NOT right'}: {detail}"
    )
    return run


def warm(log: Path) -> None:
    """Read the log once: every tool then reads it from the page cache, none from the disk."""
    with log.open("rb") as handle:
        while handle.read(1 << 24):
            pass


# --- the benchmark -----------------------------------------------------------------------------


def _parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.logs_throughput",
        description="mailtls logs vs pflogsumm and grep -c on generated Postfix logs",
    )
    parser.add_argument("--main-lines", type=int, default=5_000_000, help="the compared log")
    parser.add_argument(
        "--other-lines",
        default="1000000,10000000",
        help="more log sizes, one run each, for memory against size ('' for none)",
    )
    parser.add_argument("--repetitions", type=int, default=3, help="runs on the main log (3)")
    parser.add_argument(
        "--other-variants",
        default=",".join(v.key for v in VARIANTS if v.key != MAILTLS_IMPACT),
        help="tools to run on the other sizes (all but mailtls-impact, to save time)",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the generated logs (1)")
    parser.add_argument(
        "--variants",
        default=",".join(v.key for v in VARIANTS),
        help="tools to run (all): " + ", ".join(v.key for v in VARIANTS),
    )
    parser.add_argument("--time-limit", type=float, default=900.0, help="per run, seconds")
    parser.add_argument(
        "--output", type=Path, help="JSON file (bench/results/logs-throughput-<date>.json)"
    )
    arguments = parser.parse_args(argv)
    if arguments.repetitions < 1 or arguments.main_lines < 1:
        parser.error("--repetitions and --main-lines must be at least 1")
    known = {v.key for v in VARIANTS}
    arguments.variants = arguments.variants.split(",")
    arguments.other_variants = arguments.other_variants.split(",")
    if unknown := (set(arguments.variants) | set(arguments.other_variants)) - known:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    try:
        arguments.other_lines = [int(n) for n in arguments.other_lines.split(",") if n]
    except ValueError as problem:
        parser.error(str(problem))
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = _parse_arguments(argv)
    command = shlex.join(["python3", "-m", "bench.logs_throughput", *argv])
    programs = find_programs()
    variants = [v for v in VARIANTS if v.key in arguments.variants]
    skipped: list[str] = []
    wanted = [v.key for v in variants if v.key in NEEDS_LOGS_COMMAND]
    if wanted and not mailtls_logs_available(programs):
        skipped = wanted
        variants = [v for v in variants if v.key not in skipped]
        _say(f"mailtls logs is not available here: {', '.join(skipped)} not measured")

    sizes = sorted({arguments.main_lines, *arguments.other_lines})
    logs: dict[int, tuple[Path, Truth]] = {}
    for size in sizes:
        _say(f"log of {size} lines: generating unless kept from an earlier run")
        started = time.perf_counter()
        logs[size] = ensure_log(size, arguments.seed)
        _say(f"  {logs[size][0]} ({time.perf_counter() - started:.1f} s)")
    main_log, main_truth = logs[arguments.main_lines]
    with main_log.open() as handle:
        strange = unknown_shapes(
            line.rstrip("\n") for _, line in zip(range(SHAPE_CHECK_LINES), handle, strict=False)
        )
    if strange:
        _say(f"the generated log has {len(strange)} line shapes not in {SAMPLE}: not measured")
        return 1

    started_at = datetime.now(UTC)
    load_at_start = load_average()
    runs: list[Run] = []
    try:
        for size in sizes:
            log, truth = logs[size]
            warm(log)
            main = size == arguments.main_lines
            repetitions = arguments.repetitions if main else 1
            chosen = [v for v in variants if main or v.key in arguments.other_variants]
            for repetition in range(repetitions):
                for variant in chosen:
                    runs.append(
                        run_variant(
                            variant,
                            programs,
                            log,
                            truth,
                            repetition=repetition,
                            time_limit=arguments.time_limit,
                        )
                    )
    except KeyboardInterrupt:
        _say("interrupted: no results written")
        return 130
    finished_at = datetime.now(UTC)
    load_at_end = load_average()

    labels = {v.key: v.label for v in VARIANTS}
    summaries = summarise(runs, labels)
    peers = {truth.lines: sum(truth.peers.values()) for _, truth in logs.values()}
    targets = check_targets(summaries, main_truth.lines, peers)
    machine = describe_machine()
    tools = describe_tools(programs)
    document = {
        "benchmark": "logs_throughput",
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "repetitions_on_main_log": arguments.repetitions,
        "not_measured": skipped,
        "machine": machine | {"load_average": {"start": load_at_start, "end": load_at_end}},
        "tools": tools,
        "generator": {"version": GENERATOR_VERSION, "seed": arguments.seed},
        "logs": {
            str(size): {"path": str(path.relative_to(REPOSITORY)), "bytes": path.stat().st_size}
            | asdict(truth)
            for size, (path, truth) in logs.items()
        },
        "labels": labels,
        "commands": {v.key: list(v.build(programs, Path("$LOG"), main_truth)) for v in variants},
        "summary": [asdict(s) for s in summaries],
        "targets": [asdict(t) for t in targets],
        "runs": [asdict(r) for r in runs],
    }
    output = write_results(document, arguments.output, "logs-throughput-", started_at)

    print(f"Command: `{command}`  ")
    print(
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}; load average "
        f"{load_at_start[0]} at start, {load_at_end[0]} at end  "
    )
    print(
        f"Tools: mailtls {tools['mailtls']} ({tools['mailtls_commit']}"
        f"{', modified work tree' if tools['mailtls_worktree_modified'] else ''}), pflogsumm "
        f"{tools['pflogsumm']} (Perl {tools['perl']}), {tools['grep']}  "
    )
    print(
        f"{arguments.repetitions} run(s) per tool on the {arguments.main_lines:,}-line log, one on "
        f"the others; {started_at:%Y-%m-%d %H:%M} UTC\n"
    )
    print(markdown_table(summaries))
    print("\nTargets:\n" + targets_text(targets))
    if skipped:
        print(f"\nNot measured (mailtls logs not available): {', '.join(skipped)}")
    shown = output.relative_to(REPOSITORY) if output.is_relative_to(REPOSITORY) else output
    print(f"\nRaw figures: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

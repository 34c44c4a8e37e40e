"""``mailtls scan`` and the commands that read its store: ``runs`` and ``show``.

Parse, open the store, run, print; decisions live in the engine, the store and the renderers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mailtls import __version__
from mailtls.cli_common import options_from
from mailtls.errors import StoreError, UsageError
from mailtls.models import SCHEMA_VERSION, CheckReport, RunInfo
from mailtls.policy.domain import EXIT_SOFTWARE, exit_code
from mailtls.render.jsonout import dump_json, render_json
from mailtls.render.text import render_text
from mailtls.reports import (
    DiffFormat,
    ReportFormat,
    diff_runs,
    render_diff,
    render_run_text,
    write_report,
)
from mailtls.scan.engine import Scanner, ScanTally
from mailtls.scan.gateway import StoreGateway
from mailtls.scan.listing import ColumnChoice, InputProblem, read_csv_list, read_plain_list
from mailtls.scan.options import ScanOptions, options_from_summary
from mailtls.scan.progress import scan_progress
from mailtls.store import ListedTarget, Store, default_location
from mailtls.store.location import describe
from mailtls.targets import normalise_host_name

EXIT_INTERRUPTED = 130

_PROBLEMS_SHOWN = 20


# --- scan ---------------------------------------------------------------------------------------


def scan_options_from(args: argparse.Namespace) -> ScanOptions:
    defaults = ScanOptions()
    return ScanOptions(
        check=options_from(args),
        politeness=dataclasses.replace(
            defaults.politeness,
            gap_seconds=args.gap,
            connections_per_ip=args.connections_per_ip,
        ),
        domain_workers=args.domain_workers,
        domain_deadline=args.domain_deadline,
    )


def _changed_options(args: argparse.Namespace) -> list[str]:
    """Probe and politeness options given on the command line (not left at their defaults)."""
    parser: argparse.ArgumentParser = args.probe_parser
    names = []
    for action in parser._actions:
        if action.dest in {"list", "db", "resume", "progress", "quiet", "json", "help"}:
            continue
        if action.dest in {"probe_parser", "handler"} or not action.option_strings:
            continue
        if getattr(args, action.dest, None) != action.default:
            names.append(action.option_strings[-1])
    return names


def _open_list(name: str, stack: ExitStack) -> TextIO:
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
    path = Path(name)
    try:
        return stack.enter_context(path.open(encoding="utf-8", errors="replace", newline=""))
    except OSError as error:
        raise UsageError(f"cannot read the list {name}: {error.strerror or error}") from None


def _listed_entries(
    stream: Iterable[str], column: ColumnChoice | None, port: int, problems: list[InputProblem]
) -> Iterator[ListedTarget]:
    entries = (
        read_csv_list(stream, column, default_port=port)
        if column is not None
        else read_plain_list(stream, default_port=port)
    )
    for entry in entries:
        if isinstance(entry, InputProblem):
            problems.append(entry)
        else:
            yield entry


def _column_choice(args: argparse.Namespace) -> ColumnChoice | None:
    if args.column is not None:
        return ColumnChoice.parse(args.column)
    if args.list and args.list.lower().endswith(".csv"):
        return ColumnChoice(name="domain")
    return None


def _progress_mode(args: argparse.Namespace) -> str:
    if args.quiet:
        return "none"
    if args.progress != "auto":
        return str(args.progress)
    return "bar" if sys.stderr.isatty() else "lines"


def run_scan_command(args: argparse.Namespace) -> int:
    location = args.db or default_location()
    if args.resume is not None and args.list is not None:
        raise UsageError("--resume continues a stored list: give no FILE with it")
    if args.resume is None and args.list is None:
        raise UsageError("give the list of domains (a file, or - for standard input)")
    if args.resume is not None and (changed := _changed_options(args)):
        raise UsageError(
            f"a resumed run keeps the options it was started with; drop {', '.join(changed)}"
        )
    if args.list is not None:
        _ensure_folder(location)
    with ExitStack() as stack:
        if args.resume is not None:
            run_id, options = _resume(location, args.resume)
        else:
            options = scan_options_from(args)
            run_id = _create_run(location, args, options, stack)
        return _scan(location, run_id, options, args)


def _ensure_folder(location: str) -> None:
    if "://" in location:
        return
    folder = Path(location).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{location}: cannot create its folder: {error.strerror}") from None


def _create_run(
    location: str, args: argparse.Namespace, options: ScanOptions, stack: ExitStack
) -> int:
    stream = _open_list(args.list, stack)
    problems: list[InputProblem] = []
    with Store(location) as store:
        created = store.create_run(
            label=args.label or ("-" if args.list == "-" else Path(args.list).name),
            started_at=datetime.now(UTC),
            tool_version=__version__,
            options=options.summary(),
            listed=_listed_entries(stream, _column_choice(args), args.port, problems),
        )
    info = created.info
    for problem in problems[:_PROBLEMS_SHOWN]:
        sys.stderr.write(f"mailtls: {args.list}:{problem.line}: skipped: {problem.reason}\n")
    if len(problems) > _PROBLEMS_SHOWN:
        sys.stderr.write(
            f"mailtls: {args.list}: {len(problems) - _PROBLEMS_SHOWN} more lines skipped\n"
        )
    sys.stderr.write(
        f"mailtls: run {info.run_id}: {info.targets} targets from {info.label}"
        f" ({created.duplicates} duplicates, {len(problems)} lines skipped)"
        f" into {describe(location)}\n"
    )
    return info.run_id


def _resume(location: str, run_id: int) -> tuple[int, ScanOptions]:
    with Store(location) as store:
        info = store.reopen_run(run_id)
    sys.stderr.write(
        f"mailtls: resuming run {run_id}: {info.targets - info.completed} of {info.targets} "
        "targets left\n"
    )
    return run_id, options_from_summary(info.options)


def _scan(location: str, run_id: int, options: ScanOptions, args: argparse.Namespace) -> int:
    tally = ScanTally()
    interrupted = False
    try:
        tally = asyncio.run(_scan_async(location, run_id, options, _progress_mode(args)))
    except KeyboardInterrupt:
        interrupted = True
    with Store(location) as store:
        if not interrupted and not tally.failed:
            store.finish_run(run_id, datetime.now(UTC))
        info = store.run(run_id)
        code = store.run_outcome(run_id).exit_code
    resume = f"mailtls scan --resume {run_id}" + (f" --db {args.db}" if args.db else "")
    if tally.failed:
        # A failure inside mailtls for some domains (a bug): their results are missing, and the
        # run stays unfinished so that a resume tries them again.
        sys.stderr.write(
            f"mailtls: {tally.failed} domains could not be checked because of an internal "
            f"error; they are not stored (try again with: {resume}):\n"
        )
        for failure in tally.failures:
            sys.stderr.write(f"  {failure}\n")
    if interrupted:
        sys.stderr.write(
            f"mailtls: interrupted: {info.completed} of {info.targets} results of run {run_id} "
            f"are stored; continue with: {resume}\n"
        )
    _print_summary(info, tally, code, location, args)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_SOFTWARE if tally.failed else code


async def _scan_async(location: str, run_id: int, options: ScanOptions, progress: str) -> ScanTally:
    gateway = StoreGateway(location)
    try:
        await gateway.open()
        with scan_progress(progress) as observer:
            return await Scanner(run_id, gateway, options, observer).run()
    finally:
        gateway.close()


def _print_summary(
    info: RunInfo, tally: ScanTally, code: int, location: str, args: argparse.Namespace
) -> None:
    if args.json:
        document = {
            "run": info.run_id,
            "label": info.label,
            "targets": info.targets,
            "completed": info.completed,
            "finished": info.finished_at is not None,
            "this_invocation": dataclasses.asdict(tally),
            "exit_code": code,
            "database": describe(location),
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    state = "finished" if info.finished_at else "not finished"
    sys.stdout.write(
        f"run {info.run_id} {state}: {info.completed} of {info.targets} targets stored in "
        f"{describe(location)}\n"
        f"  this time: {tally.stored} domains stored, {tally.endpoints_probed} addresses probed "
        f"({tally.connections} connections), {tally.endpoints_reused} reuses of addresses "
        f"already probed, {tally.deadline_hits} domains cut short by their deadline\n"
        f"  see: mailtls show {info.run_id}   mailtls report {info.run_id} --format html\n"
    )


# --- runs and show ------------------------------------------------------------------------------


def run_runs_command(args: argparse.Namespace) -> int:
    with Store(args.db or default_location()) as store:
        infos = store.runs()
    if args.json:
        sys.stdout.write(dump_json(infos) + "\n")
        return 0
    if not infos:
        sys.stdout.write("no runs yet: start one with mailtls scan FILE\n")
        return 0
    sys.stdout.write(f"{'run':>5}  {'started (UTC)':<19}  {'state':<12}  {'done':>15}  list\n")
    for info in infos:
        state = "finished" if info.finished_at else "not finished"
        done = f"{info.completed}/{info.targets}"
        started = info.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        sys.stdout.write(
            f"{info.run_id:>5}  {started:<19}  {state:<12}  {done:>15}  {_printable(info.label)}\n"
        )
    return 0


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def resolve_run(store: Store, text: str) -> int:
    if text == "latest":
        latest = store.latest_run_id()
        if latest is None:
            raise UsageError("the store has no runs yet")
        return latest
    if not text.isdigit():
        raise UsageError(f"not a run number: {text!r} (see mailtls runs)")
    return int(text)


def _color(args: argparse.Namespace, out: TextIO) -> bool:
    return bool(args.color == "always" or (args.color == "auto" and out.isatty()))


def run_show_command(args: argparse.Namespace) -> int:
    domains = [normalise_host_name(name) for name in args.domains] or None
    out = sys.stdout
    with Store(args.db or default_location()) as store:
        run_id = resolve_run(store, args.run)
        info = store.run(run_id)
        if domains is None and not args.json:
            width = shutil.get_terminal_size().columns if out.isatty() else None
            out.write(
                render_run_text(
                    info, store.domain_reports(run_id), color=_color(args, out), width=width
                )
            )
            return store.run_outcome(run_id).exit_code
        reports = tuple(store.domain_reports(run_id, domains))
    if domains:
        missing = sorted(set(domains) - {r.target.name for r in reports})
        if missing:
            raise UsageError(f"run {run_id} has no result for {', '.join(missing)}")
    report = CheckReport(
        schema_version=SCHEMA_VERSION,
        tool_version=info.tool_version,
        generated_at=info.finished_at or info.started_at,
        domains=reports,
        exit_code=exit_code(reports),
        options=info.options,
    )
    if args.json:
        out.write(render_json(report) + "\n")
    else:
        width = shutil.get_terminal_size().columns if out.isatty() else None
        out.write(render_text(report, color=_color(args, out), width=width))
    return report.exit_code


# --- report and diff ----------------------------------------------------------------------------


def run_report_command(args: argparse.Namespace) -> int:
    domains = [normalise_host_name(name) for name in args.domain] or None
    report_format = ReportFormat(args.format)
    with Store(args.db or default_location()) as store:
        run_id = resolve_run(store, args.run)
        info = store.run(run_id)
        reports = store.domain_reports(run_id, domains)
        if args.output is None:
            write_report(info, reports, report_format, sys.stdout)
        else:
            _write_atomically(
                Path(args.output), lambda out: write_report(info, reports, report_format, out)
            )
        return store.run_outcome(run_id).exit_code


def _write_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write next to ``path`` and rename: a failed report never leaves half a file behind."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", delete=False
        ) as temporary:
            try:
                write(typing.cast(TextIO, temporary))
            except BaseException:
                Path(temporary.name).unlink(missing_ok=True)
                raise
        os.replace(temporary.name, path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def run_diff_command(args: argparse.Namespace) -> int:
    with Store(args.db or default_location()) as store:
        old_id = resolve_run(store, args.old)
        new_id = resolve_run(store, args.new)
        old, new = store.run(old_id), store.run(new_id)
        changes = diff_runs(old, store.domain_reports(old_id), new, store.domain_reports(new_id))
    out = sys.stdout
    diff_format = DiffFormat(args.format)
    width = shutil.get_terminal_size().columns if out.isatty() else None
    out.write(render_diff(changes, diff_format, color=_color(args, out), width=width))
    return 1 if changes.needs_attention else 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": run_scan_command,
    "runs": run_runs_command,
    "show": run_show_command,
    "report": run_report_command,
    "diff": run_diff_command,
}

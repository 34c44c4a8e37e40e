"""The ``mailtls`` command line: parse, build, run, render. No decisions are made here.

Output and progress libraries (rich, the schema generator) are imported where they are used:
start-up is most of the time a one-address check takes, and a JSON run needs neither.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mailtls import __version__
from mailtls.cli_common import (
    EXIT_STORE,
    CommandParser,
    add_probe_options,
    options_from,
    whole_count,
)
from mailtls.errors import MailtlsError, StoreError, UsageError
from mailtls.models import CheckReport, LogFormat, Target
from mailtls.policy.domain import EXIT_SOFTWARE, EXIT_USAGE
from mailtls.scanner import CheckOptions, check_targets
from mailtls.targets import parse_target

if TYPE_CHECKING:
    from mailtls.logs.report import LogsReport

EPILOG = """\
exit codes: 0 ok; 1 warnings (certificate problems, TLS 1.0/1.1 still enabled, an address that
could not be tested); 2 critical (an address without STARTTLS or without TLS 1.2 with Exchange
Online's suites, a domain that does not exist); 3 nothing could be tested; 64 usage error.
"""


LOGS_EPILOG = """\
exit codes: 0 sessions found, all with TLS 1.2 or newer; 1 sessions below TLS 1.2 or in
plaintext found; 3 no session found in any input; 64 usage error.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="mailtls",
        description="Can your mail servers exchange mail with Exchange Online and other "
        "providers that enforce modern TLS? What must you fix?",
        epilog="Each command's exit codes are listed in its --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mailtls {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check the STARTTLS/TLS readiness of domains' mail servers",
        description="Check every MX host (every IPv4 and IPv6 address) of each domain, or a "
        "host or address given in brackets: [mx.example.net], [192.0.2.1]:25, "
        "[2001:db8::1]:587.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("targets", nargs="+", metavar="TARGET")
    add_probe_options(check)
    _add_output_options(check)

    demo = commands.add_parser(
        "demo",
        help="start local test servers with different TLS postures and check them (offline)",
    )
    _add_output_options(demo)

    logs = commands.add_parser(
        "logs",
        help="who still uses TLS 1.0/1.1 or plaintext, from Postfix, Exim, Sendmail, OpenSMTPD "
        "or Exchange logs",
        description="Read MTA logs (files, globs, folders of rotated logs, - for standard "
        "input; gzip, bzip2 and xz are read as they are) and list every peer with its sessions "
        "by TLS version.",
        epilog=LOGS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    logs.add_argument("inputs", nargs="+", metavar="LOG")
    logs.add_argument(
        "--format",
        dest="log_format",
        choices=("auto", *(f.value for f in LogFormat)),
        default="auto",
        help="the logs' format (default: recognised from each input's first lines)",
    )
    logs.add_argument(
        "--year",
        type=int,
        help="year of syslog time stamps, which carry none (default: this year)",
    )
    logs.add_argument(
        "--impact",
        choices=("tls12",),
        help="add who breaks (or falls back to plaintext) if TLS 1.2 becomes the minimum",
    )
    logs.add_argument(
        "--jobs",
        type=whole_count,
        metavar="N",
        help="processes that read one large uncompressed Postfix log in parts, with the same "
        "result (default: the processors mailtls may use, at most 8; 1: one pass)",
    )
    logs.add_argument(
        "--save",
        action="store_true",
        help="also keep the report and its peer table in the store (see --db)",
    )
    logs.add_argument(
        "--db",
        metavar="PATH|URL",
        help="the store for --save (default: $MAILTLS_DB, else "
        "~/.local/share/mailtls/mailtls.sqlite)",
    )
    logs_output = logs.add_argument_group("output")
    formats = logs_output.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the JSON report")
    formats.add_argument("--csv", action="store_true", help="print the peer table as CSV")
    logs_output.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour in text"
    )
    logs_output.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show examples of lines that were not understood",
    )

    from mailtls.advise.arguments import register as register_advise
    from mailtls.receiver.arguments import register as register_receive
    from mailtls.scan.arguments import register as register_scan

    register_advise(commands)
    register_scan(commands)
    register_receive(commands)

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of a command's --json output"
    )
    schema.add_argument("document", nargs="?", choices=("check", "logs"), default="check")
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print the JSON report")
    group.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the text report (default: only on a terminal)",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress display on standard error"
    )
    group.add_argument(
        "--no-advice",
        action="store_true",
        help="leave out the fix under each finding in the text report (JSON always has it)",
    )


def _render(report: CheckReport, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        from mailtls.render.jsonout import render_json

        out.write(render_json(report) + "\n")
        return
    from mailtls.render.text import render_text

    color = args.color == "always" or (args.color == "auto" and out.isatty())
    width = shutil.get_terminal_size().columns if out.isatty() else None
    out.write(render_text(report, color=color, width=width, advice=not args.no_advice))


def _run_check(targets: Sequence[Target], options: CheckOptions, args: argparse.Namespace) -> int:
    from mailtls.progress import progress_observer

    with progress_observer(enabled=not args.quiet and sys.stderr.isatty()) as observer:
        report = asyncio.run(check_targets(targets, options, observer))
    _render(report, args, sys.stdout)
    return report.exit_code


def _run_demo(args: argparse.Namespace) -> int:
    from mailtls.demo.run import run_demo

    report, introduction = asyncio.run(run_demo())
    if not args.json:
        sys.stdout.write(introduction)
    _render(report, args, sys.stdout)
    return report.exit_code


def _run_logs(args: argparse.Namespace) -> int:
    from mailtls.logs.analyse import analyse_logs
    from mailtls.logs.parts import default_jobs
    from mailtls.render.logs import render_logs_csv, render_logs_json, render_logs_text

    log_format = None if args.log_format == "auto" else LogFormat(args.log_format)
    jobs = args.jobs if args.jobs is not None else default_jobs()
    report = analyse_logs(
        args.inputs,
        log_format=log_format,
        year=args.year,
        impact=args.impact == "tls12",
        jobs=jobs,
    )
    if args.save:
        _save_logs(report, args.db)
    out = sys.stdout
    if args.json:
        out.write(render_logs_json(report) + "\n")
    elif args.csv:
        out.write(render_logs_csv(report))
    else:
        color = args.color == "always" or (args.color == "auto" and out.isatty())
        width = shutil.get_terminal_size().columns if out.isatty() else None
        out.write(render_logs_text(report, color=color, width=width, verbose=args.verbose))
    return report.exit_code


def _save_logs(report: LogsReport, location: str | None) -> None:
    from mailtls.store import Store, default_location
    from mailtls.store.location import describe

    where = location or default_location()
    if "://" not in where:
        Path(where).expanduser().parent.mkdir(parents=True, exist_ok=True)
    with Store(where) as store:
        analysis = store.save_logs_report(report)
    sys.stderr.write(f"mailtls: saved as log analysis {analysis} in {describe(where)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            from mailtls.schema import check_report_schema, logs_report_schema

            schema = logs_report_schema() if args.document == "logs" else check_report_schema()
            sys.stdout.write(json.dumps(schema, indent=2) + "\n")
            return 0
        if isinstance(getattr(args, "handler", None), str):
            from mailtls.scan.command import HANDLERS  # loads the store: only for its commands

            return HANDLERS[args.handler](args)
        if args.command == "receive":
            from mailtls.receiver.command import run as run_receive  # loads aiosmtpd, the store

            return run_receive(args)
        if args.command == "advise":
            from mailtls.advise.command import run as run_advise  # loads the knowledge

            return run_advise(args)
        if args.command == "demo":
            return _run_demo(args)
        if args.command == "logs":
            return _run_logs(args)
        targets = [parse_target(text, default_port=args.port) for text in args.targets]
        return _run_check(targets, options_from(args), args)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"mailtls: error: {error}\n")
    except StoreError as error:
        parser.exit(EXIT_STORE, f"mailtls: store: {error}\n")
    except MailtlsError as error:  # broken installation (e.g. knowledge data), not the user's fault
        parser.exit(EXIT_SOFTWARE, f"mailtls: internal error: {error}\n")
    except KeyboardInterrupt:
        sys.stderr.write("mailtls: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())

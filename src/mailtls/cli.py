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
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mailtls import __version__
from mailtls.errors import MailtlsError, UsageError
from mailtls.models import CheckReport, LogFormat, Target
from mailtls.net.nameservers import parse_nameserver
from mailtls.policy.domain import EXIT_SOFTWARE, EXIT_USAGE
from mailtls.scanner import CheckOptions, check_targets, default_ehlo_name
from mailtls.targets import parse_target

EPILOG = """\
exit codes: 0 ok; 1 warnings (certificate problems, TLS 1.0/1.1 still enabled, an address that
could not be tested); 2 critical (an address without STARTTLS or without TLS 1.2 with Exchange
Online's suites, a domain that does not exist); 3 nothing could be tested; 64 usage error.
"""


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments; 2 means "critical" to our monitoring users."""

    def error(self, message: str) -> typing.NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


LOGS_EPILOG = """\
exit codes: 0 sessions found, all with TLS 1.2 or newer; 1 sessions below TLS 1.2 or in
plaintext found; 3 no session found in any input; 64 usage error.
"""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1: {text!r}")
    return int(text)


def add_probe_options(parser: argparse.ArgumentParser) -> None:
    """The options every probing command shares (``check`` now, ``scan`` later)."""
    defaults = CheckOptions()
    group = parser.add_argument_group("probing")
    group.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help="DNS resolver to ask (repeatable); default: the system's",
    )
    group.add_argument(
        "--ca-file", type=Path, help="PEM file of trusted roots; default: the system store"
    )
    group.add_argument(
        "--ehlo-name",
        default=None,
        help=f"name to send with EHLO/HELO (default: this host's name, {default_ehlo_name()})",
    )
    group.add_argument(
        "--timeout",
        type=_positive,
        default=defaults.timeout,
        metavar="SECONDS",
        help=f"limit for each network operation (default {defaults.timeout:g})",
    )
    group.add_argument(
        "--greeting-timeout",
        type=_positive,
        default=defaults.greeting_timeout,
        metavar="SECONDS",
        help="how long to wait for the 220 banner; postscreen and greet_pause delay it on "
        f"purpose (default {defaults.greeting_timeout:g})",
    )
    group.add_argument(
        "--deadline",
        type=_positive,
        default=defaults.deadline,
        metavar="SECONDS",
        help=f"limit for all probes of one address (default {defaults.deadline:g})",
    )
    group.add_argument(
        "--port",
        type=_port,
        default=defaults.port,
        help="port for domains and for bracketed targets without one (default 25)",
    )
    family = group.add_mutually_exclusive_group()
    family.add_argument("-4", dest="only_ipv4", action="store_true", help="IPv4 addresses only")
    family.add_argument("-6", dest="only_ipv6", action="store_true", help="IPv6 addresses only")
    group.add_argument(
        "--fast",
        action="store_true",
        help="run an address's probes in parallel (several connections at once per server)",
    )
    group.add_argument(
        "--concurrency",
        type=_count,
        default=defaults.concurrency,
        help=f"addresses probed at the same time (default {defaults.concurrency})",
    )


def options_from(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(
        nameservers=tuple(parse_nameserver(text) for text in args.nameserver),
        ca_file=args.ca_file,
        ehlo_name=args.ehlo_name or default_ehlo_name(),
        timeout=args.timeout,
        greeting_timeout=args.greeting_timeout,
        deadline=args.deadline,
        port=args.port,
        ipv4=not args.only_ipv6,
        ipv6=not args.only_ipv4,
        fast=args.fast,
        concurrency=args.concurrency,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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


def _render(report: CheckReport, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        from mailtls.render.jsonout import render_json

        out.write(render_json(report) + "\n")
        return
    from mailtls.render.text import render_text

    color = args.color == "always" or (args.color == "auto" and out.isatty())
    width = shutil.get_terminal_size().columns if out.isatty() else None
    out.write(render_text(report, color=color, width=width))


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
    from mailtls.render.logs import render_logs_csv, render_logs_json, render_logs_text

    log_format = None if args.log_format == "auto" else LogFormat(args.log_format)
    report = analyse_logs(
        args.inputs, log_format=log_format, year=args.year, impact=args.impact == "tls12"
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            from mailtls.schema import check_report_schema, logs_report_schema

            schema = logs_report_schema() if args.document == "logs" else check_report_schema()
            sys.stdout.write(json.dumps(schema, indent=2) + "\n")
            return 0
        if args.command == "demo":
            return _run_demo(args)
        if args.command == "logs":
            return _run_logs(args)
        targets = [parse_target(text, default_port=args.port) for text in args.targets]
        return _run_check(targets, options_from(args), args)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"mailtls: error: {error}\n")
    except MailtlsError as error:  # broken installation (e.g. knowledge data), not the user's fault
        parser.exit(EXIT_SOFTWARE, f"mailtls: internal error: {error}\n")
    except KeyboardInterrupt:
        sys.stderr.write("mailtls: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""What several commands' argument parsers share: usage errors as exit 64, value checks, and
the probe options of ``check`` and ``scan``."""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path

from mailtls.net.nameservers import parse_nameserver
from mailtls.policy.domain import EXIT_USAGE
from mailtls.scanner import CheckOptions, default_ehlo_name

EXIT_STORE = 74  # sysexits.h EX_IOERR: the result store cannot be read or written


class CommandParser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments; 2 means "critical" to our monitoring users."""

    def error(self, message: str) -> typing.NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def positive(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def not_negative(text: str) -> float:
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def port_number(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def whole_count(text: str) -> int:
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
        type=positive,
        default=defaults.timeout,
        metavar="SECONDS",
        help=f"limit for each network operation (default {defaults.timeout:g})",
    )
    group.add_argument(
        "--greeting-timeout",
        type=positive,
        default=defaults.greeting_timeout,
        metavar="SECONDS",
        help="how long to wait for the 220 banner; postscreen and greet_pause delay it on "
        f"purpose (default {defaults.greeting_timeout:g})",
    )
    group.add_argument(
        "--deadline",
        type=positive,
        default=defaults.deadline,
        metavar="SECONDS",
        help=f"limit for all probes of one address (default {defaults.deadline:g})",
    )
    group.add_argument(
        "--port",
        type=port_number,
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
        type=whole_count,
        default=defaults.concurrency,
        help=f"addresses probed at the same time (default {defaults.concurrency})",
    )
    add_policy_options(group)


def add_policy_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--no-dane",
        dest="dane",
        action="store_false",
        help="skip DANE: no TLSA lookups for the MX hosts",
    )
    group.add_argument(
        "--no-mta-sts",
        dest="mta_sts",
        action="store_false",
        help="skip MTA-STS and TLS-RPT: no _mta-sts/_smtp._tls lookups, no policy fetch",
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
        dane=args.dane,
        mta_sts=args.mta_sts,
    )

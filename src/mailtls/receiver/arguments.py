"""The command-line arguments of ``mailtls receive`` (run the receiver, ``list``, ``show``).

Apart from the command (``mailtls.receiver.command``), which loads aiosmtpd, the store and the
knowledge: the parser is built on every start of mailtls, and ``check`` must not pay for it.
"""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """\
Test what TLS a *sending* mail server negotiates. Run an SMTP server that offers STARTTLS with
TLS 1.0 to 1.3, let your server send a mail to it, and see per session which TLS version and
suite your server used, whether Exchange Online would accept that, and what to change.
Nothing is relayed or delivered: mail is accepted only for the --accept recipients, and only
its size and a few headers are kept. `mailtls receive list` and `mailtls receive show ID`
read the recorded sessions."""

EPILOG = """\
exit codes: 0 ok (the receiver stopped on SIGINT/SIGTERM or after --for-seconds); 64 usage
error (an address that cannot be bound, a certificate that cannot be loaded); 74 the store
cannot be used."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "receive",
        help="run an SMTP server that records the TLS of servers sending to it; list, show",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(receive=True)
    parser.add_argument(
        "action",
        nargs="?",
        choices=("run", "list", "show"),
        default="run",
        help="run the receiver (default), list recorded sessions, or show one",
    )
    parser.add_argument("session", nargs="?", type=int, help="the session id for show")
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        help="the store (default: $MAILTLS_DB, else ~/.local/share/mailtls/mailtls.sqlite)",
    )
    serving = parser.add_argument_group("receiver")
    serving.add_argument(
        "--listen",
        action="append",
        metavar="IP:PORT",
        help="address to listen on, repeatable ([IPv6]:PORT; default 127.0.0.1:2525; "
        "0.0.0.0:25 to receive from the internet)",
    )
    serving.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="DOMAIN|ADDRESS",
        help="recipients mail is accepted for (a domain or one address), repeatable; "
        "every other recipient gets 550, so nothing is ever relayed",
    )
    serving.add_argument(
        "--hostname", default=None, help="name in the greeting and EHLO (default: the host's)"
    )
    serving.add_argument(
        "--policy",
        choices=("observe", "exo"),
        default="observe",
        help="observe: offer TLS 1.0 to 1.3 and every suite (default); exo: offer what Exchange "
        "Online offers (TLS 1.2+ with its suites) to see whether the sender falls back or defers",
    )
    serving.add_argument(
        "--require-tls",
        action="store_true",
        help="answer MAIL before STARTTLS with 530 5.7.0, like a forced-TLS connector",
    )
    serving.add_argument("--cert", metavar="FILE", help="certificate chain (PEM, leaf first)")
    serving.add_argument(
        "--key",
        metavar="FILE",
        help="its private key (PEM); without --cert/--key a self-signed certificate is made",
    )
    serving.add_argument(
        "--json-lines", action="store_true", help="also print each session as a JSON line"
    )
    serving.add_argument(
        "--no-store", action="store_true", help="do not write sessions to the store"
    )
    serving.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        help="look up each client's reverse name with this resolver (off without it)",
    )
    serving.add_argument(
        "--for-seconds", type=float, metavar="SECONDS", help="stop after this long"
    )
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-size", type=int, default=10 * 1024 * 1024, metavar="BYTES")
    limits.add_argument("--max-recipients", type=int, default=20, metavar="N")
    limits.add_argument("--idle-timeout", type=float, default=60.0, metavar="SECONDS")
    limits.add_argument("--session-timeout", type=float, default=600.0, metavar="SECONDS")
    limits.add_argument(
        "--max-per-ip", type=int, default=10, metavar="N", help="open connections per address"
    )
    limits.add_argument(
        "--max-per-ip-per-minute",
        type=int,
        default=60,
        metavar="N",
        help="new connections per address per minute",
    )
    limits.add_argument(
        "--max-connections", type=int, default=500, metavar="N", help="open connections in all"
    )
    reading = parser.add_argument_group("list and show")
    reading.add_argument("--json", action="store_true", help="print JSON")
    reading.add_argument("--client", metavar="IP", help="list: only sessions from this address")
    reading.add_argument("--last", type=int, metavar="N", help="list: only the newest N sessions")

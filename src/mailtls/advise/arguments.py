"""The command-line arguments of ``mailtls advise``.

Apart from the command (``advise.command``), which loads the knowledge and the analysis: the
parser is built on every start of mailtls, and ``check`` must not pay for ``advise``.
"""

from __future__ import annotations

import argparse
from typing import Any

# The kinds of .reg file --emit-reg writes (``advise.regfile`` builds them).
EMIT_KINDS = ("enable-tls12", "disable-tls10-tls11")

DESCRIPTION = """\
Offline advice for a Windows/Exchange host or a Postfix installation, from what built-in
commands print (see the README, "mailtls advise"): which updates, CUs and registry values are
missing for TLS 1.2 with Exchange Online, in which order. With --emit-reg, write a .reg file
that regedit imports instead."""

EPILOG = """\
exit codes: 0 nothing to do; 1 recommended changes; 2 required changes (TLS 1.2 cannot work as
things are; with --emit-reg: the Exchange build cannot run as the file would configure it);
64 usage error or an input that cannot be read (the message names file and line)."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "advise",
        help="what to install or change on a Windows/Exchange host or Postfix, from the "
        "output of built-in commands (offline)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    windows = parser.add_argument_group("Windows and Exchange inputs")
    windows.add_argument(
        "--exchange-build",
        metavar="BUILD",
        help="Exchange build: 15.1.2507.6, 15.01.2507.006, 'Version 15.1 (Build 2507.6)', or a "
        "file holding Get-ExchangeServer / Get-Command ExSetup output",
    )
    windows.add_argument(
        "--windows",
        metavar="CAPTION|BUILD|FILE",
        help="Windows release: a caption ('Windows Server 2012 R2'), a version or build "
        "(6.3.9600, 14393), or a systeminfo output file",
    )
    windows.add_argument(
        "--systeminfo", metavar="FILE", help="output of systeminfo (OS and installed updates)"
    )
    windows.add_argument(
        "--hotfixes",
        metavar="FILE",
        action="append",
        default=[],
        help="installed updates: Get-HotFix | Export-Csv, wmic qfe list [/format:list] or "
        "systeminfo output, recognised from the content (repeatable)",
    )
    windows.add_argument(
        "--registry",
        metavar="FILE",
        action="append",
        default=[],
        help="reg export file of the SCHANNEL, .NETFramework or WinHttp keys; several are "
        "applied in order (repeatable)",
    )
    postfix = parser.add_argument_group("Postfix inputs")
    postfix.add_argument("--postconf", metavar="FILE", help="output of postconf -n, or a main.cf")
    postfix.add_argument(
        "--postfix-version",
        metavar="VERSION|FILE",
        help="output of postconf mail_version, or the version (3.7.11)",
    )
    postfix.add_argument(
        "--openssl-version",
        metavar="TEXT|FILE",
        help="output of openssl version ('OpenSSL 3.0.15 3 Sep 2024')",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the JSON report")
    output.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour in text"
    )
    output.add_argument(
        "--emit-reg",
        choices=EMIT_KINDS,
        metavar="KIND",
        help="write a .reg file instead of advice: enable-tls12 or disable-tls10-tls11 "
        "(needs --output)",
    )
    output.add_argument("--output", metavar="FILE", help="where --emit-reg writes the .reg file")

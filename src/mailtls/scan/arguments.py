"""The command-line arguments of ``scan``, ``runs`` and ``show``.

Kept apart from the commands themselves, which load the store (SQLAlchemy) and the engine:
building the parser must stay cheap for ``mailtls check``'s start-up. Each parser names its
handler in ``mailtls.scan.command.HANDLERS``.
"""

from __future__ import annotations

import argparse
from typing import Any

from mailtls.cli_common import add_probe_options, not_negative, positive, whole_count
from mailtls.probes.politeness import PolitenessSettings
from mailtls.scan.options import ScanOptions

REPORT_EPILOG = """\
exit codes: the run's, as `mailtls check` (0 ok, 1 warnings, 2 critical, 3 nothing tested);
64 usage error; 74 the store cannot be used.
"""

DIFF_EPILOG = """\
exit codes: 0 nothing got worse; 1 a domain got worse or gained a warning or critical
finding; 64 usage error; 74 the store cannot be used.
"""

SCAN_EPILOG = """\
exit codes: 0 every domain ok; 1 warnings; 2 critical findings (as `mailtls check`, over the
whole run); 3 nothing could be tested; 64 usage error; 70 some domains failed inside mailtls
(not stored: --resume RUN retries them); 74 the store cannot be used; 130 interrupted (the
results so far are stored: continue with --resume RUN).
"""


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=None,
        help="SQLite file or postgresql://user@host/db URL (default: $MAILTLS_DB, else "
        "~/.local/share/mailtls/mailtls.sqlite)",
    )


def register(commands: argparse._SubParsersAction[Any]) -> None:
    scan = commands.add_parser(
        "scan",
        help="check a list of domains into the store: resumable, polite, each address once",
        description="Check every domain of a list (one per line, # comments; or a CSV column) "
        "and store the results as they finish. Each IP and port is probed once per run, "
        "however many domains share it. An interrupted run continues with --resume.",
        epilog=SCAN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument(
        "list", nargs="?", metavar="FILE", help="the list of domains; - for standard input"
    )
    add_store_option(scan)
    scan.add_argument(
        "--resume",
        type=whole_count,
        metavar="RUN",
        help="continue an interrupted run with the options it was started with",
    )
    scan.add_argument(
        "--column",
        metavar="NAME|N",
        help="read a CSV file and take the targets from this column (a header name, or a "
        "position from 1 for files without a header); default for *.csv: 'domain'",
    )
    scan.add_argument("--label", help="a name for the run (default: the list's file name)")
    add_probe_options(scan)
    polite = scan.add_argument_group("politeness")
    defaults = PolitenessSettings()
    polite.add_argument(
        "--gap",
        type=not_negative,
        default=defaults.gap_seconds,
        metavar="SECONDS",
        help=f"pause between connections to the same IP (default {defaults.gap_seconds:g})",
    )
    polite.add_argument(
        "--connections-per-ip",
        type=whole_count,
        default=defaults.connections_per_ip,
        metavar="N",
        help=f"connections open at once to one IP (default {defaults.connections_per_ip})",
    )
    polite.add_argument(
        "--domain-workers",
        type=whole_count,
        default=ScanOptions().domain_workers,
        metavar="N",
        help="domains in progress at once (default %(default)s)",
    )
    polite.add_argument(
        "--domain-deadline",
        type=positive,
        metavar="SECONDS",
        help="limit for one domain, DNS and probes (default: --deadline plus twice --timeout)",
    )
    output = scan.add_argument_group("output")
    output.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "none"),
        default="auto",
        help="a bar on a terminal, plain lines every minute for logs (default: bar on a "
        "terminal, else lines)",
    )
    output.add_argument(
        "-q", "--quiet", action="store_true", help="no progress, only problems and the summary"
    )
    output.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    scan.set_defaults(handler="scan", probe_parser=scan)

    runs = commands.add_parser("runs", help="list the runs in the store")
    add_store_option(runs)
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler="runs")

    show = commands.add_parser(
        "show",
        help="a stored run, or one domain of it, as `mailtls check` would print it",
        description="Print a run's results (or one domain's) as `mailtls check` prints them; "
        "--json gives the same document as `mailtls check --json`.",
    )
    show.add_argument("run", metavar="RUN", help="a run number, or 'latest'")
    show.add_argument(
        "domains",
        nargs="*",
        metavar="DOMAIN",
        help="the domains to print in full (default: the run's overview and worst domains)",
    )
    add_store_option(show)
    show.add_argument("--json", action="store_true", help="print the check JSON document")
    show.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour in text"
    )
    show.set_defaults(handler="show")

    report = commands.add_parser(
        "report",
        help="a run's report to hand on: one self-contained HTML file, CSV, JSON or Markdown",
        description="Write a stored run's report: summary charts, a table of every domain "
        "and each finding with its fix (HTML opens offline in any browser).",
        epilog=REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("run", metavar="RUN", help="a run number, or 'latest'")
    add_store_option(report)
    report.add_argument(
        "--format", choices=("html", "csv", "json", "md"), default="html", help="(default html)"
    )
    report.add_argument(
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="only these domains (repeatable), e.g. one customer's",
    )
    report.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here (replaced only once complete); default: standard output",
    )
    report.set_defaults(handler="report")

    diff = commands.add_parser(
        "diff",
        help="what changed between two runs: domains better or worse, new and resolved findings",
        epilog=DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old", metavar="RUN_A", help="the earlier run (a number)")
    diff.add_argument("new", metavar="RUN_B", help="the later run (a number, or 'latest')")
    add_store_option(diff)
    diff.add_argument(
        "--format", choices=("text", "json", "md"), default="text", help="(default text)"
    )
    diff.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour in text"
    )
    diff.set_defaults(handler="diff")

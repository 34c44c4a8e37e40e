"""``python -m mailtls.receiver ARGS``: ``mailtls receive ARGS``, before the CLI has it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mailtls.errors import StoreError, UsageError
from mailtls.receiver.arguments import register

EXIT_USAGE = 64
EXIT_STORE = 74


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailtls")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["receive", *(sys.argv[1:] if argv is None else argv)])
    from mailtls.receiver.command import run  # noqa: PLC0415 (aiosmtpd and the store: only when run)

    try:
        return run(args)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"mailtls: error: {error}\n")
    except StoreError as error:
        parser.exit(EXIT_STORE, f"mailtls: store: {error}\n")


if __name__ == "__main__":
    sys.exit(main())

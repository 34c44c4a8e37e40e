"""The one exception of ``mailtls advise``: an input it cannot use, named with file and line."""

from __future__ import annotations

from mailtls.errors import UsageError


class InputError(UsageError):
    """An input is unreadable, truncated, of another kind, or contradicts another input.

    A ``UsageError``: the command line turns it into exit code 64 and one line on standard
    error, ``FILE:LINE: what is wrong``.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")

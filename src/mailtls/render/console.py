"""The one way every terminal report makes its rich console: into a buffer, never the terminal.

Output does not depend on the environment (``TERM``, ``NO_COLOR``, ``COLUMNS``): the caller
decides colour and width. Server strings are printed as ``Text``, so markup, emoji codes and
highlighting are off: a banner must never be read as rich markup.
"""

from __future__ import annotations

import io
import re

from rich.console import Console

DEFAULT_WIDTH = 100

_STYLE_CODE = re.compile(r"\x1b\[[0-9;]*m")
_TRAILING_BLANKS = re.compile(r"(?:\x1b\[[0-9;]*m| )+$")


def without_trailing_blanks(line: str) -> str:
    """The line without the padding rich leaves at its end, keeping closing style codes."""
    tail = _TRAILING_BLANKS.search(line)
    if tail is None:
        return line
    return line[: tail.start()] + "".join(_STYLE_CODE.findall(tail.group()))


class ReportConsole:
    """A console writing into its own buffer; ``text()`` is what was printed."""

    def __init__(self, *, color: bool, width: int | None) -> None:
        self._buffer = io.StringIO()
        self.console = Console(
            file=self._buffer,
            width=width or DEFAULT_WIDTH,
            height=25,  # with width, keeps rich from asking the terminal for its size
            force_terminal=color,
            force_interactive=False,
            color_system="standard" if color else None,
            no_color=not color,
            markup=False,
            emoji=False,
            highlight=False,
            legacy_windows=False,
        )

    def text(self) -> str:
        """What was printed, each line without trailing blanks, ending in a newline."""
        printed = self._buffer.getvalue()
        return "\n".join(without_trailing_blanks(line) for line in printed.splitlines()) + "\n"

"""Which lines of a run of Postfix log lines the session parser must read, found in one pass.

A busy relay's log is mostly lines the session parser has nothing to do with (qmgr, cleanup,
local delivery), and even its smtpd lines need only a handful of fields. Looking at every line
from Python costs a loop step, two matches and a few slices per line; here the run of lines is
joined into one text and two patterns walk it inside the regular expression engine:

- :data:`SESSION_LINE` finds the lines of the daemons that carry sessions (``smtpd``, ``smtp``,
  ``lmtp`` under a ``postfix*`` syslog name) and takes apart the three messages that make up
  most of them (``connect from``, ``disconnect from``, the TLS summary);
- :func:`unframed_lines` finds the lines that have no syslog frame at all (garbage, a line cut
  short, another format), which the parser counts as unparsed.

Every other line is framed and of another program: ignored, with no Python step of its own. The
frame is :data:`mailtls.logs.syslog.FRAME` after a stamp of
:data:`mailtls.logs.timestamps.STAMP_SHAPE`, so a line is framed here exactly when
:func:`mailtls.logs.syslog.match_syslog` would find a frame in it, but for stamps of the right
shape that name no time ("Feb 30 ..."): those count as framed here, and the parser refuses the
ones it reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailtls.logs.timestamps import STAMP_SHAPE

_FRAME = r"\S+ [\w./-]+(?:\[\d{1,10}\])?: "
_NAME, _ADDRESS = r"[^\s\[\]]+", r"[^\s\[\]]+"  # "name[address]", as postfix.py reads them

# Each line starts after the "\n" that ends the line before (the joined text starts with one and
# ends with one): "\n" as the pattern's first character lets the engine jump from line to line.
#
# A program is a session daemon when its syslog name starts with "postfix" and its last part is
# the daemon's name (see postfix._daemon): matched greedily, it must end where the frame's
# program does, at "[" or ": ". The message is taken whole (a look-ahead, for the messages the
# parser reads in Python) and, for three of them, apart. The patterns of the parts are
# postfix.py's _CONNECT_FROM, _DISCONNECT_FROM and _TLS_SUMMARY, spelled for a joined text
# ("\n" ends a line; no part of a line holds one).
SESSION_LINE = re.compile(
    rf"\n({STAMP_SHAPE})(\S+) (postfix[\w./-]*/(?:smtpd|smtp|lmtp))(?=\[|: )"
    r"(?:\[(\d{1,10})\])?: "
    # Only messages the parser can use or must report as unparsed (postfix._server_line and
    # _client_line read nothing else): NOQUEUE, warnings, "lost connection" and the like are
    # passed over here, and counted as ignored.
    r"(?=(?:dis)?connect from|connect to "
    r"|(?:Anonymous |Untrusted |Trusted |Verified )?TLS connection "
    r"|SSL_accept error|SSL_connect error|\w+: (?:to=<|Cannot start TLS: |client=[^\n]*sasl_))"
    r"(?=([^\n]*))"
    rf"(?:connect from ({_NAME})\[({_ADDRESS})\](?::\d{{1,5}})?(?=\n)"
    rf"|disconnect from {_NAME}\[{_ADDRESS}\](?::\d{{1,5}})?((?: \S+)*)(?=\n)"
    r"|(?:(?:Anonymous|Untrusted|Trusted|Verified) )?TLS connection (established|reused) "
    rf"(from|to) ({_NAME})\[({_ADDRESS})\](?::(\d{{1,5}}))?(?: to \S+)?: "
    r"(\S+) with cipher (\S+) \(\d{1,6}/\d{1,6} bits\)"
    r"|)"
)
# The groups of a SESSION_LINE match, in order (None where that part is not in the line):
# stamp (with the separator after it), host, program, pid, text (the whole message);
# connect: name, address; disconnect: the command counts (" ehlo=1 quit=1", maybe "");
# TLS summary: usage, direction, name, address, port, protocol, cipher.

_UNFRAMED_LINE = re.compile(rf"\n(?!{STAMP_SHAPE}{_FRAME})")


def joined(lines: Sequence[str]) -> tuple[str, list[int]]:
    """The lines as one text, each after a "\\n" and the last followed by one; and the indexes
    of lines that hold a line break themselves (callers that do not split on them), which are
    left empty in the text: they have no frame."""
    text = "\n" + "\n".join(lines) + "\n"
    if text.count("\n") == len(lines) + 1:
        return text, []
    broken = [index for index, line in enumerate(lines) if "\n" in line]
    return "\n" + "\n".join("" if "\n" in line else line for line in lines) + "\n", broken


def unframed_lines(text: str, line_count: int) -> list[int]:
    """The indexes, in order, of the lines of a :func:`joined` text without a syslog frame."""
    found: list[int] = []
    index = at = 0
    for match in _UNFRAMED_LINE.finditer(text):
        start = match.start()
        index += text.count("\n", at, start)
        if index >= line_count:
            break  # the "\n" after the last line begins no line
        at = start
        found.append(index)
    return found

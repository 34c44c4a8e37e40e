"""The lines of a run of Postfix log lines, sorted and taken apart in one pass of one pattern.

A busy relay's log is mostly lines the session parser has nothing to do with (qmgr, cleanup,
local delivery), and even its smtpd lines need only a handful of fields. Looking at every line
from Python costs a loop step, two matches and a few slices per line; here the run of lines is
joined into one text (:func:`joined`) and :data:`LINE` walks it inside the regular expression
engine, one match per line, which is one of three:

- a line of a daemon that carries sessions (``smtpd``, ``smtp``, ``lmtp`` under a ``postfix*``
  syslog name) with a message the parser reads: the frame and the message, and for the three
  messages that make up most of them (``connect from``, ``disconnect from``, the TLS summary)
  their parts;
- any other line with a syslog frame: :data:`OTHER_LINE` is its ``lastindex``, and the parser
  counts it as ignored after one comparison;
- a line without a frame (garbage, a line cut short, another format): ``lastindex`` None, counted
  as unparsed.

The frame is :data:`mailtls.logs.syslog.FRAME` after a stamp of
:data:`mailtls.logs.timestamps.STAMP_SHAPE`, so a line is framed here exactly when
:func:`mailtls.logs.syslog.match_syslog` would find a frame in it, but for stamps of the right
shape that name no time ("Feb 30 ..."): those count as framed here, and the parser refuses the
ones it reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailtls.logs.timestamps import STAMP_SHAPE

_NAME, _ADDRESS = r"[^\s\[\]]+", r"[^\s\[\]]+"  # "name[address]", as postfix.py reads them

# Each line starts after the "\n" that ends the line before (the joined text starts with one and
# ends with one): "\n" as the pattern's first character lets the engine jump from line to line,
# and the empty last alternative makes every line a match, so matches count lines.
#
# A program is a session daemon when its syslog name starts with "postfix" and its last part is
# the daemon's name (see postfix._daemon): matched greedily, it must end where the frame's
# program does, at "[" or ": ". Its message must start as one the parser reads (postfix.py's
# _server_line and _client_line read nothing else: NOQUEUE, warnings, "lost connection" and the
# like go to the next branch, framed lines of no interest). The message is taken whole (a
# look-ahead, for the messages the parser reads in Python) and, for three of them, apart: the
# only reading of those three (the parser calls what does not match here malformed), spelled
# for a joined text ("\n" ends a line; no part of a line holds one).
LINE = re.compile(
    rf"\n(?:({STAMP_SHAPE})(?:"
    r"(\S+ (postfix[\w./-]*/(?:smtpd|smtp|lmtp))(?=\[|: )(?:\[\d{1,10}\])?): "
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
    # Any other program's frame (syslog.FRAME), ending in an empty group.
    r"|\S+ [\w./-]+(?:\[\d{1,10}\])?: ())"
    r"|)"
)
# The groups of a session daemon's line, in order (None where that part is not in the line):
# stamp (with the separator after it), process ("host program[pid]": what keeps a session's
# lines together, one string), program, text (the whole message);
# connect: name, address; disconnect: the command counts (" ehlo=1 quit=1", maybe "");
# TLS summary: usage, direction, name, address, port, protocol, cipher.
OTHER_LINE = LINE.groups  # the lastindex of another program's framed line: its empty group


def joined(lines: Sequence[str]) -> tuple[str, list[int]]:
    """The lines as one text, each after a "\\n" and the last followed by one; and the indexes
    of lines that hold a line break themselves (callers that do not split on them), which are
    left empty in the text: they have no frame."""
    text = "\n" + "\n".join(lines) + "\n"
    if text.count("\n") == len(lines) + 1:
        return text, []
    broken = [index for index, line in enumerate(lines) if "\n" in line]
    return "\n" + "\n".join("" if "\n" in line else line for line in lines) + "\n", broken

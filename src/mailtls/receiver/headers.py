"""The few headers a record keeps, read from the message as it streams past.

:class:`HeaderReader` is fed the DATA lines one at a time and keeps only what it needs: the
header section up to a bound, then nothing. A hostile message (endless headers, one huge header,
no blank line) costs at most ``MAX_HEADER_BYTES`` of memory.
"""

from __future__ import annotations

import contextlib
from email.header import decode_header, make_header

from mailtls.receiver.models import HeaderSummary
from mailtls.receiver.sanitise import clean

MAX_HEADER_BYTES = 64 * 1024  # header section read; the rest is only counted

_WANTED = {
    b"subject": "subject",
    b"from": "from_",
    b"message-id": "message_id",
    b"x-mailer": "x_mailer",
    b"received": "first_received",
}


def _decoded(raw: bytes) -> str | None:
    text = raw.decode("utf-8", errors="replace")
    # RFC 2047 encoded words ("=?utf-8?q?...?=") as the sender's mail client wrote them; a
    # broken one stays as sent.
    with contextlib.suppress(ValueError, LookupError, UnicodeError):
        text = str(make_header(decode_header(text)))
    return clean(text)


class HeaderReader:
    """Collects the wanted headers from DATA lines (with their CRLF, dot-unstuffed or not)."""

    def __init__(self) -> None:
        self._in_headers = True
        self._read = 0
        self._current: bytearray | None = None
        self._found: dict[str, str | None] = {}

    def feed(self, line: bytes) -> None:
        if not self._in_headers:
            return
        self._read += len(line)
        if self._read > MAX_HEADER_BYTES:
            self._finish_header()
            self._in_headers = False
            return
        content = line.rstrip(b"\r\n")
        if not content:
            self._finish_header()
            self._in_headers = False
        elif content[:1] in (b" ", b"\t"):
            if self._current is not None:  # a folded continuation line
                self._current += b" " + content.strip()
        else:
            self._finish_header()
            self._current = bytearray(content)

    def _finish_header(self) -> None:
        if self._current is None:
            return
        name, separator, value = bytes(self._current).partition(b":")
        self._current = None
        if not separator:
            return
        field = _WANTED.get(name.strip().lower())
        if field is not None and field not in self._found:  # the first of each: the topmost
            self._found[field] = _decoded(value.strip())

    def summary(self) -> HeaderSummary:
        self._finish_header()
        return HeaderSummary(**self._found)

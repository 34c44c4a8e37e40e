"""SMTP reply framing (RFC 5321 4.2), as an incremental, sans-I/O parser.

A reply is one or more lines ``CODE-text`` ending with ``CODE text`` (or a bare ``CODE``). Servers
in the wild end lines with bare LF, send 8-bit text, and some hostile ones never end a line or a
reply at all; the limits below turn those into :class:`SmtpProtocolError` instead of unbounded
memory or an endless wait for a terminating line.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailtls.errors import NotSmtpError, SmtpProtocolError
from mailtls.models import SmtpReply

# RFC 5321 4.5.3.1.5 allows 512 octets per reply line; real servers exceed it a little
# (long banners), so leave room while still refusing a megabyte "line".
MAX_LINE_LENGTH = 4096
# EHLO replies carry a line per extension; a few dozen is normal, hundreds means a tarpit.
MAX_REPLY_LINES = 128
MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReplyLimits:
    max_line_length: int = MAX_LINE_LENGTH
    max_reply_lines: int = MAX_REPLY_LINES
    max_reply_bytes: int = MAX_REPLY_BYTES


def _looks_like_reply(start: bytes) -> bool:
    """Whether these first bytes of a line can begin ``NNN``, ``NNN-`` or ``NNN ``."""
    head = start[:4]
    return head[:3].isdigit() if len(head) >= 3 else head.isdigit() or not head


def _parse_line(line: bytes) -> tuple[int, bool, str]:
    """Split one reply line into (code, is_last, text); raise on anything that is not SMTP."""
    if not _looks_like_reply(line) or len(line) < 3:
        raise NotSmtpError(f"not an SMTP reply line: {line[:80]!r}")
    code = int(line[:3])
    if not 200 <= code <= 599:
        raise SmtpProtocolError(f"reply code {code} out of range: {line[:80]!r}")
    separator = line[3:4]
    if separator == b"-":
        is_last = False
    elif separator in (b" ", b""):
        is_last = True
    else:
        raise NotSmtpError(f"bad separator after reply code: {line[:80]!r}")
    text = line[4:].decode("utf-8", errors="replace")
    return code, is_last, text


class ReplyParser:
    """Feed it bytes as they arrive; it returns every reply completed by them."""

    def __init__(self, limits: ReplyLimits | None = None) -> None:
        self._limits = limits or ReplyLimits()
        self._buffer = bytearray()
        self._code: int | None = None
        self._lines: list[str] = []
        self._reply_bytes = 0

    @property
    def pending(self) -> bool:
        """True while a reply has started but not ended, or unparsed bytes wait."""
        return bool(self._buffer) or self._code is not None

    def take_unparsed(self) -> bytes:
        """Hand over bytes received after the last complete reply (e.g. before a TLS upgrade)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def feed(self, data: bytes) -> list[SmtpReply]:
        self._buffer.extend(data)
        replies: list[SmtpReply] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if replies:
                    # Judge the rest next time: after "220 go ahead" to STARTTLS it is TLS,
                    # which the caller takes over with take_unparsed() instead.
                    return replies
                if not _looks_like_reply(bytes(self._buffer[:4])):
                    # Say so now rather than after a long wait for a line end that may never come.
                    raise NotSmtpError(f"not an SMTP reply line: {bytes(self._buffer[:80])!r}")
                if len(self._buffer) > self._limits.max_line_length:
                    raise SmtpProtocolError(
                        f"reply line longer than {self._limits.max_line_length} bytes"
                    )
                return replies
            if end > self._limits.max_line_length:
                raise SmtpProtocolError(
                    f"reply line longer than {self._limits.max_line_length} bytes"
                )
            raw = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            reply = self._add_line(raw, end + 1)
            if reply is not None:
                replies.append(reply)

    def _add_line(self, raw: bytes, size: int) -> SmtpReply | None:
        code, is_last, text = _parse_line(raw)
        if self._code is not None and code != self._code:
            raise SmtpProtocolError(f"reply code changed from {self._code} to {code} mid-reply")
        self._code = code
        self._lines.append(text)
        self._reply_bytes += size
        if len(self._lines) > self._limits.max_reply_lines:
            raise SmtpProtocolError(f"reply longer than {self._limits.max_reply_lines} lines")
        if self._reply_bytes > self._limits.max_reply_bytes:
            raise SmtpProtocolError(f"reply larger than {self._limits.max_reply_bytes} bytes")
        if not is_last:
            return None
        reply = SmtpReply(code=code, lines=tuple(self._lines))
        self._code = None
        self._lines = []
        self._reply_bytes = 0
        return reply


def ehlo_keywords(reply: SmtpReply) -> tuple[str, ...]:
    """The extension keywords of a 250 EHLO reply, upper-case; the first line is the greeting."""
    keywords = []
    for line in reply.lines[1:]:
        word = line.strip().split(" ", 1)[0].upper()
        if word:
            keywords.append(word)
    return tuple(keywords)

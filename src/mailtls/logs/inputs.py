"""Lines out of what the user names: files, globs, folders, rotated sets, standard input.

Everything between a name on the command line and a line of text for a parser happens here, in
memory that does not grow with the size of a file:

- :func:`expand_sources` turns names into :class:`Source` values: ``-`` is standard input, a
  folder stands for the files in it, a glob pattern is expanded here too (for shells that do
  not, and for quoted patterns). Files of one rotated set (``mail.log``, ``mail.log.1``,
  ``mail.log.2.gz``, or ``mail.log-20250101``) are put oldest first, wherever they came from, so
  that time runs forward for parsers that follow sessions across lines and for the year guesser.
  The same file named twice is read once.
- :class:`LineReader` reads one source: gzip, bzip2 and xz recognised by their magic bytes (not
  by the file name) and decompressed as a stream; UTF-8 by default (undecodable bytes replaced),
  UTF-16 and UTF-8 recognised by their byte order mark; LF and CRLF line ends. A line longer than
  :data:`MAX_LINE_CHARS` is cut there and reported as too long, and the rest of it is skipped
  chunk by chunk, never held whole.

Failure is data: a missing or unreadable file, a folder, a truncated or corrupt compressed
file become :class:`InputProblem` records, the lines read before the fault are kept, and the
caller goes on with the next source. Nothing here raises for what a file contains.

:class:`LineSplitter` is the pure part (decoded text in, capped lines out); the reader is the
I/O around it.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import glob
import gzip
import io
import lzma
import os
import re
import sys
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

MAX_LINE_CHARS = 64 * 1024  # longer lines are cut here: no log line we parse comes close
CHUNK_BYTES = 64 * 1024  # read (and decompress) this much at a time: faster than larger pieces

STDIN_NAME = "-"  # the name that means standard input on the command line
STDIN_DISPLAY = "<stdin>"  # how standard input is named in origins and problems

# --- values ---------------------------------------------------------------------------------


class InputProblemKind(StrEnum):
    NOT_FOUND = "not_found"  # no file or folder of that name
    NO_MATCH = "no_match"  # a glob pattern that matched nothing
    EMPTY_FOLDER = "empty_folder"  # a folder with no file in it
    FOLDER = "folder"  # a folder where a file was expected
    UNREADABLE = "unreadable"  # permission denied, I/O error
    UNSUPPORTED_COMPRESSION = "unsupported_compression"  # zstd, lz4, zip, ...
    TRUNCATED = "truncated"  # compressed data that ends before its end marker
    CORRUPT = "corrupt"  # compressed data that cannot be decompressed


@dataclass(frozen=True)
class InputProblem:
    """Why (part of) an input could not be read. ``line_number``: the last line read whole
    before the problem (0: none)."""

    source: str
    line_number: int
    message: str
    kind: InputProblemKind

    def __str__(self) -> str:
        where = f"{self.source}:{self.line_number}" if self.line_number else self.source
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Source:
    """One input: a file (``path``) or standard input (``path`` None)."""

    name: str  # as the user (or the glob, or the folder listing) spelled it; "<stdin>"
    path: Path | None

    @property
    def is_stdin(self) -> bool:
        return self.path is None


STDIN = Source(STDIN_DISPLAY, None)


class SourceList(NamedTuple):
    """What :func:`expand_sources` found: sources in reading order, and names it could not use."""

    sources: tuple[Source, ...]
    problems: tuple[InputProblem, ...]


class Line(NamedTuple):
    """One line, without its line end. ``too_long``: cut at the limit (the rest was skipped).

    A tuple rather than a dataclass: one is made for every line of a log of millions.
    """

    text: str
    number: int  # 1-based, within its source
    origin: str  # "name:number", for examples and reports
    too_long: bool


@dataclass(frozen=True)
class LineBatch:
    """Consecutive lines of one source, as one chunk of input yielded them.

    For callers that count millions of lines and want no object per line; numbers run on from
    ``first_number``.
    """

    first_number: int
    texts: tuple[str, ...]
    too_long: frozenset[int]  # numbers of the lines that were cut
    # The same lines as one text, each ended by "\n", when the input held them so (None when a
    # line was cut or a piece dropped): parsers that match across lines need not join them.
    block: str | None = None

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.texts) - 1


_NOT_CUT: frozenset[int] = frozenset()

# --- naming and ordering the sources (pure but for the file system look-ups) ---------------------

_COMPRESSION_SUFFIX = re.compile(r"\.(?:gz|bz2|xz|lzma|zst|Z|lz4)$")
# mail.log-20250101, mail.log-2025-01-01, mail.log.20250101 (logrotate's dateext and dateformat)
_DATED = re.compile(r"^(?P<base>.+?)[.-](?P<stamp>\d{8,14}|\d{4}-\d\d-\d\d(?:[-_]\d{1,6})?)$")
# mail.log.1, maillog.0 (BSD newsyslog): a higher number is older
_NUMBERED = re.compile(r"^(?P<base>.+)\.(?P<number>\d{1,7})$")

# Rank within a rotated set: dated files first (oldest date first), then numbered ones (highest
# number first), then the live file. Sets mixing both styles are rare; their order is a guess.
_DATED_RANK, _NUMBERED_RANK, _LIVE_RANK = 0, 1, 2


def rotation_key(file_name: str) -> tuple[str, tuple[int, int | str]]:
    """(the name of the rotated set, the file's place in it: smaller is older)."""
    name = _COMPRESSION_SUFFIX.sub("", file_name)
    dated = _DATED.match(name)
    if dated:
        digits = re.sub(r"\D", "", dated.group("stamp"))
        return dated.group("base"), (_DATED_RANK, digits)
    numbered = _NUMBERED.match(name)
    if numbered:
        return numbered.group("base"), (_NUMBERED_RANK, -int(numbered.group("number")))
    return name, (_LIVE_RANK, 0)


_GLOB_CHARACTERS = re.compile(r"[*?[]")


def _has_magic(name: str) -> bool:
    return _GLOB_CHARACTERS.search(name) is not None


def _identity(path: Path) -> tuple[int, int] | str:
    """The same file under two names (./x and x, a symlink, a hard link) is read once."""
    try:
        status = path.stat()
    except OSError:
        return os.path.realpath(path)
    return status.st_dev, status.st_ino


def _folder_files(name: str) -> list[str]:
    """The files directly in a folder (not its subfolders, not hidden files), by name."""
    with os.scandir(name) as entries:
        return sorted(
            os.path.join(name, entry.name)
            for entry in entries
            if not entry.name.startswith(".") and entry.is_file()
        )


def _problem(source: str, kind: InputProblemKind, message: str, line: int = 0) -> InputProblem:
    return InputProblem(source=source, line_number=line, message=message, kind=kind)


def _expand_one(name: str, problems: list[InputProblem]) -> list[str]:
    """The file names one command-line name stands for; what is wrong goes to ``problems``."""
    if os.path.isdir(name):
        try:
            files = _folder_files(name)
        except OSError as error:
            problems.append(_problem(name, InputProblemKind.UNREADABLE, _os_message(error)))
            return []
        if not files:
            problems.append(_problem(name, InputProblemKind.EMPTY_FOLDER, "no file in folder"))
        return files
    if os.path.lexists(name):
        return [name]  # taken literally even if it looks like a pattern ("log[1]")
    if not _has_magic(name):
        problems.append(_problem(name, InputProblemKind.NOT_FOUND, "no such file or folder"))
        return []
    matches = sorted(glob.glob(name))
    if not matches:
        problems.append(_problem(name, InputProblemKind.NO_MATCH, "no file matches the pattern"))
    files = []
    for match in matches:
        if os.path.isdir(match):
            # Not read: a pattern like /var/log/* would otherwise pull in every folder below.
            problems.append(
                _problem(
                    match,
                    InputProblemKind.FOLDER,
                    f"a folder, matched by {name!r}: name it on its own to read the files in it",
                )
            )
        else:
            files.append(match)
    return files


def expand_sources(names: Sequence[str]) -> SourceList:
    """The sources the names stand for, in reading order, without duplicates.

    Names are read in the order given, except that the files of one rotated set (same folder,
    same name once the rotation suffix is taken off) are read oldest first, at the place of the
    first of them: a shell expands ``mail.log*`` alphabetically, which is newest first.
    """
    problems: list[InputProblem] = []
    found: list[Source] = []
    seen: set[tuple[int, int] | str] = set()
    for name in names:
        if name == STDIN_NAME:
            if "stdin" not in seen:
                seen.add("stdin")
                found.append(STDIN)
            continue
        for file_name in _expand_one(name, problems):
            path = Path(file_name)
            identity = _identity(path)
            if identity not in seen:
                seen.add(identity)
                found.append(Source(file_name, path))
    return SourceList(_oldest_first(found), tuple(problems))


def _oldest_first(sources: list[Source]) -> tuple[Source, ...]:
    def rotated_set(source: Source) -> tuple[str, str]:
        if source.path is None:
            return ("", STDIN_DISPLAY)
        folder = os.path.realpath(source.path.parent)
        return (folder, rotation_key(source.path.name)[0])

    first_place: dict[tuple[str, str], int] = {}
    for place, source in enumerate(sources):
        first_place.setdefault(rotated_set(source), place)

    def order(source: Source) -> tuple[int, tuple[int, int | str]]:
        age = (_LIVE_RANK, 0) if source.path is None else rotation_key(source.path.name)[1]
        return first_place[rotated_set(source)], age

    return tuple(sorted(sources, key=order))


# --- splitting decoded text into lines (pure) -------------------------------------------------


class LineSplitter:
    """Decoded text in, in pieces of any size; whole lines out, none longer than ``max_chars``.

    Lines end at LF; a CR before the LF is dropped, a CR elsewhere is kept. NUL characters are
    dropped: they are never part of a log line, but a log that was truncated in place while its
    writer kept its offset (logrotate's copytruncate) starts with a run of them. A line longer
    than ``max_chars`` is cut there, reported once as cut, and the rest of it is dropped as it
    arrives, so memory stays within one piece of input plus ``max_chars``.
    """

    def __init__(self, max_chars: int = MAX_LINE_CHARS) -> None:
        if max_chars < 1:
            raise ValueError("max_chars must be at least 1")
        self._max = max_chars
        self._carry = ""  # the unfinished last line, at most max_chars long
        self._skipping = False  # inside a line already reported as cut: drop until its end

    def feed(self, text: str) -> tuple[list[str], list[int]]:
        """The lines that ``text`` completes, and the indexes (in that list) of cut ones."""
        lines, cut, _ = self.feed_block(text)
        return lines, cut

    def feed_block(self, text: str) -> tuple[list[str], list[int], str | None]:
        """:meth:`feed`, and the same lines as one text, each ended by "\\n", where that is a
        slice of what came in (nothing cut or dropped): for parsers that match across lines."""
        if "\x00" in text:
            text = text.replace("\x00", "")
        # The unfinished line goes in front (it is at most max_chars long), so a CR at the end of
        # one piece and its LF at the start of the next are one line end, as in one piece.
        text, self._carry = self._carry + text, ""
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        rest = lines.pop()  # after the last LF: the start of a line still unfinished
        cut: list[int] = []
        whole = not self._skipping
        if lines:
            if self._skipping:
                del lines[0]  # the end of the line that was cut
                self._skipping = False
            if lines and max(map(len, lines)) > self._max:
                for index, line in enumerate(lines):
                    if len(line) > self._max:
                        lines[index] = line[: self._max]
                        cut.append(index)
        end = len(text) - len(rest)  # the complete lines' text: text[:end]
        if self._skipping:
            return lines, cut, None
        # A CR at the very end may be half of a CRLF the next piece completes: not text yet.
        if len(rest) > self._max + rest.endswith("\r"):
            cut.append(len(lines))
            lines.append(rest[: self._max])
            rest = ""
            self._skipping = True
        self._carry = rest
        return lines, cut, text[:end] if whole and lines and not cut else None

    def finish(self) -> str | None:
        """The last line, if the input did not end with a line end."""
        carry, self._carry = self._carry, ""
        if self._skipping or not carry:
            return None
        return carry[:-1] if carry.endswith("\r") else carry


# --- reading one source -----------------------------------------------------------------------


class _ByteStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _gzip(stream: io.BufferedReader) -> io.BufferedIOBase:
    return gzip.GzipFile(fileobj=stream, mode="rb")


def _bzip2(stream: io.BufferedReader) -> io.BufferedIOBase:
    return bz2.BZ2File(stream, mode="rb")


def _xz(stream: io.BufferedReader) -> io.BufferedIOBase:
    return lzma.LZMAFile(stream, mode="rb")


@dataclass(frozen=True)
class _Compression:
    name: str
    magic: re.Pattern[bytes]
    # None: recognised (to say so), but not readable with Python's standard library
    open: Callable[[io.BufferedReader], io.BufferedIOBase] | None


_MAGIC_BYTES = 6
_COMPRESSIONS = (
    _Compression("gzip", re.compile(rb"\x1f\x8b"), _gzip),
    _Compression("bzip2", re.compile(rb"BZh[1-9]"), _bzip2),
    _Compression("xz", re.compile(rb"\xfd7zXZ\x00"), _xz),
    _Compression("zstd", re.compile(rb"\x28\xb5\x2f\xfd"), None),
    _Compression("lz4", re.compile(rb"\x04\x22\x4d\x18"), None),
    _Compression("compress (.Z)", re.compile(rb"\x1f\x9d"), None),
    _Compression("zip", re.compile(rb"PK\x03\x04"), None),
    _Compression("7-Zip", re.compile(rb"7z\xbc\xaf\x27\x1c"), None),
)


def _compression_of(head: bytes) -> _Compression | None:
    return next((c for c in _COMPRESSIONS if c.magic.match(head)), None)


def encoding_of(head: bytes) -> tuple[str, int]:
    """The text encoding the first bytes show, and the length of its byte order mark.

    Exchange and Windows tools may write UTF-16 (with a mark; without one, ASCII text in UTF-16
    still shows as every other byte NUL). Everything else is read as UTF-8.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", len(codecs.BOM_UTF16_LE)
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", len(codecs.BOM_UTF16_BE)
    if len(head) >= 4 and head[0] and head[2] and not head[1] and not head[3]:
        return "utf-16-le", 0
    if len(head) >= 4 and head[1] and head[3] and not head[0] and not head[2]:
        return "utf-16-be", 0
    return "utf-8", 0


def _read_at_least(stream: _ByteStream, size: int) -> bytes:
    """``size`` bytes, or fewer at the end of the stream (a pipe may deliver them in pieces)."""
    head = b""
    while len(head) < size:
        piece = stream.read(size - len(head))
        if not piece:
            break
        head += piece
    return head


class _Rejoined(io.RawIOBase):
    """The bytes already read to recognise a format, then the rest of the stream, as one."""

    def __init__(self, head: bytes, rest: _ByteStream) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(target), len(self._head))
            target[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(target))
        target[: len(data)] = data
        return len(data)


def _reader_of(stream: _ByteStream) -> Callable[[int], bytes]:
    """A read that returns what is there (up to the size) without waiting for more: a log piped
    in from ``tail -f`` is read as it comes."""
    if isinstance(stream, io.BufferedIOBase):
        return stream.read1
    return stream.read


def _os_message(error: OSError) -> str:
    return error.strerror or str(error)


def _open_failure(error: OSError) -> tuple[InputProblemKind, str]:
    if isinstance(error, FileNotFoundError):
        return InputProblemKind.NOT_FOUND, "no such file"
    if isinstance(error, IsADirectoryError):
        return InputProblemKind.FOLDER, "a folder, not a file"
    return InputProblemKind.UNREADABLE, f"cannot open: {_os_message(error)}"


class _Stop(Exception):
    """Reading this source ends here, with a problem recorded."""


class LineReader:
    """The lines of one source, read once; what went wrong is in :attr:`problems` afterwards.

    Iterate for :class:`Line` values, or call :meth:`batches` for the same lines a chunk at a
    time. ``stdin`` replaces the process's standard input (a binary stream) for the
    standard-input source.
    """

    def __init__(
        self,
        source: Source,
        *,
        stdin: BinaryIO | None = None,
        max_line_chars: int = MAX_LINE_CHARS,
        chunk_bytes: int = CHUNK_BYTES,
        byte_range: tuple[int, int] | None = None,
    ) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be at least 1")
        if byte_range is not None and (source.path is None or byte_range[0] < 0):
            raise ValueError("a byte range is read from a file, from a position in it")
        self.source = source
        # Only these bytes of an uncompressed UTF-8 file, from the start of a line (the caller
        # knows the file is such): for reading one file in parts, see mailtls.logs.parts.
        self._byte_range = byte_range
        self._stdin = stdin
        self._splitter = LineSplitter(max_line_chars)
        self._chunk_bytes = chunk_bytes
        self._problems: list[InputProblem] = []
        self._started = False
        self.lines_read = 0  # lines delivered so far, cut ones included
        self.too_long_lines = 0
        self.compression: str | None = None  # known once reading has started
        self.encoding: str | None = None
        self.byte_order_mark = 0  # its length in bytes, known once reading has started

    @property
    def problems(self) -> tuple[InputProblem, ...]:
        return tuple(self._problems)

    def __iter__(self) -> Iterator[Line]:
        name = self.source.name
        # tuple.__new__ is what Line(...) ends in, without the Python-level __new__ of a named
        # tuple on the way: half the cost of a line here, on logs of millions of lines.
        make = tuple.__new__
        for batch in self.batches():
            number = batch.first_number
            cut = batch.too_long
            for text in batch.texts:
                yield make(Line, (text, number, f"{name}:{number}", number in cut))
                number += 1

    def batches(self) -> Generator[LineBatch, None, None]:
        """The lines, one batch per chunk of input that completed any."""
        if self._started:
            raise RuntimeError(f"{self.source.name} is being read or has been read already")
        self._started = True
        if self.source.path is None:
            stream = self._stdin if self._stdin is not None else sys.stdin.buffer
            with contextlib.suppress(_Stop):
                yield from self._read(stream)
            return  # standard input stays open: it is not ours to close
        try:
            opened = open(self.source.path, "rb", buffering=0)  # noqa: SIM115
        except OSError as error:
            kind, message = _open_failure(error)
            self._problems.append(_problem(self.source.name, kind, message))
            return
        with opened, contextlib.suppress(_Stop):
            if self._byte_range is None:
                yield from self._read(opened)
            else:
                yield from self._read_range(opened, *self._byte_range)

    def _fail(self, kind: InputProblemKind, message: str) -> _Stop:
        self._problems.append(_problem(self.source.name, kind, message, self.lines_read))
        return _Stop()

    def _read(self, raw: _ByteStream) -> Iterator[LineBatch]:
        head = self._guarded(lambda: _read_at_least(raw, _MAGIC_BYTES))
        compression = _compression_of(head)
        stream: _ByteStream = raw
        if compression is not None:
            self.compression = compression.name
            if compression.open is None:
                raise self._fail(
                    InputProblemKind.UNSUPPORTED_COMPRESSION,
                    f"compressed with {compression.name}, which mailtls cannot read: "
                    "decompress it and pipe it in (-)",
                )
            stream = compression.open(io.BufferedReader(_Rejoined(head, raw)))
            head = b""
        read = _reader_of(stream)
        size = self._chunk_bytes
        # Enough decoded bytes to see a byte order mark (or UTF-16 without one).
        while len(head) < 4 and (piece := self._guarded(lambda: read(size))):
            head += piece
        self.encoding, self.byte_order_mark = encoding_of(head)
        yield from self._decoded(head[self.byte_order_mark :], read)

    def _read_range(self, raw: io.FileIO, start: int, end: int) -> Iterator[LineBatch]:
        self.encoding = "utf-8"

        def seek() -> bytes:
            raw.seek(start)
            return b""

        self._guarded(seek)
        left = end - start

        def read(size: int) -> bytes:
            nonlocal left
            piece = raw.read(min(size, left)) if left > 0 else b""
            left -= len(piece or b"")
            return piece or b""

        yield from self._decoded(self._guarded(lambda: read(self._chunk_bytes)), read)

    def _decoded(self, chunk: bytes, read: Callable[[int], bytes]) -> Iterator[LineBatch]:
        """The lines of ``chunk`` and of what ``read`` gives after it, in batches."""
        assert self.encoding is not None
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        size = self._chunk_bytes
        while chunk:
            batch = self._batch(*self._splitter.feed_block(decoder.decode(chunk)))
            if batch is not None:
                yield batch
            chunk = self._guarded(lambda: read(size))
        lines, cut = self._splitter.feed(decoder.decode(b"", final=True))
        last = self._splitter.finish()
        if last is not None:
            lines.append(last)
        batch = self._batch(lines, cut)
        if batch is not None:
            yield batch

    def _batch(
        self, lines: list[str], cut: list[int], block: str | None = None
    ) -> LineBatch | None:
        if not lines:
            return None
        first = self.lines_read + 1
        self.lines_read += len(lines)
        if not cut:
            return LineBatch(first, tuple(lines), _NOT_CUT, block)
        self.too_long_lines += len(cut)
        return LineBatch(first, tuple(lines), frozenset(first + index for index in cut))

    def _guarded(self, read: Callable[[], bytes]) -> bytes:
        """One read; a fault of the file or of its compressed data ends this source."""
        try:
            return read()
        except EOFError as error:
            raise self._fail(
                InputProblemKind.TRUNCATED,
                f"the {self.compression or 'compressed'} data ends early (a truncated file?): "
                f"{error}",
            ) from error
        except (zlib.error, lzma.LZMAError) as error:
            raise self._fail(
                InputProblemKind.CORRUPT, f"corrupt {self.compression} data: {error}"
            ) from error
        except OSError as error:
            # gzip's and bzip2's complaints about their data are OSErrors without an errno.
            if self.compression is not None and error.errno is None:
                raise self._fail(
                    InputProblemKind.CORRUPT, f"corrupt {self.compression} data: {error}"
                ) from error
            raise self._fail(
                InputProblemKind.UNREADABLE, f"read error: {_os_message(error)}"
            ) from error

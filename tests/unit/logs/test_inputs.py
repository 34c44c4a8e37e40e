"""Reading logs: real files in every compression and encoding, broken ones, and standard input."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtls.logs.inputs import (
    CHUNK_BYTES,
    MAX_LINE_CHARS,
    STDIN,
    InputProblem,
    InputProblemKind,
    Line,
    LineReader,
    LineSplitter,
    Source,
    encoding_of,
    expand_sources,
    rotation_key,
)

SAMPLE = [
    "Nov 28 08:33:37 mx postfix/smtpd[13274]: connect from unknown[192.0.2.1]",
    "Nov 28 08:33:37 mx postfix/smtpd[13274]: Anonymous TLS connection established from "
    "unknown[192.0.2.1]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
    "Nov 28 08:33:38 mx postfix/smtpd[13274]: disconnect from unknown[192.0.2.1] ehlo=1 "
    "starttls=1 quit=1 commands=3",
]
SAMPLE_TEXT = "".join(line + "\n" for line in SAMPLE)

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "plain": lambda data: data,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


def source(path: Path) -> Source:
    return Source(str(path), path)


def read(
    path: Path, *, max_line_chars: int = MAX_LINE_CHARS, chunk_bytes: int = CHUNK_BYTES
) -> tuple[list[Line], LineReader]:
    reader = LineReader(source(path), max_line_chars=max_line_chars, chunk_bytes=chunk_bytes)
    return list(reader), reader


def texts(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> list[str]:
    lines, reader = read(path, chunk_bytes=chunk_bytes)
    assert reader.problems == ()
    return [line.text for line in lines]


def many_lines(count: int) -> list[str]:
    return [f"{SAMPLE[1]} #{number}" for number in range(count)]


# --- plain and compressed files -------------------------------------------------------------


def test_plain_file_lines_numbers_and_origins(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(SAMPLE_TEXT)
    lines, reader = read(log)
    assert [line.text for line in lines] == SAMPLE
    assert [line.number for line in lines] == [1, 2, 3]
    assert lines[2].origin == f"{log}:3"
    assert not any(line.too_long for line in lines)
    assert (reader.lines_read, reader.problems, reader.encoding) == (3, (), "utf-8")


@pytest.mark.parametrize("compression", ["gzip", "bzip2", "xz"])
def test_compressed_files_are_recognised_by_their_bytes_not_their_name(
    tmp_path: Path, compression: str
) -> None:
    log = tmp_path / "mail.log"  # no .gz/.bz2/.xz suffix
    log.write_bytes(COMPRESSORS[compression](SAMPLE_TEXT.encode()))
    lines, reader = read(log)
    assert [line.text for line in lines] == SAMPLE
    assert reader.compression == compression
    assert reader.problems == ()


def test_a_plain_file_named_like_a_compressed_one_is_read_as_text(tmp_path: Path) -> None:
    log = tmp_path / "mail.log.1.gz"
    log.write_text(SAMPLE_TEXT)
    assert texts(log) == SAMPLE


def test_concatenated_gzip_members_are_read_to_the_end(tmp_path: Path) -> None:
    log = tmp_path / "mail.log.gz"
    log.write_bytes(gzip.compress(b"first\n") + gzip.compress(b"second\n"))
    assert texts(log) == ["first", "second"]


def test_a_file_without_a_final_line_end_and_empty_lines(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"one\n\nthree")
    assert texts(log) == ["one", "", "three"]


def test_an_empty_file_has_no_lines_and_no_problem(tmp_path: Path) -> None:
    log = tmp_path / "empty.log"
    log.write_bytes(b"")
    assert read(log)[0] == []
    log.write_bytes(gzip.compress(b""))
    assert read(log)[0] == []


# --- line ends, encodings, odd bytes -------------------------------------------------------------


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64 * 1024])
def test_crlf_line_ends_even_when_cr_and_lf_arrive_apart(tmp_path: Path, chunk_bytes: int) -> None:
    log = tmp_path / "RECV2025010112-1.LOG"
    log.write_bytes(b"a\r\nb\rc\r\n\r\nd\r")
    # A CR inside a line is part of it; the one at the very end belongs to a lost line end.
    assert texts(log, chunk_bytes=chunk_bytes) == ["a", "b\rc", "", "d"]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b""),  # no mark: ASCII in UTF-16 shows as every other byte NUL
        ("utf-16-be", b""),
    ],
)
@pytest.mark.parametrize("chunk_bytes", [1, 3, 64 * 1024])
def test_byte_order_marks_and_utf16(
    tmp_path: Path, encoding: str, bom: bytes, chunk_bytes: int
) -> None:
    lines = ["#Software: Microsoft Exchange Server", "2025-01-01T12:00:00.000Z,Ünïcödé,€"]
    log = tmp_path / "RECV2025010112-1.LOG"
    log.write_bytes(bom + "\r\n".join(lines).encode(encoding) + "\r\n".encode(encoding))
    read_lines, reader = read(log, chunk_bytes=chunk_bytes)
    assert [line.text for line in read_lines] == lines
    assert reader.encoding == encoding


def test_gzipped_utf16(tmp_path: Path) -> None:
    log = tmp_path / "RECV.LOG.gz"
    log.write_bytes(gzip.compress(b"\xff\xfe" + "x,y\r\nz\r\n".encode("utf-16-le")))
    assert texts(log) == ["x,y", "z"]


def test_encoding_of_the_first_bytes() -> None:
    assert encoding_of(b"Nov 28") == ("utf-8", 0)
    assert encoding_of(b"\xef\xbb\xbfNov") == ("utf-8", 3)
    assert encoding_of(b"\xff\xfeN\x00") == ("utf-16-le", 2)
    assert encoding_of(b"\x00\x00\x00\x00") == ("utf-8", 0)  # NUL padding, not UTF-16
    assert encoding_of(b"") == ("utf-8", 0)


def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"subject \xe4\xf6\xfc latin-1\nok\n\xf0\x9f")  # and a cut-off sequence
    assert texts(log) == ["subject \ufffd\ufffd\ufffd latin-1", "ok", "\ufffd"]


def test_nul_bytes_are_dropped_like_the_padding_copytruncate_leaves(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"\x00" * 100_000 + SAMPLE_TEXT.encode() + b"a\x00b\n")
    assert texts(log) == [*SAMPLE, "ab"]


def test_binary_garbage_becomes_lines_for_the_parser_to_reject(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 50 + os.urandom(100_000)
    log = tmp_path / "image.png"
    log.write_bytes(b"\x89PNG\r\n" + garbage)
    lines, reader = read(log, max_line_chars=1000)
    assert reader.problems == ()
    assert lines
    assert all(len(line.text) <= 1000 and "\n" not in line.text for line in lines)
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))


# --- long lines -----------------------------------------------------------------------------


def test_a_line_of_five_megabytes_is_cut_and_never_held_whole(tmp_path: Path) -> None:
    size = 5 * 1024 * 1024
    log = tmp_path / "mail.log"
    with log.open("wb") as out:
        out.write(b"before\n" + b"x" * size + b"\nafter\n")
    tracemalloc.start()
    try:
        lines, reader = read(log)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [line.text for line in lines] == ["before", "x" * MAX_LINE_CHARS, "after"]
    assert [line.too_long for line in lines] == [False, True, False]
    assert [line.number for line in lines] == [1, 2, 3]
    assert reader.too_long_lines == 1
    assert peak < size / 10, f"peak {peak} bytes while reading a {size}-byte line"


def test_a_long_line_inside_gzip_and_at_the_end_of_the_file(tmp_path: Path) -> None:
    log = tmp_path / "mail.log.gz"
    log.write_bytes(gzip.compress(b"a\n" + b"y" * 300_000 + b"\nb\n" + b"z" * 200_000))
    lines, _ = read(log, max_line_chars=1000)
    assert [(line.text[:3], len(line.text), line.too_long) for line in lines] == [
        ("a", 1, False),
        ("yyy", 1000, True),
        ("b", 1, False),
        ("zzz", 1000, True),
    ]


def test_a_line_exactly_at_the_limit_is_whole(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"1234\n12345\n")
    lines, _ = read(log, max_line_chars=4, chunk_bytes=3)
    assert [(line.text, line.too_long) for line in lines] == [("1234", False), ("1234", True)]


# --- faults: the lines before them are kept ------------------------------------------------------


def test_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    original = many_lines(20_000)
    compressed = gzip.compress("\n".join(original).encode() + b"\n")
    log = tmp_path / "mail.log.2.gz"
    log.write_bytes(compressed[: len(compressed) - 2000])
    lines, reader = read(log)
    assert 0 < len(lines) < len(original)
    assert [line.text for line in lines] == original[: len(lines)]
    (problem,) = reader.problems
    assert problem.kind is InputProblemKind.TRUNCATED
    assert problem.line_number == len(lines)
    assert str(problem).startswith(f"{log}:{len(lines)}: the gzip data ends early")


@pytest.mark.parametrize("cut", [1, 4, 8])  # inside the CRC, the size, the last data
def test_gzip_cut_in_its_trailer(tmp_path: Path, cut: int) -> None:
    compressed = gzip.compress(SAMPLE_TEXT.encode())
    log = tmp_path / "mail.log.gz"
    log.write_bytes(compressed[:-cut])
    lines, reader = read(log)
    assert [line.text for line in lines] == SAMPLE[: len(lines)]
    assert [p.kind for p in reader.problems] == [InputProblemKind.TRUNCATED]


def test_truncated_xz_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    original = many_lines(20_000)
    compressed = lzma.compress("\n".join(original).encode() + b"\n")
    log = tmp_path / "mail.log.xz"
    log.write_bytes(compressed[: len(compressed) // 2])
    lines, reader = read(log)
    assert [line.text for line in lines] == original[: len(lines)]
    assert [p.kind for p in reader.problems] == [InputProblemKind.TRUNCATED]


def test_corrupt_bzip2(tmp_path: Path) -> None:
    compressed = bytearray(bz2.compress(("\n".join(many_lines(2000)) + "\n").encode()))
    middle = len(compressed) // 2
    compressed[middle : middle + 16] = b"\x00" * 16
    log = tmp_path / "mail.log.bz2"
    log.write_bytes(bytes(compressed))
    lines, reader = read(log)
    (problem,) = reader.problems
    assert problem.kind is InputProblemKind.CORRUPT
    assert problem.message.startswith("corrupt bzip2 data: ")
    assert problem.line_number == len(lines)


def test_gzip_magic_followed_by_garbage(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"\x1f\x8b" + b"not gzip at all\n" * 10)
    lines, reader = read(log)
    assert lines == []
    assert [p.kind for p in reader.problems] == [InputProblemKind.CORRUPT]


def test_corrupt_deflate_data_inside_gzip(tmp_path: Path) -> None:
    compressed = bytearray(gzip.compress(("\n".join(many_lines(5000)) + "\n").encode()))
    compressed[20:40] = b"\xff" * 20
    log = tmp_path / "mail.log.gz"
    log.write_bytes(bytes(compressed))
    _, reader = read(log)
    (problem,) = reader.problems
    assert problem.kind is InputProblemKind.CORRUPT
    assert problem.message.startswith("corrupt gzip data: ")


def test_compression_that_cannot_be_read_here_is_named(tmp_path: Path) -> None:
    log = tmp_path / "mail.log.zst"
    log.write_bytes(b"\x28\xb5\x2f\xfd" + os.urandom(100))
    lines, reader = read(log)
    assert lines == []
    (problem,) = reader.problems
    assert problem.kind is InputProblemKind.UNSUPPORTED_COMPRESSION
    assert "zstd" in problem.message


def test_missing_file_folder_and_read_error_are_problems_not_exceptions(tmp_path: Path) -> None:
    cases = {
        tmp_path / "gone.log": InputProblemKind.NOT_FOUND,
        tmp_path: InputProblemKind.FOLDER,
        # The kernel refuses to read a process's memory at address 0: a real I/O error.
        Path("/proc/self/mem"): InputProblemKind.UNREADABLE,
    }
    for path, kind in cases.items():
        lines, reader = read(path)
        assert lines == []
        (problem,) = reader.problems
        assert (problem.kind, problem.source, problem.line_number) == (kind, str(path), 0)


def test_a_reader_reads_once(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(SAMPLE_TEXT)
    reader = LineReader(source(log))
    assert len(list(reader)) == 3
    with pytest.raises(RuntimeError, match="read already"):
        list(reader)


def test_batches_carry_the_same_lines_without_an_object_per_line(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    original = many_lines(3000)
    log.write_bytes(("\n".join(original) + "\n" + "q" * 50 + "\n").encode())
    batches = list(LineReader(source(log), chunk_bytes=4096, max_line_chars=40).batches())
    assert len(batches) > 1
    assert [b.first_number for b in batches[1:]] == [b.last_number + 1 for b in batches[:-1]]
    # Every sample line is longer than 40 characters, and so is the last one.
    assert [t for b in batches for t in b.texts] == [line[:40] for line in [*original, "q" * 50]]
    assert sorted(n for b in batches for n in b.too_long) == list(range(1, 3002))


# --- standard input --------------------------------------------------------------------------


def test_standard_input_as_a_binary_stream() -> None:
    stream = io.BytesIO(gzip.compress(SAMPLE_TEXT.encode()))
    lines = list(LineReader(STDIN, stdin=stream))
    assert [line.text for line in lines] == SAMPLE
    assert lines[0].origin == "<stdin>:1"
    assert not stream.closed  # standard input is not the reader's to close


def test_standard_input_through_a_real_pipe(tmp_path: Path) -> None:
    program = (
        "from mailtls.logs.inputs import LineReader, expand_sources\n"
        "sources, problems = expand_sources(['-', '-'])\n"
        "for source in sources:\n"
        "    reader = LineReader(source)\n"
        "    for line in reader: print(line.origin, line.text)\n"
        "    print(len(sources), problems, reader.problems, reader.compression)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        input=bz2.compress(b"one\r\ntwo\r\n"),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.decode().splitlines() == [
        "<stdin>:1 one",
        "<stdin>:2 two",
        "1 () () bzip2",
    ]


def test_lines_from_a_pipe_arrive_before_the_writer_is_done() -> None:
    read_end, write_end = os.pipe()
    first_line_seen = threading.Event()
    with open(read_end, "rb") as reading, open(write_end, "wb", buffering=0) as writing:
        writing.write(b"Nov 28 08:33:37 first line\n")
        seen: list[str] = []

        def consume() -> None:
            for line in LineReader(STDIN, stdin=reading):
                seen.append(line.text)
                first_line_seen.set()

        consumer = threading.Thread(target=consume)
        consumer.start()
        # Like `tail -f mail.log | mailtls logs -`: the writer has not closed the pipe yet.
        assert first_line_seen.wait(timeout=10)
        writing.write(b"second line\n")
        writing.close()
        consumer.join(timeout=10)
    assert seen == ["Nov 28 08:33:37 first line", "second line"]


# --- the splitter on its own --------------------------------------------------------------------


def test_splitter_cuts_once_and_skips_the_rest_of_a_long_line() -> None:
    splitter = LineSplitter(max_chars=5)
    assert splitter.feed("abc") == ([], [])
    assert splitter.feed("defgh") == (["abcde"], [0])  # reported as soon as it is too long
    assert splitter.feed("ijk" * 1000) == ([], [])
    assert splitter.feed("lm\nok\n123456\nnext") == (["ok", "12345"], [1])
    assert splitter.finish() == "next"
    assert splitter.finish() is None


def test_splitter_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LineSplitter(max_chars=0)


def split_all(pieces: list[str], max_chars: int) -> list[tuple[str, bool]]:
    splitter = LineSplitter(max_chars)
    out: list[tuple[str, bool]] = []
    for piece in pieces:
        lines, cut = splitter.feed(piece)
        out += [(line, index in cut) for index, line in enumerate(lines)]
    last = splitter.finish()
    if last is not None:
        out.append((last, False))
    return out


@given(
    text=st.text(alphabet=st.sampled_from("ab\r\n\x00é"), max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
    max_chars=st.integers(min_value=1, max_value=20),
)
def test_splitting_does_not_depend_on_where_the_pieces_end(
    text: str, cuts: list[int], max_chars: int
) -> None:
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert split_all(pieces, max_chars) == split_all([text], max_chars)


@given(
    text=st.text(alphabet=st.sampled_from("ab\r\n\x00é"), max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
    max_chars=st.integers(min_value=1, max_value=20),
)
def test_a_block_is_its_lines_joined(text: str, cuts: list[int], max_chars: int) -> None:
    """feed_block's text, where it gives one, is exactly the lines it returns, each with "\\n"."""
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    splitter = LineSplitter(max_chars)
    for a, b in itertools.pairwise(bounds):
        lines, cut, block = splitter.feed_block(text[a:b])
        if block is not None:
            assert block == "".join(line + "\n" for line in lines)
            assert not cut


@given(lines=st.lists(st.text(alphabet=st.characters(exclude_characters="\r\n\x00")), max_size=30))
def test_splitting_gives_back_what_was_joined(lines: list[str]) -> None:
    joined = "".join(line + "\n" for line in lines)
    expected = [(line[:50], len(line) > 50) for line in lines]
    assert split_all([joined], 50) == expected


# --- any bytes at all ------------------------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.binary(max_size=3000),
    compression=st.sampled_from(sorted(COMPRESSORS)),
    chunk_bytes=st.integers(min_value=1, max_value=64),
    truncate=st.integers(min_value=0, max_value=30),
)
def test_random_bytes_never_raise(
    tmp_path: Path, content: bytes, compression: str, chunk_bytes: int, truncate: int
) -> None:
    data = COMPRESSORS[compression](content)
    log = tmp_path / "random.log"
    log.write_bytes(data[: max(0, len(data) - truncate)])
    lines, reader = read(log, chunk_bytes=chunk_bytes, max_line_chars=100)
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))
    assert all(len(line.text) <= 100 for line in lines)
    assert not any("\n" in line.text or "\x00" in line.text for line in lines)
    assert all(isinstance(problem, InputProblem) for problem in reader.problems)
    assert len(reader.problems) <= 1


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.text(alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"])),
        max_size=20,
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
    compression=st.sampled_from(sorted(COMPRESSORS)),
    chunk_bytes=st.integers(min_value=1, max_value=50),
)
def test_any_text_comes_back_line_for_line(
    tmp_path: Path,
    *,
    lines: list[str],
    encoding: str,
    line_end: str,
    compression: str,
    chunk_bytes: int,
) -> None:
    log = tmp_path / "text.log"
    data = "".join(line + line_end for line in lines).encode(encoding) if lines else b""
    log.write_bytes(COMPRESSORS[compression](data))
    assert texts(log, chunk_bytes=chunk_bytes) == lines


# --- naming the sources --------------------------------------------------------------------------


def make_files(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).write_text(f"{name}\n")


ROTATED = ["mail.log", "mail.log.1", "mail.log.2.gz", "mail.log.10.gz", "mail.log.3.bz2"]
OLDEST_FIRST = ["mail.log.10.gz", "mail.log.3.bz2", "mail.log.2.gz", "mail.log.1", "mail.log"]


def names_of(found: tuple[Source, ...]) -> list[str]:
    return [Path(s.name).name if s.path else s.name for s in found]


def test_a_rotated_set_from_a_pattern_is_read_oldest_first(tmp_path: Path) -> None:
    make_files(tmp_path, ROTATED)
    sources, problems = expand_sources([str(tmp_path / "mail.log*")])
    assert names_of(sources) == OLDEST_FIRST
    assert problems == ()


def test_a_folder_stands_for_its_files_oldest_first(tmp_path: Path) -> None:
    make_files(tmp_path, [*ROTATED, "mail.err", ".hidden"])
    (tmp_path / "archive").mkdir()
    sources, problems = expand_sources([str(tmp_path)])
    assert names_of(sources) == ["mail.err", *OLDEST_FIRST]
    assert problems == ()


def test_names_a_shell_expanded_are_put_oldest_first_in_place(tmp_path: Path) -> None:
    make_files(tmp_path, [*ROTATED, "other.log"])
    shell_order = sorted(str(tmp_path / n) for n in ROTATED)  # what `mail.log*` gives
    sources, _ = expand_sources([str(tmp_path / "other.log"), *shell_order, "-"])
    assert names_of(sources) == ["other.log", *OLDEST_FIRST, "<stdin>"]


def test_dated_rotations_are_read_by_date(tmp_path: Path) -> None:
    names = ["mail.log", "mail.log-20250102.gz", "mail.log-20241231", "mail.log-20250101.gz"]
    make_files(tmp_path, names)
    sources, _ = expand_sources([str(tmp_path / "mail.log*")])
    assert names_of(sources) == [
        "mail.log-20241231",
        "mail.log-20250101.gz",
        "mail.log-20250102.gz",
        "mail.log",
    ]


def test_every_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_files(tmp_path, ["mail.log"])
    (tmp_path / "link.log").symlink_to(tmp_path / "mail.log")
    monkeypatch.chdir(tmp_path)
    sources, _ = expand_sources(["mail.log", "./mail.log", str(tmp_path), "link.log", "-", "-"])
    assert [s.name for s in sources] == ["mail.log", "<stdin>"]


def test_names_that_stand_for_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "logs.d").mkdir()
    make_files(tmp_path, ["mail.log"])
    names = [
        str(tmp_path / "missing.log"),
        str(tmp_path / "nothing*.log"),
        str(tmp_path / "empty"),
        str(tmp_path / "*"),
    ]
    sources, problems = expand_sources(names)
    assert names_of(sources) == ["mail.log"]
    assert [(Path(p.source).name, p.kind) for p in problems] == [
        ("missing.log", InputProblemKind.NOT_FOUND),
        ("nothing*.log", InputProblemKind.NO_MATCH),
        ("empty", InputProblemKind.EMPTY_FOLDER),
        ("empty", InputProblemKind.FOLDER),  # folders a pattern matches are not read
        ("logs.d", InputProblemKind.FOLDER),
    ]


def test_an_existing_name_that_looks_like_a_pattern_is_taken_literally(tmp_path: Path) -> None:
    make_files(tmp_path, ["log[1]", "log1"])
    sources, _ = expand_sources([str(tmp_path / "log[1]")])
    assert names_of(sources) == ["log[1]"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("mail.log", ("mail.log", (2, 0))),
        ("mail.log.1", ("mail.log", (1, -1))),
        ("mail.log.12.gz", ("mail.log", (1, -12))),
        ("maillog.0.bz2", ("maillog", (1, 0))),
        ("mail.log-20250101.xz", ("mail.log", (0, "20250101"))),
        ("mail.log-2025-01-01", ("mail.log", (0, "20250101"))),
        ("mail.log.20250101", ("mail.log", (0, "20250101"))),  # logrotate dateformat .%Y%m%d
        ("RECV2025010112-1.LOG", ("RECV2025010112-1.LOG", (2, 0))),  # Exchange: by name
    ],
)
def test_rotation_key(name: str, key: tuple[str, tuple[int, int | str]]) -> None:
    assert rotation_key(name) == key

"""Reading an input file as text: Windows tools write UTF-16LE with a BOM, or the ANSI code page.

``decode`` is pure (bytes in, text out); ``read_input`` is the only function of the package that
opens files, and turns every failure into an ``InputError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from mailtls.advise.errors import InputError

# More than any real export or listing of the keys mailtls reads; a bound keeps a wrong file
# (a disk image, a full-registry export) from being read into memory.
MAX_INPUT_BYTES = 32 * 1024 * 1024


def decode(data: bytes, source: str) -> str:
    """Text of a file: UTF-16 (BOM, or the zero bytes of ASCII text in UTF-16LE), UTF-8, or ANSI."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        encoding = "utf-16-le"  # `wmic ... > file` and some exports without a BOM
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            # REGEDIT4 and old console tools write the ANSI code page; Western is the common one
            # and decodes every byte but five, which are kept as replacement characters.
            return data.decode("cp1252", errors="replace")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as problem:
        raise InputError(
            source, f"not valid {encoding.upper()} text at byte {problem.start} (truncated?)"
        ) from None


def read_input(path: str) -> str:
    if path == "-":
        raise InputError(path, "standard input is not supported here; give a file")
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as problem:
        raise InputError(path, f"cannot read: {problem.strerror or problem}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(path, f"larger than {MAX_INPUT_BYTES // 1024 // 1024} MiB: not an export")
    if b"\x00" in data[:4096] and not (
        data.startswith((b"\xff\xfe", b"\xfe\xff"))
        or (len(data) >= 2 and data[1] == 0 and data[0] != 0)
    ):
        raise InputError(path, "binary data, not a text file")
    return decode(data, path)

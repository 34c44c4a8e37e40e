"""``--emit-reg``: .reg files regedit imports, built from the registry targets of the Windows data.

The file is what regedit itself writes: UTF-16LE with a byte order mark, the line
``Windows Registry Editor Version 5.00``, CRLF line ends, a blank line after every key, values as
``"Name"=dword:0000000x``. Comment lines (``;``) say what the file does and where the values come
from; regedit skips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailtls.advise.registry import HEADER_5
from mailtls.knowledge.windows import RegistryTarget, WindowsData, WindowsRelease, load_windows

DISABLE_WARNING = (
    "Before you import this file, make sure no peer still needs TLS 1.0/1.1: run "
    "`mailtls logs --impact tls12` on the server's SMTP protocol logs (Exchange: the "
    "Receive and Send protocol logs; enable protocol logging first if it is off). Peers "
    "listed there will fail to connect, or fall back to plaintext, once the file is imported."
)


@dataclass(frozen=True)
class RegFile:
    kind: str
    targets: tuple[RegistryTarget, ...]
    content: bytes  # ready to write: UTF-16LE with BOM
    notes: tuple[str, ...]  # what the command prints next to writing the file


def emit_targets(
    kind: str, release: WindowsRelease | None, data: WindowsData
) -> tuple[tuple[RegistryTarget, ...], tuple[str, ...]]:
    emit = data.emit[kind]
    groups = list(emit.groups)
    notes = []
    if release is not None and data.needs_winhttp_value(release):
        groups.append(emit.winhttp_group)
        notes.append(f"WinHTTP DefaultSecureProtocols included: {release.name} needs it.")
    elif release is None:
        notes.append(
            "WinHTTP values left out: give --windows or --systeminfo to include them where the "
            "release needs them (Windows Server 2008 R2 SP1, 2012)."
        )
    targets = tuple(target for group in groups for target in data.targets(group))
    return targets, tuple(notes)


def render_reg(kind: str, targets: Sequence[RegistryTarget]) -> str:
    """The file's text with ``\\n`` line ends (``encode_reg`` makes them CRLF)."""
    sources = list(dict.fromkeys(target.source for target in targets))
    lines = [
        HEADER_5,
        "",
        f"; mailtls advise --emit-reg {kind}",
        "; Restart Windows after importing: Schannel reads these values at start-up.",
    ]
    if kind == "disable-tls10-tls11":
        lines.append("; " + DISABLE_WARNING)
    lines += [f"; Source: {source}" for source in sources]
    lines.append("")
    merged: dict[str, dict[str, int]] = {}
    for target in targets:
        merged.setdefault(target.key, {}).update(target.values)
    for key, values in merged.items():
        lines.append(f"[{key}]")
        lines += [f'"{name}"=dword:{value:08x}' for name, value in values.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def encode_reg(text: str) -> bytes:
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def build_reg_file(
    kind: str, release: WindowsRelease | None, data: WindowsData | None = None
) -> RegFile:
    data = data or load_windows()
    targets, notes = emit_targets(kind, release, data)
    if kind == "disable-tls10-tls11":
        notes = (DISABLE_WARNING, *notes)
    return RegFile(kind, targets, encode_reg(render_reg(kind, targets)), notes)

"""Client-controlled text made safe to keep and to print.

Everything a sender says (EHLO name, addresses, headers) is attacker-controlled: it is cut to a
bound, control characters and escape sequences become spaces, and bytes that are not UTF-8 are
shown as replacement characters. Renderers may then print a record without further care, and a
record's size is bounded whatever a client sends.
"""

from __future__ import annotations

import re

MAX_NAME_CHARS = 255  # a HELO name, an SNI, a reverse name: the DNS limit
MAX_ADDRESS_CHARS = 320  # RFC 5321 4.5.3.1: 64 local part + @ + 255 domain
MAX_HEADER_CHARS = 300
MAX_COMMANDS = 64  # command verbs kept per session
MAX_RECIPIENTS_KEPT = 100

# C0 and C1 controls, DEL, and the Unicode bidi overrides that can reorder a terminal line.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")


def clean(text: str | bytes | None, limit: int = MAX_HEADER_CHARS) -> str | None:
    """Printable text of at most ``limit`` characters (… marks a cut), or None for nothing."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    else:
        # Surrogate escapes (aiosmtpd decodes arguments with surrogateescape) cannot be encoded.
        text = text[: limit * 4].encode("utf-8", errors="replace").decode("utf-8", "replace")
    cleaned = " ".join(_UNSAFE.sub(" ", text).split())
    if not cleaned:
        return None
    if len(cleaned) > limit:
        return cleaned[: limit - 1] + "…"
    return cleaned


def clean_verb(text: str) -> str:
    """A command verb as recorded: letters only, at most 12 characters (garbage is "?")."""
    verb = text[:12].upper()
    return verb if verb.isascii() and verb.isalpha() else "?"

"""Postfix configuration and versions: ``postconf -n`` output or a ``main.cf``, ``postconf
mail_version``, ``openssl version``; and the TLS versions a protocols setting allows.

Pure functions. The protocol grammar is Postfix's (postconf(5), ``smtpd_tls_protocols``): names
separated by whitespace, commas or colons; ``!NAME`` excludes, a bare ``NAME`` includes, and from
Postfix 3.6 ``>=NAME`` / ``<=NAME`` (or hexadecimal ``0x0303``) bound the range. OpenSSL allows one
contiguous range: excluding a version also turns off every version above it that sits above a
gap, which is how ``!TLSv1.1`` on its own ends up allowing TLS 1.0 only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailtls.advise.errors import InputError
from mailtls.advise.models import PostfixConfig, PostfixSetting
from mailtls.models import TlsVersion

_PARAMETER = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.*)$")
_VERSION = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?")
_OPENSSL = re.compile(r"\b(OpenSSL|LibreSSL|BoringSSL)\s+(\d+)\.(\d+)\.(\d+)([a-z]*)", re.I)
_ORDER = (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3)
_NAMES = {
    "tlsv1": TlsVersion.TLS1_0,
    "tlsv1.1": TlsVersion.TLS1_1,
    "tlsv1.2": TlsVersion.TLS1_2,
    "tlsv1.3": TlsVersion.TLS1_3,
}
_HEX_VERSIONS = {
    0x301: TlsVersion.TLS1_0,
    0x302: TlsVersion.TLS1_1,
    0x303: TlsVersion.TLS1_2,
    0x304: TlsVersion.TLS1_3,
}


@dataclass(frozen=True)
class SoftwareVersion:
    product: str
    parts: tuple[int, int, int]
    text: str

    def at_least(self, *parts: int) -> bool:
        return self.parts >= tuple(parts) + (0,) * (3 - len(parts))


@dataclass(frozen=True)
class ProtocolRange:
    """What a protocols value allows, and whether it used the Postfix >= 3.6 bounds syntax."""

    allowed: tuple[TlsVersion, ...]
    uses_bounds: bool
    problems: tuple[str, ...]


def parse_postfix_config(text: str, source: str) -> PostfixConfig:
    """``name = value`` lines; indented lines continue the previous one; ``#`` starts comments."""
    settings: dict[str, PostfixSetting] = {}
    current: tuple[str, list[str], int] | None = None

    def finish() -> None:
        if current is not None:
            name, parts, line = current
            settings[name] = PostfixSetting(name, " ".join(parts).strip(), f"{source}:{line}")

    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            if current is None:
                raise InputError(source, "continuation line before any parameter", number)
            current[1].append(raw.strip())
            continue
        match = _PARAMETER.match(raw)
        if match is None:
            raise InputError(
                source, f"not a Postfix 'name = value' line: {raw.strip()[:50]!r}", number
            )
        finish()
        current = (match.group(1), [match.group(2).strip()], number)
    finish()
    if not settings:
        raise InputError(source, "no 'name = value' line: not postconf -n output or a main.cf")
    return PostfixConfig(settings, source)


def expand(config: PostfixConfig, value: str, depth: int = 0) -> str:
    """Replace ``$name`` / ``${name}`` with other settings of the file (unknown ones are kept)."""
    if depth > 10:
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        setting = config.settings.get(name)
        return match.group(0) if setting is None else expand(config, setting.value, depth + 1)

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)", substitute, value)


def parse_mail_version(text: str) -> SoftwareVersion:
    """``postconf mail_version`` output (``mail_version = 3.7.11``) or a bare ``3.7.11``."""
    stripped = text.strip()
    if "=" in stripped:
        name, _, stripped = stripped.partition("=")
        if name.strip() != "mail_version":
            raise ValueError(f"expected 'mail_version = X.Y.Z', not {text.strip()[:40]!r}")
    stripped = stripped.strip()
    match = _VERSION.search(stripped)
    if match is None or match.start() > 0:
        raise ValueError(f"no Postfix version in {text.strip()[:40]!r} (expected e.g. 3.7.11)")
    major, minor, patch = (int(group or 0) for group in match.groups())
    return SoftwareVersion("Postfix", (major, minor, patch), match.group(0))


def parse_openssl_version(text: str) -> SoftwareVersion:
    """``openssl version`` output; with ``(Library: ...)`` the library's version counts."""
    library = re.search(r"\(Library:\s*([^)]*)\)", text)
    match = _OPENSSL.search(library.group(1) if library else text)
    if match is None:
        raise ValueError(
            f"no OpenSSL version in {text.strip()[:50]!r} "
            "(expected e.g. 'OpenSSL 3.0.15 3 Sep 2024')"
        )
    product = {"openssl": "OpenSSL", "libressl": "LibreSSL", "boringssl": "BoringSSL"}[
        match.group(1).lower()
    ]
    parts = (int(match.group(2)), int(match.group(3)), int(match.group(4)))
    return SoftwareVersion(product, parts, f"{product} {'.'.join(map(str, parts))}{match.group(5)}")


def _bound(token: str) -> TlsVersion | None:
    named = _NAMES.get(token.lower())
    if named is not None:
        return named
    try:
        return _HEX_VERSIONS.get(int(token, 16))
    except ValueError:
        return None


def protocol_range(value: str) -> ProtocolRange:
    """The TLS versions a ``*_tls_protocols`` value allows (SSLv2/SSLv3 are not counted)."""
    tokens = [t for t in re.split(r"[\s,:]+", value.strip()) if t]
    problems: list[str] = []
    low, high = 0, len(_ORDER) - 1
    included: set[TlsVersion] = set()
    excluded: set[TlsVersion] = set()
    uses_bounds = False
    for token in tokens:
        lowered = token.lower()
        if token.startswith((">=", "<=")):
            uses_bounds = True
            bound = _bound(token[2:])
            if bound is None:
                problems.append(f"unknown protocol bound {token!r}")
            elif token.startswith(">="):
                low = max(low, _ORDER.index(bound))
            else:
                high = min(high, _ORDER.index(bound))
        elif token.startswith("!"):
            name = token[1:].lower()
            if name in _NAMES:
                excluded.add(_NAMES[name])
            elif name not in ("sslv2", "sslv3"):
                problems.append(f"unknown protocol {token!r}")
        elif lowered in _NAMES:
            included.add(_NAMES[lowered])
        elif lowered not in ("sslv2", "sslv3"):
            problems.append(f"unknown protocol {token!r}")
    candidates = [v for i, v in enumerate(_ORDER) if low <= i <= high and v not in excluded]
    if included:
        candidates = [v for v in candidates if v in included]
    # One contiguous range from the lowest allowed version up: a gap ends it.
    allowed: list[TlsVersion] = []
    for version in candidates:
        if allowed and _ORDER.index(version) != _ORDER.index(allowed[-1]) + 1:
            break
        allowed.append(version)
    return ProtocolRange(tuple(allowed), uses_bounds, tuple(problems))

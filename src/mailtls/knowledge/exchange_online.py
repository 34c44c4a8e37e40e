"""Exchange Online's published TLS policy, loaded from ``data/exchange_online.toml``.

Code never spells a cipher suite or a date of Microsoft's: it asks this module, which validates
the data file at load and refuses any entry without a ``source`` URL.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError
from mailtls.models import TlsVersion

DATA_FILE = "exchange_online.toml"
SUPPORTED_SCHEMA = 1


@dataclass(frozen=True)
class CipherSuite:
    iana: str
    openssl: str
    forward_secrecy: bool
    source: str


@dataclass(frozen=True)
class ExchangeOnlinePolicy:
    minimum_version: TlsVersion
    enforced_since: date
    policy_source: str
    opportunistic: bool
    delivery_source: str
    tls12_cipher_suites: tuple[CipherSuite, ...]
    sha1_certificates_accepted: bool
    certificates_source: str
    windows_sha512_kb: str
    windows_sha512_source: str

    @property
    def openssl_cipher_string(self) -> str:
        """The suites as an OpenSSL cipher list, Exchange Online's preference order kept."""
        return ":".join(suite.openssl for suite in self.tls12_cipher_suites)

    def accepts_cipher(self, openssl_name: str) -> bool:
        return any(suite.openssl == openssl_name for suite in self.tls12_cipher_suites)


def _source(table: dict[str, Any], where: str) -> str:
    value = table.get("source")
    if not isinstance(value, str) or not value.startswith("https://"):
        raise KnowledgeError(f"{DATA_FILE}: {where} has no https source URL")
    return value


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise KnowledgeError(f"{DATA_FILE}: missing table [{key}]")
    return value


def parse_policy(raw: dict[str, Any]) -> ExchangeOnlinePolicy:
    """Validate the parsed TOML document and build the policy (pure; tests feed it tables)."""
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    policy = _table(raw, "tls_policy")
    delivery = _table(raw, "delivery")
    certificates = _table(raw, "certificates")
    sha512 = _table(raw, "windows_sha512")
    suites_raw = raw.get("tls12_cipher_suites")
    if not isinstance(suites_raw, list) or not suites_raw:
        raise KnowledgeError(f"{DATA_FILE}: no [[tls12_cipher_suites]]")
    suites = []
    for index, entry in enumerate(suites_raw):
        where = f"tls12_cipher_suites[{index}]"
        try:
            suites.append(
                CipherSuite(
                    iana=str(entry["iana"]),
                    openssl=str(entry["openssl"]),
                    forward_secrecy=bool(entry["forward_secrecy"]),
                    source=_source(entry, where),
                )
            )
        except KeyError as missing:
            raise KnowledgeError(f"{DATA_FILE}: {where} lacks {missing}") from None
    try:
        minimum = TlsVersion(policy["minimum_version"])
        enforced = date.fromisoformat(str(policy["enforced_since"]))
    except (KeyError, ValueError) as problem:
        raise KnowledgeError(f"{DATA_FILE}: [tls_policy] is invalid: {problem}") from None
    return ExchangeOnlinePolicy(
        minimum_version=minimum,
        enforced_since=enforced,
        policy_source=_source(policy, "[tls_policy]"),
        opportunistic=bool(delivery.get("opportunistic")),
        delivery_source=_source(delivery, "[delivery]"),
        tls12_cipher_suites=tuple(suites),
        sha1_certificates_accepted=bool(certificates.get("sha1_accepted")),
        certificates_source=_source(certificates, "[certificates]"),
        windows_sha512_kb=str(sha512.get("kb", "")),
        windows_sha512_source=_source(sha512, "[windows_sha512]"),
    )


@cache
def load_exchange_online_policy() -> ExchangeOnlinePolicy:
    # A plain path, not importlib.resources: the package is never run from a zip, and the
    # resources machinery (zipfile and friends) costs start-up time on every check.
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_policy(raw)

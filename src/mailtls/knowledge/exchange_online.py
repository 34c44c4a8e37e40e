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
class TimelineEvent:
    when: date
    event: str
    source: str


@dataclass(frozen=True)
class DaneFacts:
    """Exchange Online and SMTP DANE: validating when it sends, offering it for its own MX."""

    outbound_since: str  # "YYYY-MM"
    inbound_since: date
    signed_mx_suffix: str  # the DNSSEC-signed mail-flow records (DANE possible)
    legacy_mx_suffix: str  # unsigned, no DANE
    connector_default_mode: str  # MtaStsMode / SmtpDaneMode default on outbound connectors
    sources: tuple[str, ...]


@dataclass(frozen=True)
class OnPremEnforcement:
    """Throttling and blocking of mail from persistently vulnerable on-premises Exchange."""

    throttles_then_blocks: bool
    check_command: str
    sources: tuple[str, ...]


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
    timeline: tuple[TimelineEvent, ...] = ()
    dane: DaneFacts | None = None
    onprem_enforcement: OnPremEnforcement | None = None

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


def _sources(table: dict[str, Any], where: str) -> tuple[str, ...]:
    """The table's ``source`` and any further ``sources``, all https."""
    extra = table.get("sources", [])
    if not isinstance(extra, list) or not all(
        isinstance(url, str) and url.startswith("https://") for url in extra
    ):
        raise KnowledgeError(f"{DATA_FILE}: {where} has a source that is not an https URL")
    return (_source(table, where), *extra)


def _timeline(raw: dict[str, Any]) -> tuple[TimelineEvent, ...]:
    entries = raw.get("timeline")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{DATA_FILE}: no [[timeline]]")
    events = []
    for index, entry in enumerate(entries):
        where = f"timeline[{index}]"
        try:
            when = date.fromisoformat(str(entry["date"]))
            event = str(entry["event"])
        except (KeyError, ValueError) as problem:
            raise KnowledgeError(f"{DATA_FILE}: {where} is invalid: {problem}") from None
        events.append(TimelineEvent(when=when, event=event, source=_source(entry, where)))
    if events != sorted(events, key=lambda item: item.when):
        raise KnowledgeError(f"{DATA_FILE}: [[timeline]] is not in date order")
    return tuple(events)


def _dane(raw: dict[str, Any]) -> DaneFacts:
    table = _table(raw, "dane")
    try:
        return DaneFacts(
            outbound_since=str(table["outbound_since"]),
            inbound_since=date.fromisoformat(str(table["inbound_since"])),
            signed_mx_suffix=str(table["signed_mx_suffix"]),
            legacy_mx_suffix=str(table["legacy_mx_suffix"]),
            connector_default_mode=str(table["connector_default_mode"]),
            sources=_sources(table, "[dane]"),
        )
    except (KeyError, ValueError) as problem:
        raise KnowledgeError(f"{DATA_FILE}: [dane] is invalid: {problem}") from None


def _onprem(raw: dict[str, Any]) -> OnPremEnforcement:
    table = _table(raw, "onprem_enforcement")
    command = table.get("check_command")
    if not isinstance(command, str) or not command:
        raise KnowledgeError(f"{DATA_FILE}: [onprem_enforcement] has no check_command")
    return OnPremEnforcement(
        throttles_then_blocks=bool(table.get("throttles_then_blocks")),
        check_command=command,
        sources=_sources(table, "[onprem_enforcement]"),
    )


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
        timeline=_timeline(raw),
        dane=_dane(raw),
        onprem_enforcement=_onprem(raw),
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

"""What to change on each mail server product, loaded from ``data/mail_servers.toml``.

The data holds, per product (keyed by the ids of ``products.toml``): the minimum version for
TLS 1.2, the settings that enable TLS 1.2, turn TLS 1.0/1.1 off, turn STARTTLS on, make Exchange
Online's cipher suites available and install a certificate (each split into server side and
client side), how to find out the version, and where the product logs TLS. Beside the products it
holds the advice per finding code and the generic advice for servers that were not recognised.

Everything is validated once at load: an entry without an https source, a section without steps,
an unknown finding code or section, or a template with a placeholder nobody fills is refused with
a ``KnowledgeError`` naming the entry.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError
from mailtls.models import FindingCode

DATA_FILE = "mail_servers.toml"
SUPPORTED_SCHEMA = 1

# The names a summary or step may use; remedies.py fills them (unknown ones are refused here, so a
# typo in the data fails at load rather than printing "{mx_hots}" to a user).
PLACEHOLDERS = frozenset({"product", "mx_host", "exo_suites", "sha512_kb"})
# A placeholder is a lower-case name in braces; other braces (PowerShell's ``{$_.X}``) are text.
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Section(StrEnum):
    """The kinds of change a product entry can describe."""

    ENABLE_TLS12 = "enable_tls12"
    DISABLE_LEGACY = "disable_legacy"  # turn TLS 1.0 and 1.1 off
    STARTTLS = "starttls"
    CIPHERS = "ciphers"  # make Exchange Online's TLS 1.2 suites available
    CERTIFICATE = "certificate"  # where the certificate is installed


class Condition(StrEnum):
    """Facts about the address that add a step to an advice (``conditional``)."""

    TLS13_ONLY = "tls13_only"  # TLS 1.2 refused, TLS 1.3 accepted
    CERTIFICATE_KEY_EC = "certificate_key_ec"  # the presented certificate has an EC key


@dataclass(frozen=True)
class Settings:
    """One kind of change: ordered steps for the server side (incoming SMTP) and client side."""

    server: tuple[str, ...]
    client: tuple[str, ...]
    sources: tuple[str, ...]  # empty: the entry's sources apply


@dataclass(frozen=True)
class MailServer:
    id: str
    name: str
    hosted: bool  # run by a provider: the customer cannot change its TLS
    contact: tuple[str, ...]  # for hosted services: whom to tell, and how
    tls12_minimum: str | None
    find_version: tuple[str, ...]
    tls_logging: tuple[str, ...]
    sections: Mapping[Section, Settings]
    sources: tuple[str, ...]

    def settings(self, section: Section) -> Settings | None:
        return self.sections.get(section)


@dataclass(frozen=True)
class ConditionalStep:
    when: Condition
    step: str


@dataclass(frozen=True)
class Advice:
    """What a finding code calls for, whatever the product, and which product section applies."""

    code: FindingCode
    summary: str
    section: Section | None
    steps: tuple[str, ...]
    conditional: tuple[ConditionalStep, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class GenericAdvice:
    """For servers that were not recognised (or that the data has no settings for)."""

    identify: tuple[str, ...]
    sections: Mapping[Section, Settings]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class MailServerKnowledge:
    servers: tuple[MailServer, ...]
    advice: Mapping[FindingCode, Advice]
    generic: GenericAdvice

    def server(self, product_id: str | None) -> MailServer | None:
        if product_id is None:
            return None
        return next((server for server in self.servers if server.id == product_id), None)


# --- validation ------------------------------------------------------------------------------


def _fail(where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{DATA_FILE}: {where}: {problem}")


def _template(text: object, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _fail(where, "has an empty text")
    unknown = set(PLACEHOLDER.findall(text)) - PLACEHOLDERS
    if unknown:
        raise _fail(where, f"uses unknown placeholder(s) {sorted(unknown)}")
    return text


def _texts(
    raw: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise _fail(where, f"{key} must be a list of texts")
    texts = tuple(_template(item, f"{where} {key}[{index}]") for index, item in enumerate(value))
    if required and not texts:
        raise _fail(where, f"{key} is empty")
    return texts


def _sources(raw: Mapping[str, Any], where: str, *, required: bool) -> tuple[str, ...]:
    value = raw.get("sources", [])
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise _fail(where, "sources must be a list of URLs")
    if any(not url.startswith("https://") for url in value):
        raise _fail(where, "has a source that is not an https URL")
    if required and not value:
        raise _fail(where, "has no https source URL")
    return tuple(value)


def _settings(raw: object, where: str) -> Settings:
    if not isinstance(raw, dict):
        raise _fail(where, "is not a table")
    server = _texts(raw, "server", where)
    client = _texts(raw, "client", where)
    if not server and not client:
        raise _fail(where, "has no step")
    unknown = set(raw) - {"server", "client", "sources"}
    if unknown:
        raise _fail(where, f"has unknown key(s) {sorted(unknown)}")
    return Settings(server=server, client=client, sources=_sources(raw, where, required=False))


def _sections(raw: Mapping[str, Any], where: str) -> dict[Section, Settings]:
    return {
        section: _settings(raw[section.value], f"{where} [{section.value}]")
        for section in Section
        if section.value in raw
    }


_SERVER_KEYS = frozenset(
    {"id", "name", "hosted", "contact", "tls12_minimum", "find_version", "tls_logging", "sources"}
    | {section.value for section in Section}
)


def _server(raw: object, index: int) -> MailServer:
    where = f"servers[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "is not a table")
    server_id = raw.get("id")
    if not isinstance(server_id, str) or not server_id:
        raise _fail(where, "has no id")
    where = f"server {server_id!r}"
    unknown = set(raw) - _SERVER_KEYS
    if unknown:
        raise _fail(where, f"has unknown key(s) {sorted(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(where, "has no name")
    hosted = raw.get("hosted", False)
    if not isinstance(hosted, bool):
        raise _fail(where, "hosted must be true or false")
    minimum = raw.get("tls12_minimum")
    if minimum is not None:
        minimum = _template(minimum, f"{where} tls12_minimum")
    contact = _texts(raw, "contact", where, required=hosted)
    sections = _sections(raw, where)
    if hosted and sections:
        raise _fail(where, "a hosted service has no settings of its own, only contact")
    return MailServer(
        id=server_id,
        name=name,
        hosted=hosted,
        contact=contact,
        tls12_minimum=minimum,
        find_version=_texts(raw, "find_version", where),
        tls_logging=_texts(raw, "tls_logging", where),
        sections=sections,
        sources=_sources(raw, where, required=True),
    )


def _conditional(raw: object, where: str) -> tuple[ConditionalStep, ...]:
    if not isinstance(raw, list):
        raise _fail(where, "conditional must be an array of tables")
    steps = []
    for index, item in enumerate(raw):
        at = f"{where} conditional[{index}]"
        if not isinstance(item, dict):
            raise _fail(at, "is not a table")
        try:
            when = Condition(str(item.get("when")))
        except ValueError:
            raise _fail(at, f"condition {item.get('when')!r} is unknown") from None
        steps.append(ConditionalStep(when=when, step=_template(item.get("step"), at)))
    return tuple(steps)


def _advice(raw: object, index: int) -> Advice:
    where = f"advice[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "is not a table")
    try:
        code = FindingCode(str(raw.get("code")))
    except ValueError:
        raise _fail(where, f"code {raw.get('code')!r} is not a finding code") from None
    where = f"advice {code.value}"
    section_name = raw.get("section")
    section = None
    if section_name is not None:
        try:
            section = Section(section_name)
        except ValueError:
            raise _fail(where, f"section {section_name!r} is unknown") from None
    steps = _texts(raw, "steps", where)
    if section is None and not steps:
        raise _fail(where, "has neither steps nor a section")
    return Advice(
        code=code,
        summary=_template(raw.get("summary"), f"{where} summary"),
        section=section,
        steps=steps,
        conditional=_conditional(raw.get("conditional", []), where),
        sources=_sources(raw, where, required=True),
    )


def _generic(raw: object) -> GenericAdvice:
    where = "[generic]"
    if not isinstance(raw, dict):
        raise _fail(where, "is missing")
    sections = _sections(raw, where)
    missing = set(Section) - set(sections)
    if missing:
        # Every product section must have a generic fallback, or an unknown server gets nothing.
        raise _fail(where, f"lacks section(s) {sorted(s.value for s in missing)}")
    return GenericAdvice(
        identify=_texts(raw, "identify", where, required=True),
        sections=sections,
        sources=_sources(raw, where, required=True),
    )


def parse_mail_servers(raw: Mapping[str, Any]) -> MailServerKnowledge:
    """Validate the parsed TOML document (pure; tests feed it tables)."""
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    servers_raw = raw.get("servers")
    if not isinstance(servers_raw, list) or not servers_raw:
        raise KnowledgeError(f"{DATA_FILE}: no [[servers]]")
    servers = tuple(_server(entry, index) for index, entry in enumerate(servers_raw))
    ids = [server.id for server in servers]
    for server_id in ids:
        if ids.count(server_id) > 1:
            raise _fail(f"server {server_id!r}", "is defined twice")
    advice_raw = raw.get("advice")
    if not isinstance(advice_raw, list):
        raise KnowledgeError(f"{DATA_FILE}: no [[advice]]")
    advice: dict[FindingCode, Advice] = {}
    for index, entry in enumerate(advice_raw):
        item = _advice(entry, index)
        if item.code in advice:
            raise _fail(f"advice {item.code.value}", "is defined twice")
        advice[item.code] = item
    return MailServerKnowledge(servers=servers, advice=advice, generic=_generic(raw.get("generic")))


@cache
def load_mail_servers() -> MailServerKnowledge:
    # A plain path, not importlib.resources: the package is never run from a zip, and the
    # resources machinery (zipfile and friends) costs start-up time on every check.
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_mail_servers(raw)

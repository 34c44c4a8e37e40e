"""The Postfix facts ``mailtls advise`` checks against, loaded from
``knowledge/data/postfix_tls.toml`` (validated at load, every table with its source)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError

DATA_FILE = "postfix_tls.toml"
SUPPORTED_SCHEMA = 1


def _version(text: object, where: str) -> tuple[int, int, int]:
    parts = str(text).split(".")
    if not 2 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise KnowledgeError(f"{DATA_FILE}: {where}: {text!r} is not a version")
    numbers = [int(part) for part in parts] + [0]
    return (numbers[0], numbers[1], numbers[2])


@dataclass(frozen=True)
class PostfixTlsFacts:
    openssl_tls12_minimum: tuple[int, int, int]
    openssl_source: str
    protocols_parameters_since: tuple[int, int, int]
    bounds_syntax_since: tuple[int, int, int]
    default_protocols: str
    protocols_source: str
    client_may_default_since: tuple[int, int, int]
    security_level_source: str
    default_loglevel: int
    logging_source: str


def _table(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = raw.get(name)
    if not isinstance(table, dict):
        raise KnowledgeError(f"{DATA_FILE}: missing table [{name}]")
    source = table.get("source")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise KnowledgeError(f"{DATA_FILE}: [{name}] has no https source URL")
    return table


def parse_postfix_tls(raw: Mapping[str, Any]) -> PostfixTlsFacts:
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    openssl = _table(raw, "openssl")
    protocols = _table(raw, "protocols")
    level = _table(raw, "security_level")
    logging = _table(raw, "logging")
    try:
        return PostfixTlsFacts(
            openssl_tls12_minimum=_version(openssl["tls12_minimum"], "[openssl]"),
            openssl_source=openssl["source"],
            protocols_parameters_since=_version(protocols["parameters_since"], "[protocols]"),
            bounds_syntax_since=_version(protocols["bounds_since"], "[protocols]"),
            default_protocols=str(protocols["default_since_3_6"]),
            protocols_source=protocols["source"],
            client_may_default_since=_version(
                level["client_may_default_since"], "[security_level]"
            ),
            security_level_source=level["source"],
            default_loglevel=int(logging["default_loglevel"]),
            logging_source=logging["source"],
        )
    except KeyError as missing:
        raise KnowledgeError(f"{DATA_FILE}: lacks {missing}") from None


@cache
def load_postfix_tls() -> PostfixTlsFacts:
    path = Path(__file__).resolve().parents[1] / "knowledge" / "data" / DATA_FILE
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_postfix_tls(raw)

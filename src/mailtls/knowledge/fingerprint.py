"""Which mail server product answers on an address: a guess from what it shows from outside.

:func:`guess_product` is pure: banner, EHLO keywords, certificate subject and MX host name in,
a :class:`ProductGuess` out, with the evidence it rests on. The rules live in
``data/products.toml`` (each product with its public source), validated once at load.

The input comes from servers we do not control, so nothing here may raise on it: every text is
cut to a bounded length before a regular expression sees it, and what is echoed back as evidence
or version is stripped of control characters.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError
from mailtls.models import Confidence, ProductGuess

DATA_FILE = "products.toml"
SUPPORTED_SCHEMA = 1

# A greeting worth reading is one line; 512 characters cover any real one and bound the work a
# hostile multi-kilobyte banner can cause.
MAX_MATCHED_CHARS = 512
MAX_SHOWN_CHARS = 60
HIGH_SCORE = 80
MEDIUM_SCORE = 50

_PRODUCT_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


UNKNOWN = ProductGuess(
    product=None, name="unknown", version=None, confidence=Confidence.NONE, evidence=()
)


@dataclass(frozen=True)
class BannerRule:
    pattern: re.Pattern[str]
    weight: int


@dataclass(frozen=True)
class EhloRule:
    all_of: frozenset[str]
    none_of: frozenset[str]
    weight: int


@dataclass(frozen=True)
class HostRule:
    suffix: str  # lower case, no leading or trailing dot
    weight: int


@dataclass(frozen=True)
class CertificateRule:
    pattern: re.Pattern[str]
    weight: int


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    parent: str | None
    source: str
    banner: tuple[BannerRule, ...]
    ehlo: tuple[EhloRule, ...]
    host: tuple[HostRule, ...]
    certificate: tuple[CertificateRule, ...]


# --- loading ---------------------------------------------------------------------------------


def _fail(where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{DATA_FILE}: {where}: {problem}")


def _https(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("https://"):
        raise _fail(where, "has no https source URL")
    return value


def _weight(entry: dict[str, Any], where: str) -> int:
    weight = entry.get("weight")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
        raise _fail(where, f"weight {weight!r} is not an integer from 1 to 100")
    return weight


def _regex(entry: dict[str, Any], where: str) -> re.Pattern[str]:
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise _fail(where, "has no pattern")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as problem:
        raise _fail(where, f"pattern {pattern!r} does not compile: {problem}") from None
    if set(compiled.groupindex) - {"version"}:
        raise _fail(where, "the only named group a pattern may have is 'version'")
    return compiled


def _keywords(entry: dict[str, Any], key: str, where: str) -> frozenset[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(word, str) and word for word in value):
        raise _fail(where, f"{key} must be a list of keywords")
    return frozenset(word.upper() for word in value)


def _rules(raw: dict[str, Any], key: str, where: str) -> list[tuple[dict[str, Any], str]]:
    entries = raw.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise _fail(where, f"{key} must be an array of tables")
    for index, entry in enumerate(entries):
        if "source" in entry:  # a rule may cite a more precise source than its product
            _https(entry["source"], f"{where} {key}[{index}]")
    return [(entry, f"{where} {key}[{index}]") for index, entry in enumerate(entries)]


def _product(raw: object, index: int) -> Product:
    where = f"products[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "is not a table")
    product_id = raw.get("id")
    if not isinstance(product_id, str) or not _PRODUCT_ID.fullmatch(product_id):
        raise _fail(where, f"id {product_id!r} is not a lower-case slug")
    where = f"product {product_id!r}"
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(where, "has no name")
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise _fail(where, "parent must be a product id")
    banner = tuple(
        BannerRule(_regex(entry, at), _weight(entry, at))
        for entry, at in _rules(raw, "banner", where)
    )
    ehlo = []
    for entry, at in _rules(raw, "ehlo", where):
        all_of = _keywords(entry, "all", at)
        if not all_of:
            raise _fail(at, "names no keyword in all")
        ehlo.append(EhloRule(all_of, _keywords(entry, "none", at), _weight(entry, at)))
    host = []
    for entry, at in _rules(raw, "host", where):
        suffix = entry.get("suffix")
        if not isinstance(suffix, str) or not suffix.strip("."):
            raise _fail(at, "has no suffix")
        host.append(HostRule(suffix.strip(".").lower(), _weight(entry, at)))
    certificate = tuple(
        CertificateRule(_regex(entry, at), _weight(entry, at))
        for entry, at in _rules(raw, "certificate", where)
    )
    if not (banner or ehlo or host or certificate):
        raise _fail(where, "has no rule")
    return Product(
        id=product_id,
        name=name,
        parent=parent,
        source=_https(raw.get("source"), where),
        banner=banner,
        ehlo=tuple(ehlo),
        host=tuple(host),
        certificate=certificate,
    )


def parse_products(raw: dict[str, Any]) -> tuple[Product, ...]:
    """Validate the parsed TOML document and build the products (pure; tests feed it tables)."""
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not {SUPPORTED_SCHEMA}")
    entries = raw.get("products")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{DATA_FILE}: no [[products]]")
    products = tuple(_product(entry, index) for index, entry in enumerate(entries))
    ids = [product.id for product in products]
    for product in products:
        if ids.count(product.id) > 1:
            raise _fail(f"product {product.id!r}", "is defined twice")
        if product.parent is not None:
            parent = next((p for p in products if p.id == product.parent), None)
            if parent is None:
                raise _fail(f"product {product.id!r}", f"parent {product.parent!r} is unknown")
            if parent.parent is not None:  # one level keeps scores easy to reason about
                raise _fail(f"product {product.id!r}", "a parent may not have a parent")
    return products


@cache
def load_products() -> tuple[Product, ...]:
    # A plain path, not importlib.resources: the package is never run from a zip, and the
    # resources machinery (zipfile and friends) costs start-up time on every check.
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_products(raw)


# --- guessing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Observed:
    banner: str
    keywords: frozenset[str]
    host: str
    certificate: str


@dataclass(frozen=True)
class _Match:
    weight: int
    evidence: str
    version: str | None = None


def _shown(text: str) -> str:
    """Server-controlled text made safe to print: printable ASCII, bounded."""
    cleaned = _UNPRINTABLE.sub(" ", text).strip()
    return cleaned[:MAX_SHOWN_CHARS] + ("…" if len(cleaned) > MAX_SHOWN_CHARS else "")


def _observe(
    banner: str | None,
    ehlo_keywords: Sequence[str],
    certificate_subject: str | None,
    host_name: str | None,
) -> _Observed:
    keywords = set()
    # Accept bare keywords ("X-EXPS") as well as whole EHLO lines ("X-EXPS GSSAPI NTLM").
    for line in list(ehlo_keywords)[:200]:
        if isinstance(line, str):
            words = line[:MAX_MATCHED_CHARS].split(None, 1)
            if words:
                keywords.add(words[0].upper())
    host = (host_name or "")[:MAX_MATCHED_CHARS].strip().rstrip(".").lower()
    return _Observed(
        banner=(banner or "")[:MAX_MATCHED_CHARS],
        keywords=frozenset(keywords),
        host=host,
        certificate=(certificate_subject or "")[:MAX_MATCHED_CHARS],
    )


def _matches(product: Product, seen: _Observed) -> list[_Match]:
    found = []
    for banner_rule in product.banner:
        hit = banner_rule.pattern.search(seen.banner)
        if hit:
            version = hit.groupdict().get("version")
            found.append(
                _Match(
                    banner_rule.weight,
                    f"banner matches {_shown(hit.group(0))!r}",
                    _shown(version) if version else None,
                )
            )
    for ehlo_rule in product.ehlo:
        if ehlo_rule.all_of <= seen.keywords and not ehlo_rule.none_of & seen.keywords:
            text = f"EHLO offers {', '.join(sorted(ehlo_rule.all_of))}"
            if ehlo_rule.none_of:
                text += f" but not {', '.join(sorted(ehlo_rule.none_of))}"
            found.append(_Match(ehlo_rule.weight, text))
    for host_rule in product.host:
        if seen.host == host_rule.suffix or seen.host.endswith("." + host_rule.suffix):
            found.append(_Match(host_rule.weight, f"host name is under {host_rule.suffix}"))
    for certificate_rule in product.certificate:
        hit = certificate_rule.pattern.search(seen.certificate)
        if hit:
            found.append(
                _Match(
                    certificate_rule.weight,
                    f"certificate subject matches {_shown(hit.group(0))!r}",
                )
            )
    return found


def _confidence(score: int) -> Confidence:
    if score >= HIGH_SCORE:
        return Confidence.HIGH
    if score >= MEDIUM_SCORE:
        return Confidence.MEDIUM
    return Confidence.LOW


def guess_from(
    products: Sequence[Product],
    banner: str | None,
    ehlo_keywords: Sequence[str],
    certificate_subject: str | None,
    host_name: str | None,
) -> ProductGuess:
    """:func:`guess_product` over a given rule set (tests pass their own products)."""
    seen = _observe(banner, ehlo_keywords, certificate_subject, host_name)
    own = {product.id: _matches(product, seen) for product in products}
    best: tuple[int, Product, list[_Match]] | None = None
    for product in products:
        if not own[product.id]:
            # A specific product (a version of its parent) needs evidence of its own.
            continue
        inherited = own.get(product.parent, []) if product.parent else []
        evidence = inherited + own[product.id]
        score = sum(match.weight for match in evidence)
        # Strictly greater: on a tie the product listed first in the data file wins.
        if best is None or score > best[0]:
            best = (score, product, evidence)
    if best is None:
        return UNKNOWN
    score, product, evidence = best
    version = next((match.version for match in evidence if match.version), None)
    return ProductGuess(
        product=product.id,
        name=product.name,
        version=version,
        confidence=_confidence(score),
        evidence=tuple(match.evidence for match in evidence),
    )


def guess_product(
    banner: str | None,
    ehlo_keywords: Sequence[str],
    certificate_subject: str | None,
    host_name: str | None,
) -> ProductGuess:
    """The likeliest product behind these observations, with the evidence; never raises on them.

    ``banner`` is the greeting text (with or without its ``220`` code), ``ehlo_keywords`` the
    EHLO extension keywords or whole EHLO lines, ``certificate_subject`` the leaf's subject
    (RFC 4514), ``host_name`` the MX host name the address was found under.
    """
    return guess_from(load_products(), banner, ehlo_keywords, certificate_subject, host_name)

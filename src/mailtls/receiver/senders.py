"""Which software a sending server runs, as far as its EHLO name and its headers tell.

Pure: the marks in ``data/sender_marks.toml`` (Received and X-Mailer patterns, each with its
sources) are checked first; without a match, the EHLO or reverse name goes through the
product rules the probes use (``mailtls.knowledge.fingerprint``, e.g. Exchange Online's
outbound host names). Header text is client-controlled: it is bounded before any pattern sees
it, and the evidence echoed back is sanitised.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mailtls.errors import KnowledgeError
from mailtls.knowledge.fingerprint import guess_product, load_products
from mailtls.models import Confidence, ProductGuess
from mailtls.receiver.models import HeaderSummary
from mailtls.receiver.sanitise import clean

DATA_FILE = "sender_marks.toml"
SUPPORTED_SCHEMA = 1
WHERE = ("received", "x_mailer")
MAX_MATCHED_CHARS = 512
HIGH_SCORE = 80
MEDIUM_SCORE = 50


@dataclass(frozen=True)
class SenderMark:
    product: str
    where: str
    pattern: re.Pattern[str]
    weight: int
    sources: tuple[str, ...]


def _fail(where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{DATA_FILE}: {where}: {problem}")


def _mark(entry: Any, index: int, product_names: dict[str, str]) -> SenderMark:
    where = f"marks[{index}]"
    if not isinstance(entry, dict):
        raise _fail(where, "is not a table")
    product = entry.get("product")
    if product not in product_names:
        raise _fail(where, f"product {product!r} is not in products.toml")
    place = entry.get("where")
    if place not in WHERE:
        raise _fail(where, f"where must be one of {', '.join(WHERE)}")
    try:
        pattern = re.compile(str(entry.get("pattern", "")), re.IGNORECASE)
    except re.error as problem:
        raise _fail(where, f"pattern does not compile: {problem}") from None
    if not pattern.pattern or set(pattern.groupindex) - {"version"}:
        raise _fail(where, "needs a pattern whose only named group is 'version'")
    weight = entry.get("weight")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
        raise _fail(where, f"weight {weight!r} is not an integer from 1 to 100")
    sources = entry.get("sources")
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(url, str) and url.startswith("https://") for url in sources)
    ):
        raise _fail(where, "needs https sources")
    return SenderMark(str(product), str(place), pattern, weight, tuple(sources))


def parse_marks(raw: dict[str, Any]) -> tuple[SenderMark, ...]:
    if raw.get("schema") != SUPPORTED_SCHEMA:
        raise KnowledgeError(f"{DATA_FILE}: schema {raw.get('schema')!r} is not supported")
    entries = raw.get("marks")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{DATA_FILE}: no [[marks]]")
    names = {product.id: product.name for product in load_products()}
    return tuple(_mark(entry, index, names) for index, entry in enumerate(entries))


@cache
def load_marks() -> tuple[SenderMark, ...]:
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise KnowledgeError(f"{DATA_FILE}: {problem}") from None
    return parse_marks(raw)


def _confidence(score: int) -> Confidence:
    if score >= HIGH_SCORE:
        return Confidence.HIGH
    return Confidence.MEDIUM if score >= MEDIUM_SCORE else Confidence.LOW


def guess_sender(
    helo: str | None,
    reverse_name: str | None,
    headers: HeaderSummary | None,
    marks: tuple[SenderMark, ...] | None = None,
) -> ProductGuess:
    """The likeliest product of the sending server; never raises on what a client sent."""
    marks = marks if marks is not None else load_marks()
    texts = {
        "received": (headers.first_received if headers else None) or "",
        "x_mailer": (headers.x_mailer if headers else None) or "",
    }
    best: tuple[SenderMark, re.Match[str]] | None = None
    for mark in marks:
        hit = mark.pattern.search(texts[mark.where][:MAX_MATCHED_CHARS])
        if hit and (best is None or mark.weight > best[0].weight):
            best = (mark, hit)
    if best is not None:
        mark, hit = best
        names = {product.id: product.name for product in load_products()}
        version = hit.groupdict().get("version")
        header = "Received" if mark.where == "received" else "X-Mailer"
        return ProductGuess(
            product=mark.product,
            name=names[mark.product],
            version=clean(version, 40) if version else None,
            confidence=_confidence(mark.weight),
            evidence=(f"{header} header matches {clean(hit.group(0), 60)!r}",),
        )
    for name in (helo, reverse_name):
        if name:
            guess = guess_product(None, (), None, name)
            if guess.product is not None:
                return guess
    return guess_product(None, (), None, None)

"""The mail server knowledge: the packaged data is complete and sourced, and bad data is refused."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mailtls.errors import KnowledgeError
from mailtls.knowledge.fingerprint import load_products
from mailtls.knowledge.mail_servers import (
    DATA_FILE,
    Section,
    load_mail_servers,
    parse_mail_servers,
)
from mailtls.models import FindingCode

RAW: dict[str, Any] = tomllib.loads(
    (Path(__file__).resolve().parents[3] / "src/mailtls/knowledge/data" / DATA_FILE).read_text(
        "utf-8"
    )
)

# Findings that need no action: an informational fact, the user's own choice (-4/-6), or news
# that what is published works (DANE records match, MTA-STS enforced and met).
NO_REMEDY = {
    FindingCode.TLS13_UNSUPPORTED,
    FindingCode.NULL_MX,
    FindingCode.NO_ADDRESS_IN_FAMILY,
    FindingCode.DANE_VALID,
    FindingCode.MTA_STS_ENFORCED,
}
# Entries for products the fingerprint does not tell apart (yet): advice can still name them.
EXTRA_IDS = {"qmail", "cisco-esa"}
MAIN_MTAS = ("postfix", "exim", "sendmail", "opensmtpd", "exchange-2013-or-later")


def test_the_packaged_data_loads() -> None:
    knowledge = load_mail_servers()
    assert knowledge.server("postfix") is not None
    assert knowledge.server("no-such-product") is None
    assert knowledge.server(None) is None


def test_every_entry_and_section_in_the_data_file_has_https_sources() -> None:
    for entry in RAW["servers"]:
        assert entry["sources"], entry["id"]
        assert all(url.startswith("https://") for url in entry["sources"]), entry["id"]
        for section in Section:
            for url in entry.get(section.value, {}).get("sources", []):
                assert url.startswith("https://"), (entry["id"], section)
    for advice in RAW["advice"]:
        assert advice["sources"], advice["code"]
        assert all(url.startswith("https://") for url in advice["sources"]), advice["code"]


def test_every_fingerprinted_product_has_an_entry() -> None:
    knowledge = load_mail_servers()
    fingerprinted = {product.id for product in load_products()}
    known = {server.id for server in knowledge.servers}
    assert fingerprinted <= known
    assert known - fingerprinted == EXTRA_IDS


def test_every_finding_code_has_advice_unless_it_calls_for_nothing() -> None:
    advice = load_mail_servers().advice
    assert set(FindingCode) - set(advice) == NO_REMEDY


@pytest.mark.parametrize("product", MAIN_MTAS)
def test_the_main_mtas_say_how_to_enable_tls12_and_turn_off_legacy_on_both_sides(
    product: str,
) -> None:
    server = load_mail_servers().server(product)
    assert server is not None
    assert server.tls12_minimum
    assert server.find_version
    assert server.tls_logging
    for section in (Section.ENABLE_TLS12, Section.DISABLE_LEGACY):
        settings = server.settings(section)
        assert settings is not None, section
        assert settings.server, section
        assert settings.client, section


def test_hosted_services_carry_whom_to_tell_instead_of_settings() -> None:
    knowledge = load_mail_servers()
    hosted = {server.id for server in knowledge.servers if server.hosted}
    assert {"exchange-online", "google", "mimecast", "proofpoint-essentials"} <= hosted
    for server_id in hosted:
        server = knowledge.server(server_id)
        assert server is not None
        assert server.contact
        assert not server.sections


def test_powershell_braces_are_text_not_placeholders() -> None:
    server = load_mail_servers().server("exchange-2010-or-older")
    assert server is not None
    assert any("{$_.FileVersionInfo}" in line for line in server.find_version)


# --- validation ----------------------------------------------------------------------------------


def _document(**changes: Any) -> dict[str, Any]:
    """The packaged document with top-level changes, or a changed first server (``server=``)."""
    document = copy.deepcopy(RAW)
    server_changes = changes.pop("server", None)
    if server_changes is not None:
        document["servers"][0].update(server_changes)
    advice_changes = changes.pop("advice", None)
    if advice_changes is not None:
        document["advice"][0].update(advice_changes)
    document.update(changes)
    return document


def test_the_unchanged_document_is_valid() -> None:
    assert len(parse_mail_servers(_document()).servers) == len(RAW["servers"])


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_document(schema=2), "schema 2"),
        (_document(servers=[]), "no [[servers]]"),
        (_document(server={"sources": []}), "no https source"),
        (_document(server={"sources": ["http://example.org/plain"]}), "not an https URL"),
        (_document(server={"name": ""}), "has no name"),
        (_document(server={"colour": "red"}), "unknown key"),
        (_document(server={"hosted": "yes"}), "hosted must be"),
        (_document(server={"hosted": True, "contact": ["Ask them."]}), "no settings of its own"),
        (_document(server={"enable_tls12": {"sources": []}}), "has no step"),
        (_document(server={"enable_tls12": {"server": [""]}}), "empty text"),
        (_document(server={"enable_tls12": {"server": ["Set {mx_hots}."]}}), "unknown placeholder"),
        (_document(server={"id": RAW["servers"][1]["id"]}), "defined twice"),
        (_document(advice={"code": "NOT_A_CODE"}), "not a finding code"),
        (_document(advice={"section": "firewall"}), "section 'firewall' is unknown"),
        (_document(advice={"sources": []}), "no https source"),
        (_document(advice={"conditional": [{"when": "full_moon", "step": "x"}]}), "unknown"),
        (_document(advice={"code": RAW["advice"][1]["code"]}), "defined twice"),
        (_document(advice={"section": None, "steps": []}), "neither steps nor a section"),
        (_document(generic={"identify": ["x"], "sources": ["https://example.org"]}), "lacks"),
    ],
)
def test_invalid_data_is_refused_with_the_entry_named(
    document: dict[str, Any], problem: str
) -> None:
    if document.get("advice") and document["advice"][0].get("section") is None:
        document["advice"][0].pop("section", None)
    with pytest.raises(KnowledgeError, match=r"mail_servers\.toml") as raised:
        parse_mail_servers(document)
    assert problem in str(raised.value)

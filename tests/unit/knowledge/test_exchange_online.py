"""Exchange Online's policy: the packaged facts, their sources, and validation of bad data."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mailtls.errors import KnowledgeError
from mailtls.knowledge.exchange_online import (
    DATA_FILE,
    load_exchange_online_policy,
    parse_policy,
)
from mailtls.knowledge.fingerprint import load_products
from mailtls.models import TlsVersion

RAW: dict[str, Any] = tomllib.loads(
    (Path(__file__).resolve().parents[3] / "src/mailtls/knowledge/data" / DATA_FILE).read_text(
        "utf-8"
    )
)
POLICY = load_exchange_online_policy()


def test_every_table_and_entry_has_an_https_source() -> None:
    tables = [value for value in RAW.values() if isinstance(value, dict)]
    entries = [entry for value in RAW.values() if isinstance(value, list) for entry in value]
    for item in tables + entries:
        assert str(item.get("source", "")).startswith("https://"), item
        assert all(url.startswith("https://") for url in item.get("sources", [])), item


def test_tls12_is_the_minimum_since_january_2021_with_plaintext_fallback() -> None:
    assert POLICY.minimum_version is TlsVersion.TLS1_2
    assert POLICY.enforced_since == date(2021, 1, 11)
    assert POLICY.opportunistic
    assert RAW["delivery"]["without_common_tls"] == "plaintext"
    assert RAW["delivery"]["with_forced_tls_connector"] == "fails"


def test_the_cipher_suites_are_microsofts_eight_in_its_order() -> None:
    assert [suite.iana for suite in POLICY.tls12_cipher_suites] == [
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
    ]
    assert [suite.forward_secrecy for suite in POLICY.tls12_cipher_suites] == [True] * 6 + [
        False
    ] * 2
    assert POLICY.openssl_cipher_string.startswith("ECDHE-RSA-AES256-GCM-SHA384:")
    assert POLICY.accepts_cipher("AES128-GCM-SHA256")
    assert not POLICY.accepts_cipher("ECDHE-RSA-CHACHA20-POLY1305")


def test_the_timeline_is_ordered_and_holds_the_enforcement_date() -> None:
    dates = [event.when for event in POLICY.timeline]
    assert dates == sorted(dates)
    assert POLICY.enforced_since in dates
    assert not POLICY.sha1_certificates_accepted


def test_dane_facts_agree_with_the_fingerprint_of_exchange_online() -> None:
    assert POLICY.dane is not None
    assert POLICY.dane.inbound_since == date(2024, 10, 28)
    exchange_online = next(p for p in load_products() if p.id == "exchange-online")
    suffixes = {rule.suffix for rule in exchange_online.host}
    assert {POLICY.dane.signed_mx_suffix, POLICY.dane.legacy_mx_suffix} == suffixes


def test_the_onprem_enforcement_is_known() -> None:
    assert POLICY.onprem_enforcement is not None
    assert POLICY.onprem_enforcement.throttles_then_blocks
    assert POLICY.onprem_enforcement.check_command == "Get-OnPremServerReportInfo"


def _changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(RAW)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_changed(("schema",), 9), "schema 9"),
        (_changed(("tls_policy", "source"), "http://example.org"), "no https source"),
        (_changed(("tls12_cipher_suites", 0, "source"), None), "no https source"),
        (_changed(("timeline", 0, "date"), "2030-01-01"), "not in date order"),
        (_changed(("timeline", 1, "source"), None), "no https source"),
        (_changed(("dane", "sources"), ["ftp://example.org"]), "not an https URL"),
        (_changed(("dane", "inbound_since"), "soon"), "[dane] is invalid"),
        (_changed(("onprem_enforcement", "check_command"), None), "no check_command"),
        (_changed(("timeline",), []), "no [[timeline]]"),
    ],
)
def test_invalid_data_is_refused(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(KnowledgeError) as raised:
        parse_policy(document)
    assert problem in str(raised.value)

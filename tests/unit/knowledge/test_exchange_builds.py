"""Exchange builds: parsing every common form, lookups at and around the TLS thresholds."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.errors import KnowledgeError
from mailtls.knowledge import exchange_builds
from mailtls.knowledge.exchange_builds import (
    BuildNumber,
    BuildStatus,
    ExchangeCapability,
    load_exchange_builds,
    lookup_build,
    parse_exchange_build,
    parse_exchange_builds,
)

SMTP, TLS12, DISABLE, TLS13 = (
    ExchangeCapability.SMTP_ANY_TLS,
    ExchangeCapability.TLS12,
    ExchangeCapability.DISABLE_LEGACY,
    ExchangeCapability.TLS13,
)
RAW = tomllib.loads(
    (Path(exchange_builds.__file__).parent / "data" / "exchange_builds.toml").read_text("utf-8")
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15.1.2507.6", "15.1.2507.6"),
        ("15.01.2507.006", "15.1.2507.6"),
        ("Version 15.1 (Build 2507.6)", "15.1.2507.6"),
        ("Version 15.2 (Build 1748.10)", "15.2.1748.10"),
        ("14.3.513.0", "14.3.513.0"),
        ("Version 14.3 (Build 513.0)", "14.3.513.0"),
        ("AdminDisplayVersion : Version 15.0 (Build 1497.2)", "15.0.1497.2"),
        # Get-Command ExSetup | ForEach {$_.FileVersionInfo}
        (
            "ProductVersion   FileVersion      FileName\n--------------   -----------      --------\n15.02.1544.004   15.02.1544.004   C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe",
            "15.2.1544.4",
        ),
        ("  15.2.2562.17\r\n", "15.2.2562.17"),
    ],
)
def test_every_common_build_form_parses(text: str, expected: str) -> None:
    assert str(parse_exchange_build(text)) == expected


@pytest.mark.parametrize(
    "text", ["", "Exchange 2016 CU23", "15.1.2507", "1.2.3.4.5", "15.1.99999999.1", "version 15"]
)
def test_text_without_a_build_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="build"):
        parse_exchange_build(text)


def capabilities(text: str) -> tuple[bool | None, bool | None, bool | None, bool | None]:
    found = lookup_build(parse_exchange_build(text)).capabilities
    return (found[SMTP], found[TLS12], found[DISABLE], found[TLS13])


# The seed table: below and at every threshold, and current builds.
@pytest.mark.parametrize(
    ("build", "name", "expected"),
    [
        ("14.3.224.2", "SP3 RU8v2", (False, False, False, None)),
        ("14.3.235.1", "SP3 RU9", (True, False, False, None)),
        ("14.3.361.1", "SP3 RU18", (True, False, False, None)),
        ("14.3.382.0", "SP3 RU19", (True, True, False, None)),
        ("14.3.389.1", "SP3 RU20", (True, True, True, None)),
        ("14.3.513.0", "SP3 RU32", (True, True, True, None)),
        ("15.0.1044.25", "CU7", (False, False, False, None)),
        ("15.0.1076.9", "CU8", (True, False, False, None)),
        ("15.0.1347.2", "CU18", (True, False, False, None)),
        ("15.0.1365.1", "CU19", (True, True, False, None)),
        ("15.0.1367.3", "CU20", (True, True, True, None)),
        ("15.0.1497.48", "CU23 Mar23SU", (True, True, True, None)),
        ("15.1.1261.35", "CU7", (None, False, False, None)),
        ("15.1.1415.2", "CU8", (None, True, False, None)),
        ("15.1.1466.3", "CU9", (None, True, True, None)),
        ("15.1.2507.6", "CU23", (None, True, True, None)),
        ("15.1.2507.66", "CU23 Feb26SU", (None, True, True, None)),
        ("15.2.221.12", "RTM", (None, True, True, False)),
        ("15.2.1544.4", "CU14", (None, True, True, False)),
        ("15.2.1748.10", "CU15", (None, True, True, True)),
        ("15.2.1748.43", "CU15 Feb26SU", (None, True, True, True)),
        ("15.2.2562.17", "RTM", (None, True, True, True)),
        ("15.2.2562.37", "RTM Feb26SU", (None, True, True, True)),
    ],
)  # fmt: skip
def test_known_builds_and_their_tls_capabilities(
    build: str, name: str, expected: tuple[bool | None, ...]
) -> None:
    found = lookup_build(parse_exchange_build(build))
    assert found.status is BuildStatus.KNOWN
    assert found.exact is not None
    assert found.exact.name == name
    assert capabilities(build) == expected


def test_versions_are_told_apart_by_build_range() -> None:
    assert lookup_build(parse_exchange_build("15.2.2561.0")).version.id == "exchange-2019"  # type: ignore[union-attr]
    assert lookup_build(parse_exchange_build("15.2.2562.0")).version.id == "exchange-se"  # type: ignore[union-attr]


def test_a_build_between_known_builds_says_so_and_keeps_the_lower_builds_capabilities() -> None:
    found = lookup_build(parse_exchange_build("15.0.1365.2"))  # a hotfix after CU19
    assert found.status is BuildStatus.BETWEEN
    assert found.floor is not None
    assert found.floor.name == "CU19"
    assert found.ceiling is not None
    assert found.ceiling.name == "CU19 Mar18SU"
    assert "between known builds CU19" in found.description
    assert found.capabilities[TLS12] is True
    assert found.capabilities[DISABLE] is False


def test_a_build_newer_than_the_data_is_not_presented_as_a_known_one() -> None:
    found = lookup_build(parse_exchange_build("15.2.2562.999"))
    assert found.status is BuildStatus.NEWER
    assert found.exact is None
    assert "newer than my data" in found.description


def test_builds_before_exchange_2010_sp3_are_older_than_the_data() -> None:
    found = lookup_build(parse_exchange_build("14.2.390.3"))
    assert found.status is BuildStatus.OLDER
    assert found.capabilities[TLS12] is False


@pytest.mark.parametrize("text", ["8.3.517.0", "15.3.1.0", "16.0.100.1"])
def test_a_build_of_no_known_version_is_unknown(text: str) -> None:
    found = lookup_build(parse_exchange_build(text))
    assert found.status is BuildStatus.UNKNOWN
    assert found.version is None
    assert set(found.capabilities.values()) == {None}
    assert "unknown" in found.description


def test_support_end_dates() -> None:
    data = load_exchange_builds()
    assert str(data.version("exchange-2010").end_of_support) == "2020-10-13"
    assert str(data.version("exchange-2013").end_of_support) == "2023-04-11"
    assert str(data.version("exchange-2016").end_of_support) == "2025-10-14"
    assert data.version("exchange-se").end_of_support is None


def test_build_numbers_sort_as_numbers() -> None:
    assert BuildNumber(15, 1, 999, 0) < BuildNumber(15, 1, 1000, 0)


def every_table(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every versions/milestones/builds entry of the document."""
    return [
        (f"{key}[{i}]", entry)
        for key in ("versions", "milestones", "builds")
        for i, entry in enumerate(node[key])
    ]


@pytest.mark.parametrize(("where", "entry"), every_table(RAW))
def test_every_entry_has_an_https_source(where: str, entry: dict[str, Any]) -> None:
    assert str(entry.get("source", "")).startswith("https://"), where


@pytest.mark.parametrize("section", ["versions", "milestones", "builds"])
def test_an_entry_without_a_source_is_refused_at_load(section: str) -> None:
    raw = copy.deepcopy(RAW)
    del raw[section][0]["source"]
    with pytest.raises(KnowledgeError, match="source"):
        parse_exchange_builds(raw)


def test_updates_without_a_source_and_builds_out_of_order_are_refused() -> None:
    raw = copy.deepcopy(RAW)
    with_updates = next(b for b in raw["builds"] if b.get("updates"))
    del with_updates["updates_source"]
    with pytest.raises(KnowledgeError, match="updates_source"):
        parse_exchange_builds(raw)
    raw = copy.deepcopy(RAW)
    raw["builds"][1], raw["builds"][2] = raw["builds"][2], raw["builds"][1]
    with pytest.raises(KnowledgeError, match="not newer"):
        parse_exchange_builds(raw)


def test_a_milestone_must_name_a_known_build() -> None:
    raw = copy.deepcopy(RAW)
    raw["milestones"][0]["from"] = "SP3 RU99"
    with pytest.raises(KnowledgeError, match="RU99"):
        parse_exchange_builds(raw)


@given(st.text(max_size=200))
def test_parsing_never_raises_anything_but_value_error(text: str) -> None:
    try:
        build = parse_exchange_build(text)
    except ValueError:
        return
    lookup_build(build)

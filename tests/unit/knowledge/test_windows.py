"""Windows Server releases: recognition, TLS defaults, updates and registry targets."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.errors import KnowledgeError
from mailtls.knowledge import windows
from mailtls.knowledge.windows import (
    ProtocolDefault,
    UpdatePurpose,
    identify_windows,
    load_windows,
    parse_windows,
)
from mailtls.models import TlsVersion

RAW = tomllib.loads((Path(windows.__file__).parent / "data" / "windows.toml").read_text("utf-8"))
ON, OFF, NONE = ProtocolDefault.ENABLED, ProtocolDefault.DISABLED, ProtocolDefault.UNSUPPORTED


@pytest.mark.parametrize(
    ("caption", "version", "release"),
    [
        ("Microsoft® Windows Server® 2008 Standard", "6.0.6002 Service Pack 2 Build 6002", "windows-server-2008-sp2"),
        ("Microsoft Windows Server 2008 Enterprise", "6.0.6003 Service Pack 2 Build 6003", "windows-server-2008-sp2"),
        ("Microsoft Windows Server 2008 Standard", "6.0.6001 Service Pack 1 Build 6001", "windows-server-2008"),
        ("Microsoft Windows Server 2008 R2 Standard", "6.1.7601 Service Pack 1 Build 7601", "windows-server-2008-r2"),
        ("Microsoft Windows Server 2012 Datacenter", None, "windows-server-2012"),
        ("Microsoft Windows Server 2012 R2 Standard", "6.3.9600 N/A Build 9600", "windows-server-2012-r2"),
        ("Microsoft Windows Server 2016 Standard", "10.0.14393 N/A Build 14393", "windows-server-2016"),
        (None, "10.0.17763", "windows-server-2019"),
        ("Microsoft Windows Server 2022 Datacenter", None, "windows-server-2022"),
        (None, "26100", "windows-server-2025"),
        ("Windows Server 2008 SP2", None, "windows-server-2008-sp2"),
    ],
)  # fmt: skip
def test_releases_are_recognised(caption: str | None, version: str | None, release: str) -> None:
    found = identify_windows(caption, version)
    assert found.release is not None
    assert found.release.id == release


@pytest.mark.parametrize(
    ("caption", "version", "says"),
    [
        ("Windows Server 2008", None, "give the build number"),
        ("Windows Server 2016", "6.3.9600", "different releases"),
        (None, "10.0.99999", "not in my data"),
        ("Microsoft Windows 11 Pro", None, "no Windows Server release"),
    ],
)
def test_what_cannot_be_recognised_is_said_not_guessed(
    caption: str | None, version: str | None, says: str
) -> None:
    found = identify_windows(caption, version)
    assert found.release is None
    assert says in found.detail


# The seed table: TLS 1.2 default and the updates each release needs.
@pytest.mark.parametrize(
    ("release", "tls12", "tls13", "updates"),
    [
        ("windows-server-2008", NONE, NONE, ()),
        ("windows-server-2008-sp2", OFF, NONE, ("KB4019276", "KB3154517")),
        ("windows-server-2008-r2", OFF, NONE, ("KB3154518", "KB3140245", "KB3080079")),
        ("windows-server-2012", ON, NONE, ("KB3154519", "KB3140245", "KB3161949", "KB2973337")),
        ("windows-server-2012-r2", ON, NONE, ("KB3154520", "KB3161949", "KB2973337")),
        ("windows-server-2016", ON, NONE, ()),
        ("windows-server-2019", ON, NONE, ()),
        ("windows-server-2022", ON, ON, ()),
        ("windows-server-2025", ON, ON, ()),
    ],
)  # fmt: skip
def test_tls_defaults_and_updates_per_release(
    release: str, tls12: ProtocolDefault, tls13: ProtocolDefault, updates: tuple[str, ...]
) -> None:
    found = load_windows().release(release)
    assert found.defaults[TlsVersion.TLS1_2] is tls12
    assert found.defaults[TlsVersion.TLS1_3] is tls13
    assert found.updates == updates


def test_winhttp_value_is_needed_only_where_kb3140245_applies() -> None:
    data = load_windows()
    needing = {r.id for r in data.releases if data.needs_winhttp_value(r)}
    assert needing == {"windows-server-2008-r2", "windows-server-2012"}
    assert data.updates["KB3140245"].purpose is UpdatePurpose.WINHTTP


def test_every_named_kb_says_what_it_does() -> None:
    updates = load_windows().updates
    for kb in (
        "KB3154517",
        "KB3154518",
        "KB3154519",
        "KB3154520",
        "KB3140245",
        "KB3161949",
        "KB2973337",
        "KB4019276",
        "KB3080079",
    ):
        assert updates[kb].what, kb
        assert updates[kb].title, kb
    assert updates["KB3154520"].superseded_by_later_updates


def test_registry_targets_cover_schannel_dotnet_both_views_and_winhttp() -> None:
    data = load_windows()
    keys = {target.key for target in data.registry}
    for runtime in ("v2.0.50727", "v4.0.30319"):
        assert f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\{runtime}" in keys
        assert (
            f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\{runtime}"
            in keys
        )
    assert any(key.endswith("Internet Settings\\WinHttp") and "Wow6432Node" in key for key in keys)
    tls12 = data.targets("schannel-tls12-enable")
    assert {t.key.rsplit("\\", 1)[1] for t in tls12} == {"Client", "Server"}
    assert all(t.values == {"DisabledByDefault": 0, "Enabled": 1} for t in tls12)
    assert all(
        t.values == {"DisabledByDefault": 1, "Enabled": 0}
        for t in data.targets("schannel-tls10-disable")
    )
    assert data.targets("winhttp-tls11-tls12")[0].values == {"DefaultSecureProtocols": 0xA00}
    assert set(data.emit) == {"enable-tls12", "disable-tls10-tls11"}


def entries(raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [
        (f"{key}[{i}]", e)
        for key in ("releases", "updates", "registry")
        for i, e in enumerate(raw[key])
    ]
    return found + [(f"emit.{name}", e) for name, e in raw["emit"].items()]


@pytest.mark.parametrize(("where", "entry"), entries(RAW))
def test_every_entry_has_an_https_source(where: str, entry: dict[str, Any]) -> None:
    assert str(entry.get("source", "")).startswith("https://"), where


@pytest.mark.parametrize("section", ["releases", "updates", "registry"])
def test_an_entry_without_a_source_is_refused_at_load(section: str) -> None:
    raw = copy.deepcopy(RAW)
    del raw[section][0]["source"]
    with pytest.raises(KnowledgeError, match="source"):
        parse_windows(raw)


def test_a_release_naming_an_undescribed_update_is_refused() -> None:
    raw = copy.deepcopy(RAW)
    raw["releases"][1]["updates"].append("KB1234567")
    with pytest.raises(KnowledgeError, match="KB1234567"):
        parse_windows(raw)


@given(st.one_of(st.none(), st.text(max_size=80)), st.one_of(st.none(), st.text(max_size=40)))
def test_identification_never_raises(caption: str | None, version: str | None) -> None:
    identify_windows(caption, version)

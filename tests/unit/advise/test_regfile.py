"""--emit-reg: files in regedit's own format, read back by the export parser."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mailtls.advise.analyse import AdviseInputs, WindowsText, analyse
from mailtls.advise.models import TlsConfiguration
from mailtls.advise.regfile import DISABLE_WARNING, build_reg_file
from mailtls.advise.registry import merge_registry
from mailtls.advise.textio import decode
from mailtls.knowledge.windows import load_windows
from mailtls.models import TlsVersion


def read_back(content: bytes):  # type: ignore[no-untyped-def]
    return merge_registry([("emitted.reg", decode(content, "emitted.reg"))])


@pytest.mark.parametrize("kind", ["enable-tls12", "disable-tls10-tls11"])
@pytest.mark.parametrize(
    "release", [None, "windows-server-2008-r2", "windows-server-2012", "windows-server-2019"]
)
def test_emitted_files_round_trip_through_the_parser(kind: str, release: str | None) -> None:
    data = load_windows()
    emitted = build_reg_file(kind, data.release(release) if release else None)
    assert emitted.content.startswith(
        b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le")
    )
    text = emitted.content[2:].decode("utf-16-le")
    assert "\n" not in text.replace("\r\n", "")
    assert text.endswith("\r\n\r\n")
    snapshot = read_back(emitted.content)
    for target in emitted.targets:
        for name, value in target.values.items():
            found = snapshot.value(target.key, name)
            assert found is not None
            assert found.data == value
    winhttp = any("WinHttp" in t.key for t in emitted.targets)
    assert winhttp is (release in ("windows-server-2008-r2", "windows-server-2012"))


def test_enable_file_makes_tls12_enabled_and_dotnet_consistent() -> None:
    emitted = build_reg_file("enable-tls12", load_windows().release("windows-server-2012"))
    report = analyse(
        AdviseInputs(
            windows=WindowsText("Windows Server 2012"), registry=read_back(emitted.content)
        ),
        today=date(2026, 11, 28),
        generated_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    tls12 = next(s for s in report.tls_versions if s.version is TlsVersion.TLS1_2)
    assert tls12.configuration is TlsConfiguration.ENABLED
    assert report.dotnet is not None
    assert report.dotnet.consistent
    assert not [
        i for i in report.checklist if i.code.startswith(("DOTNET", "WINHTTP", "SCHANNEL_TLS12"))
    ]


def test_disable_file_turns_legacy_off_and_carries_the_logs_warning() -> None:
    emitted = build_reg_file("disable-tls10-tls11", None)
    assert DISABLE_WARNING in emitted.notes
    assert "mailtls logs" in emitted.content.decode("utf-16")
    report = analyse(
        AdviseInputs(registry=read_back(emitted.content)),
        today=date(2026, 11, 28),
        generated_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    states = {s.version: s.configuration for s in report.tls_versions}
    assert states[TlsVersion.TLS1_0] is TlsConfiguration.DISABLED
    assert states[TlsVersion.TLS1_1] is TlsConfiguration.DISABLED
    assert states[TlsVersion.TLS1_2] is TlsConfiguration.ENABLED

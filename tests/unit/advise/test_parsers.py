"""Input parsers: registry exports, systeminfo and hotfix lists, Postfix configuration."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.advise.errors import InputError
from mailtls.advise.hotfixes import parse_hotfixes, parse_systeminfo
from mailtls.advise.models import RegistryValueKind
from mailtls.advise.postfix import (
    parse_mail_version,
    parse_openssl_version,
    parse_postfix_config,
    protocol_range,
)
from mailtls.advise.registry import merge_registry, parse_registry_export
from mailtls.advise.textio import decode
from mailtls.models import TlsVersion
from tests.unit.advise import samples
from tests.unit.advise.samples import NET4, PROTOCOLS, regedit4_bytes, regedit_bytes

V10, V11, V12, V13 = TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3


def snapshot(*files: bytes):  # type: ignore[no-untyped-def]
    return merge_registry(
        [(f"file{i}.reg", decode(data, f"file{i}.reg")) for i, data in enumerate(files, 1)]
    )


# --- registry -----------------------------------------------------------------------------------


def test_a_utf16_export_as_regedit_writes_it() -> None:
    data = regedit_bytes(samples.schannel_export(tls12=(1, 0)))
    assert data.startswith(b"\xff\xfe")
    found = snapshot(data)
    assert found.value(PROTOCOLS + r"\TLS 1.2\Server", "Enabled").data == 1  # type: ignore[union-attr]
    assert found.value(PROTOCOLS + r"\TLS 1.2\Client", "disabledbydefault").data == 0  # type: ignore[union-attr]
    assert found.covers(PROTOCOLS + r"\TLS 1.0")  # below the exported SCHANNEL key
    assert not found.covers(NET4)


def test_regedit4_ansi_and_every_value_kind() -> None:
    body = "\n".join(
        [
            r"[HKLM\SOFTWARE\Test]",
            '"Dword"=dword:0000000a',
            '"Text"="C:\\\\Program Files\\\\caf\xe9 \\"quoted\\""',
            '"Qword"=hex(b):0a,00,00,00,00,00,00,00',
            '"Binary"=hex:01,02,\\',
            "  03,04",
            '"Expand"=hex(2):25,53,79,73,74,65,6d,52,6f,6f,74,25,00',
            '"Multi"=hex(7):61,00,62,00,00',
            '"LittleDword"=hex(4):01,00,00,00',
            '@="default"',
        ]
    )
    found = snapshot(regedit4_bytes(body))
    key = found.key(r"HKEY_LOCAL_MACHINE\SOFTWARE\Test")
    assert key is not None
    values = {v.name: (v.kind, v.data) for v in key.values.values()}
    assert values == {
        "Dword": (RegistryValueKind.DWORD, 10),
        "Text": (RegistryValueKind.STRING, 'C:\\Program Files\\caf\xe9 "quoted"'),
        "Qword": (RegistryValueKind.QWORD, 10),
        "Binary": (RegistryValueKind.BINARY, b"\x01\x02\x03\x04"),
        "Expand": (RegistryValueKind.EXPAND_STRING, "%SystemRoot%"),
        "Multi": (RegistryValueKind.MULTI_STRING, ("a", "b")),
        "LittleDword": (RegistryValueKind.DWORD, 1),
        "": (RegistryValueKind.STRING, "default"),
    }


def test_unicode_hex2_in_version_5_files_is_utf16() -> None:
    body = '[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"E"=hex(2):25,00,54,00,25,00,00,00'
    assert snapshot(regedit_bytes(body)).value(r"HKEY_LOCAL_MACHINE\SOFTWARE\T", "E").data == "%T%"  # type: ignore[union-attr]


def test_several_files_merge_in_order_with_deletions() -> None:
    first = regedit_bytes(samples.schannel_export(tls10=(1, 0), tls12=(1, 0)))
    second = regedit_bytes(
        "\n".join(
            [
                f"[-{PROTOCOLS}\\TLS 1.0]",
                f"[{PROTOCOLS}\\TLS 1.2\\Server]",
                '"Enabled"=-',
                '"DisabledByDefault"=dword:00000001',
            ]
        )
    )
    found = snapshot(first, second)
    assert found.key(PROTOCOLS + r"\TLS 1.0\Client") is None
    assert found.value(PROTOCOLS + r"\TLS 1.2\Server", "Enabled") is None
    server = found.value(PROTOCOLS + r"\TLS 1.2\Server", "DisabledByDefault")
    assert server is not None
    assert server.data == 1
    assert server.origin == "file2.reg:6"
    assert found.value(PROTOCOLS + r"\TLS 1.2\Client", "Enabled").data == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"A"=dword:1\n"B"=word:2', 5, "unknown value"),
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"A"=hex:01,0', 4, "malformed hex"),
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"A"=hex:01,\\', 4, "past the end"),
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T\n"A"=dword:1', 3, "closing ']'"),
        ('"A"=dword:00000001', 3, "outside a key"),
        ("[SOFTWARE\\T]", 3, "no registry root"),
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"A"="unterminated', 4, "closing quote"),
        ("[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\nrandom words", 4, "not a registry line"),
        ('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"Q"=hex(b):01,02', 4, "needs 8 bytes"),
    ],
)
def test_malformed_and_truncated_exports_name_file_and_line(
    body: str, line: int, says: str
) -> None:
    text = decode(regedit_bytes(body), "file1.reg").rstrip("\r\n")  # cut where the body ends
    with pytest.raises(InputError, match=says) as caught:
        merge_registry([("file1.reg", text)])
    assert caught.value.line == line
    assert str(caught.value).startswith(f"file1.reg:{line}: ")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# a main.cf\nmyhostname = x\n",
        "PK\x03\x04 a zip",
        "Windows Registry Editor Version 4.00\n",
    ],
)
def test_foreign_files_are_refused_as_not_an_export(text: str) -> None:
    with pytest.raises(InputError, match=r"not a registry export|empty"):
        parse_registry_export(text, "x.reg")


def test_utf16_cut_in_the_middle_of_a_character_is_reported() -> None:
    data = regedit_bytes("[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]")[:-1]
    with pytest.raises(InputError, match="truncated"):
        decode(data, "cut.reg")


@given(st.text(max_size=300))
def test_random_text_never_raises_anything_but_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_registry_export(text, "random.reg")


@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_input_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        merge_registry([("random.reg", decode(data, "random.reg"))])


@given(st.integers(min_value=0, max_value=400), st.text(alphabet='\\"[]=:,-x0dw@ ;\n', max_size=4))
def test_mutated_exports_never_raise_anything_but_input_error(position: int, insert: str) -> None:
    text = decode(regedit_bytes(samples.schannel_export(tls10=(0, 1), tls12=(1, 0))), "m.reg")
    position = min(position, len(text))
    with contextlib.suppress(InputError):
        parse_registry_export(text[:position] + insert + text[position:], "m.reg")


# --- systeminfo and hotfix lists -------------------------------------------------------------


def test_systeminfo_gives_os_and_hotfixes() -> None:
    facts = parse_systeminfo(samples.SYSTEMINFO_2012R2, "si.txt")
    assert facts.os_name == "Microsoft Windows Server 2012 R2 Standard"
    assert facts.os_version == "6.3.9600 N/A Build 9600"
    assert facts.hotfixes is not None
    assert facts.hotfixes.kbs == {"KB2919355", "KB2973337", "KB3161949", "KB5041828"}


def test_systeminfo_of_2008_with_registered_signs() -> None:
    facts = parse_systeminfo(samples.SYSTEMINFO_2008_SP2, "si.txt")
    assert facts.os_name == "Microsoft\u00ae Windows Server\u00ae 2008 Standard"
    assert facts.hotfixes is not None
    assert facts.hotfixes.kbs == {"KB955430", "KB3154517"}


@pytest.mark.parametrize(
    "text",
    ["", "Host Name: X\n", samples.MAIN_CF, "Betriebssystemname: Microsoft Windows Server 2016\n"],
)
def test_what_is_not_systeminfo_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="systeminfo"):
        parse_systeminfo(text, "si.txt")


@pytest.mark.parametrize(
    ("text", "shape", "kbs"),
    [
        (samples.GET_HOTFIX_CSV, "get-hotfix-csv", {"KB3140245", "KB3154518"}),
        (samples.GET_HOTFIX_CSV_PS7, "get-hotfix-csv", {"KB5034439", "KB5041578"}),
        (samples.WMIC_TABLE, "wmic-table", {"KB3140245", "KB3154518", "KB5041578"}),
        (samples.WMIC_LIST, "wmic-list", {"KB3140245", "KB4019276"}),
        (
            samples.SYSTEMINFO_2012R2,
            "systeminfo",
            {"KB2919355", "KB2973337", "KB3161949", "KB5041828"},
        ),
    ],
)
def test_hotfix_lists_in_every_shape(text: str, shape: str, kbs: set[str]) -> None:
    found = parse_hotfixes(text, "hotfixes.txt")
    assert found.format == shape
    assert found.kbs == kbs


def test_wmic_output_redirected_to_a_file_is_utf16() -> None:
    data = b"\xff\xfe" + samples.WMIC_TABLE.replace("\n", "\r\n").encode("utf-16-le")
    assert parse_hotfixes(decode(data, "qfe.txt"), "qfe.txt").kbs == {
        "KB3140245",
        "KB3154518",
        "KB5041578",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("hello world\n", "not a list of installed updates"),
        ('"Source","HotFixID"\n"EX01","KB5034439","extra"\n', "fields where the header has 2"),
        ('"Source","Description"\n"EX01","Update"\n', "not a list of installed updates|HotFixID"),
    ],
)
def test_foreign_and_truncated_hotfix_lists_are_refused(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        parse_hotfixes(text, "hotfixes.csv")


@given(st.text(max_size=300))
def test_hotfix_parsing_never_raises_anything_but_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_hotfixes(text, "h.txt")


# --- Postfix ------------------------------------------------------------------------------------


def test_postconf_n_output() -> None:
    config = parse_postfix_config(samples.POSTCONF_N, "postconf.txt")
    assert config.settings["smtpd_tls_protocols"].value == ">=TLSv1.2"
    assert config.settings["smtpd_tls_protocols"].origin == "postconf.txt:9"


def test_main_cf_with_comments_and_continuation_lines() -> None:
    config = parse_postfix_config(samples.MAIN_CF, "main.cf")
    assert config.settings["smtpd_tls_protocols"].value == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    assert config.settings["smtpd_tls_security_level"].value == "may"


@pytest.mark.parametrize(
    ("text", "line"),
    [("  indented first\n", 1), ("a = b\nthis is prose\n", 2), ("[Section]\nkey=value\n", 1)],
)
def test_foreign_postfix_files_name_the_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as caught:
        parse_postfix_config(text, "main.cf")
    assert caught.value.line == line


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", (V10, V11, V12, V13)),
        (">=TLSv1", (V10, V11, V12, V13)),
        (">=TLSv1.2", (V12, V13)),
        (">=TLSv1, <=TLSv1.1", (V10, V11)),
        ("!SSLv2, !SSLv3", (V10, V11, V12, V13)),
        ("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", (V12, V13)),
        ("!SSLv2:!SSLv3:!TLSv1.2", (V10, V11)),
        ("!SSLv2, !SSLv3, !TLSv1.1", (V10,)),  # postconf(5): a gap ends the range
        ("!TLSv1.2, !TLSv1.3", (V10, V11)),
        ("TLSv1.2 TLSv1.3", (V12, V13)),
        (">=0x0303", (V12, V13)),
        ("<=0301", (V10,)),
        ("!TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3", ()),
    ],
)
def test_protocol_ranges(value: str, allowed: tuple[TlsVersion, ...]) -> None:
    assert protocol_range(value).allowed == allowed


def test_unknown_protocol_names_are_reported() -> None:
    assert protocol_range("!SSLv2, TLSv9").problems == ("unknown protocol 'TLSv9'",)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("mail_version = 3.7.11", (3, 7, 11)), ("3.10.4\n", (3, 10, 4)), ("2.5", (2, 5, 0))],
)
def test_postfix_versions(text: str, parts: tuple[int, int, int]) -> None:
    assert parse_mail_version(text).parts == parts


@pytest.mark.parametrize("text", ["myhostname = x", "version three", "Postfix 3.7"])
def test_not_a_postfix_version(text: str) -> None:
    with pytest.raises(ValueError, match="version"):
        parse_mail_version(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)", "OpenSSL 3.0.15"),
        ("OpenSSL 1.0.1e-fips 11 Feb 2013", "OpenSSL 1.0.1e"),
        ("OpenSSL 0.9.8k 25 Mar 2009", "OpenSSL 0.9.8k"),
        ("OpenSSL 3.2.0 23 Nov 2023 (Library: OpenSSL 1.1.1w 11 Sep 2023)", "OpenSSL 1.1.1w"),
        ("LibreSSL 3.8.2", "LibreSSL 3.8.2"),
    ],
)
def test_openssl_versions(text: str, shown: str) -> None:
    assert parse_openssl_version(text).text == shown


@given(st.text(max_size=300))
def test_postfix_and_systeminfo_parsing_never_raise_anything_but_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_postfix_config(text, "main.cf")
    with contextlib.suppress(InputError):
        parse_systeminfo(text, "si.txt")


@given(st.text(max_size=120))
def test_version_parsers_and_protocol_ranges_never_raise_anything_but_value_error(
    text: str,
) -> None:
    protocol_range(text)
    with contextlib.suppress(ValueError):
        parse_mail_version(text)
    with contextlib.suppress(ValueError):
        parse_openssl_version(text)

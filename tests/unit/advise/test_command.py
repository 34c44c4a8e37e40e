"""`mailtls advise` through its own argparse registration: outputs, files, exit codes, errors."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import jsonschema
import pytest

from mailtls.advise.arguments import register
from mailtls.advise.command import run
from mailtls.advise.registry import merge_registry
from mailtls.advise.schema import ADVISE_SCHEMA_ID, advise_report_schema, advise_report_schema_json
from mailtls.advise.textio import decode
from tests.unit.advise import samples

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLES = REPOSITORY / "docs" / "examples" / "advise"


class _Parser(argparse.ArgumentParser):
    """Like the command line's parser: usage errors are exit 64, not 2."""

    def error(self, message: str):  # type: ignore[no-untyped-def]
        self.exit(64, f"{self.prog}: error: {message}\n")


def invoke(*argv: str) -> tuple[int, str, str]:
    parser = _Parser(prog="mailtls")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["advise", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run(args, out, err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_text_report_of_the_documented_example() -> None:
    code, out, err = invoke(
        "--exchange-build",
        "15.1.2507.6",
        "--systeminfo",
        str(EXAMPLES / "systeminfo.txt"),
        "--registry",
        str(EXAMPLES / "schannel.reg"),
        "--registry",
        str(EXAMPLES / "netfx.reg"),
    )
    assert (code, err) == (1, "")
    assert "Exchange Server 2016 CU23 (known build 15.1.2507.6)" in out
    assert "Checklist (0 required, 6 recommended, 1 info)" in out
    assert out.rstrip().endswith("exit code 1: recommended changes")


def test_json_report_follows_the_schema(tmp_path: Path) -> None:
    reg = write(
        tmp_path,
        "s.reg",
        samples.regedit_bytes(samples.schannel_export(tls10=(1, 0), tls12=(0, 1))),
    )
    code, out, _ = invoke(
        "--json",
        "--windows",
        "Windows Server 2016",
        "--registry",
        reg,
        "--postconf",
        write(tmp_path, "main.cf", samples.MAIN_CF),
        "--postfix-version",
        "3.7.11",
    )
    document = json.loads(out)
    jsonschema.validate(document, advise_report_schema())
    assert code == document["exit_code"] == 2
    assert document["tls_versions"][2] | {"detail": ""} == {
        "version": "TLSv1.2",
        "configuration": "disabled",
        "effect": "off",
        "server_enabled": 0,
        "server_disabled_by_default": 1,
        "client_enabled": 0,
        "client_disabled_by_default": 1,
        "detail": "",
    }
    assert document["checklist"][0]["code"] == "SCHANNEL_TLS12_NOT_ENABLED"
    assert document["postfix"]["protocols"]["smtpd_tls_protocols"] == ["TLSv1.2", "TLSv1.3"]


def test_the_committed_schema_file_is_current() -> None:
    committed = (REPOSITORY / "docs" / "schema" / "advise-v1.json").read_text(encoding="utf-8")
    assert committed == advise_report_schema_json() + "\n", "regenerate docs/schema/advise-v1.json"
    schema = advise_report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == ADVISE_SCHEMA_ID


def test_every_definition_and_field_is_described() -> None:
    schema = advise_report_schema()
    objects = {"AdviseReport": schema, **schema["$defs"]}
    assert [n for n, d in objects.items() if not d.get("description")] == []
    assert [
        f"{n}.{f}"
        for n, d in objects.items()
        if d.get("type") == "object"
        for f, s in d["properties"].items()
        if not s.get("description")
    ] == []


@pytest.mark.parametrize(("argv", "code"), [
    (("--exchange-build", "15.2.2562.53"), 0),
    (("--exchange-build", "15.1.2507.6"), 1),
    (("--exchange-build", "15.0.1347.2"), 2),
    (("--postfix-version", "3.7.11", "--openssl-version", "OpenSSL 0.9.8k 25 Mar 2009"), 2),
])  # fmt: skip
def test_exit_codes(argv: tuple[str, ...], code: int) -> None:
    assert invoke(*argv)[0] == code


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        (
            "--registry",
            samples.regedit_bytes('[HKEY_LOCAL_MACHINE\\SOFTWARE\\T]\n"A"=word:1'),
            "in.txt:4: unknown value",
        ),
        ("--registry", b"PK\x03\x04\x00\x00binary", "in.txt: binary data"),
        ("--registry", "hostname = x\n", "in.txt:1: not a registry export"),
        ("--systeminfo", "Host Name: EX01\n", "in.txt: no 'OS Name:'"),
        (
            "--hotfixes",
            '"Source","HotFixID"\n"EX01"\n',
            "in.txt:2: 1 fields where the header has 2",
        ),
        ("--postconf", "[main]\nx=1\n", "in.txt:1: not a Postfix"),
        ("--exchange-build", "Exchange 2016\n", "in.txt: no Exchange build number"),
        ("--openssl-version", "GnuTLS 3.7.9\n", "in.txt: no OpenSSL version"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line(
    tmp_path: Path, option: str, content: str | bytes, message: str
) -> None:
    path = write(tmp_path, "in.txt", content)
    code, out, err = invoke(option, path)
    assert code == 64
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("mailtls advise: error: ")
    assert message in err.replace(str(tmp_path) + "/", "")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    code, _, err = invoke("--registry", str(tmp_path / "absent.reg"))
    assert code == 64
    assert "absent.reg: cannot read" in err
    code, _, err = invoke("--registry", str(tmp_path))
    assert code == 64


def test_contradicting_inputs_and_usage_errors(tmp_path: Path) -> None:
    info = write(tmp_path, "si.txt", samples.SYSTEMINFO_2012R2)
    code, _, err = invoke("--systeminfo", info, "--windows", "Windows Server 2019")
    assert code == 64
    assert "which Windows" in err
    assert invoke()[0] == 64
    assert "give at least one input" in invoke()[2]
    assert invoke("--emit-reg", "enable-tls12")[0] == 64
    assert invoke("--exchange-build", "15.1.2507.6", "--output", "x.reg")[0] == 64


def test_emit_enable_tls12_writes_a_regedit_file(tmp_path: Path) -> None:
    target = tmp_path / "tls12.reg"
    code, out, err = invoke(
        "--emit-reg",
        "enable-tls12",
        "--windows",
        "Windows Server 2008 R2 (6.1.7601)",
        "--output",
        str(target),
    )
    assert code == 0
    assert "wrote" in out
    assert "WinHTTP DefaultSecureProtocols included" in err
    snapshot = merge_registry([("tls12.reg", decode(target.read_bytes(), "tls12.reg"))])
    assert snapshot.value(samples.PROTOCOLS + r"\TLS 1.2\Server", "Enabled").data == 1  # type: ignore[union-attr]
    assert snapshot.value(samples.WINHTTP, "DefaultSecureProtocols").data == 0xA00  # type: ignore[union-attr]


def test_emit_disable_warns_to_check_logs_first(tmp_path: Path) -> None:
    code, _, err = invoke(
        "--emit-reg", "disable-tls10-tls11", "--output", str(tmp_path / "off.reg")
    )
    assert code == 0
    assert "mailtls logs --impact tls12" in err


def test_emit_disable_is_refused_for_a_build_that_cannot_run_without_legacy_tls(
    tmp_path: Path,
) -> None:
    target = tmp_path / "off.reg"
    code, _, err = invoke(
        "--emit-reg",
        "disable-tls10-tls11",
        "--exchange-build",
        "15.0.1365.1",
        "--output",
        str(target),
    )
    assert code == 2
    assert "not written" in err
    assert not target.exists()

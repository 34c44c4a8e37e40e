"""The README's `mailtls advise` section: its example is what the command prints, every option
is documented."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from mailtls.advise.arguments import register
from mailtls.advise.command import run

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## What to install or change on the server: `mailtls advise`", 1)[1].split(
    "\n## ", 1
)[0]
COMMAND = "$ mailtls advise "


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mailtls")
    register(root.add_subparsers(dest="command"))
    return root


def test_the_readme_example_is_what_the_command_prints() -> None:
    block = SECTION.split(COMMAND, 1)[1]
    argv_line, shown = block.split("\n", 1)
    shown = shown.split("```", 1)[0].rstrip("\n")
    argv = [str(ROOT / a) if a.startswith("docs/") else a for a in argv_line.split()]
    out, err = io.StringIO(), io.StringIO()
    run(parser().parse_args(["advise", *argv]), out, err)
    printed = out.getvalue().replace(str(ROOT) + "/", "")
    assert shown == "\n".join(line.rstrip() for line in printed.rstrip("\n").splitlines())
    assert err.getvalue() == ""


def test_every_advise_option_is_documented() -> None:
    subparsers = next(a for a in parser()._actions if a.dest == "command")
    advise = subparsers.choices["advise"]  # type: ignore[attr-defined]
    for action in advise._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in SECTION, flag


def test_every_built_in_command_is_documented() -> None:
    for command in (
        "systeminfo",
        "Get-HotFix",
        "Export-Csv",
        "wmic qfe list",
        "/format:list",
        "reg export",
        "SCHANNEL",
        ".NETFramework",
        "Wow6432Node",
        "WinHttp",
        "Get-ExchangeServer",
        "Get-Command ExSetup",
        "postconf -n",
        "postconf mail_version",
        "openssl version",
    ):
        assert command in SECTION, command

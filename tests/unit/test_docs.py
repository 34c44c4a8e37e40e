"""The README documents what the code does: every finding code, severity, option and exit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailtls.cli import build_parser
from mailtls.logs.analyse import analyse_logs
from mailtls.models import AddressStatus, FindingCode
from mailtls.policy import domain
from mailtls.policy.codes import CODES
from mailtls.render.logs import render_logs_text

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_finding_code_is_documented_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| (\w+) \|", README, flags=re.MULTILINE))
    assert set(rows) == {code.value for code in FindingCode}
    for code, info in CODES.items():
        assert rows[code.value] == info.severity.value, code


def test_every_status_is_documented() -> None:
    for status in AddressStatus:
        assert f"`{status.value}`" in README


@pytest.mark.parametrize(
    "code",
    [domain.EXIT_OK, domain.EXIT_WARNING, domain.EXIT_CRITICAL, domain.EXIT_UNTESTABLE,
     domain.EXIT_USAGE, domain.EXIT_SOFTWARE],
)  # fmt: skip
def test_every_exit_code_is_documented(code: int) -> None:
    assert re.search(rf"^\| {code} \|", README, flags=re.MULTILINE)


@pytest.mark.parametrize("command", ["check", "scan", "report", "diff", "show"])
def test_every_option_is_documented(command: str) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    check = subparsers.choices[command]  # type: ignore[attr-defined]
    for action in check._actions:
        for flag in action.option_strings:
            if flag in ("-h", "--help"):
                continue
            assert f"`{flag}" in README, flag


def test_the_logs_example_in_the_readme_is_what_the_command_prints() -> None:
    root = Path(__file__).resolve().parents[2]
    block = README.split(
        "$ mailtls logs --year 2026 --impact tls12 docs/examples/postfix-mail.log\n", 1
    )[1]
    shown = block.split("```", 1)[0].rstrip("\n")
    report = analyse_logs([str(root / "docs/examples/postfix-mail.log")], year=2026, impact=True)
    printed = render_logs_text(report, color=False).replace(str(root) + "/", "")
    assert shown == "\n".join(line.rstrip() for line in printed.rstrip("\n").splitlines())


def test_every_logs_option_is_documented() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    logs = subparsers.choices["logs"]  # type: ignore[attr-defined]
    for action in logs._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in README, flag

"""The ``mailtls advise`` subcommand: options, reading the inputs, rendering, exit codes.

``register`` adds the subparser to ``mailtls``'s; ``run`` does the work and returns the exit
code. Bad input never ends in a traceback: it is one line on standard error, ``FILE:LINE: what``,
and exit code 64.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from mailtls.advise.analyse import AdviseInputs, WindowsText, analyse, identify
from mailtls.advise.errors import InputError
from mailtls.advise.hotfixes import parse_hotfixes, parse_systeminfo
from mailtls.advise.models import InputSummary
from mailtls.advise.postfix import parse_mail_version, parse_openssl_version, parse_postfix_config
from mailtls.advise.regfile import build_reg_file
from mailtls.advise.registry import merge_registry
from mailtls.advise.textio import read_input
from mailtls.errors import KnowledgeError, UsageError
from mailtls.knowledge.exchange_builds import (
    ExchangeCapability,
    lookup_build,
    parse_exchange_build,
)
from mailtls.knowledge.windows import load_windows

EXIT_USAGE = 64
EXIT_SOFTWARE = 70
EXIT_REFUSED = 2


def _text_or_file(value: str, option: str) -> tuple[str, str]:
    """A value given on the command line, or the content of the file it names; with its origin."""
    if Path(value).is_file():
        return read_input(value), value
    return value, option


def read_inputs(args: argparse.Namespace) -> AdviseInputs:
    summaries: list[InputSummary] = []
    exchange = None
    if args.exchange_build:
        text, origin = _text_or_file(args.exchange_build, "--exchange-build")
        try:
            exchange = parse_exchange_build(text)
        except ValueError as problem:
            raise InputError(origin, str(problem)) from None
        summaries.append(InputSummary("exchange-build", origin, str(exchange)))
    systeminfo = None
    windows = None
    if args.windows:
        if Path(args.windows).is_file():
            systeminfo = parse_systeminfo(read_input(args.windows), args.windows)
        else:
            windows = WindowsText(args.windows)
            summaries.append(InputSummary("windows", "--windows", args.windows))
    if args.systeminfo:
        if systeminfo is not None:
            raise InputError(
                "--systeminfo", "give systeminfo once (--windows FILE or --systeminfo)"
            )
        systeminfo = parse_systeminfo(read_input(args.systeminfo), args.systeminfo)
    if systeminfo is not None:
        count = len(systeminfo.hotfixes.kbs) if systeminfo.hotfixes else 0
        summaries.append(
            InputSummary(
                "systeminfo",
                systeminfo.origin,
                f"{systeminfo.os_name}, {systeminfo.os_version}, {count} updates",
            )
        )
    hotfixes = []
    for name in args.hotfixes:
        found = parse_hotfixes(read_input(name), name)
        hotfixes.append(found)
        summaries.append(
            InputSummary("hotfixes", name, f"{found.format}: {len(found.kbs)} updates")
        )
    registry = None
    if args.registry:
        texts = [(name, read_input(name)) for name in args.registry]
        registry = merge_registry(texts)
        for name, _ in texts:
            keys = sum(1 for key in registry.keys.values() if key.origin.startswith(f"{name}:"))
            summaries.append(InputSummary("registry", name, f"{keys} keys"))
    config = None
    if args.postconf:
        config = parse_postfix_config(read_input(args.postconf), args.postconf)
        summaries.append(
            InputSummary("postconf", args.postconf, f"{len(config.settings)} settings")
        )
    postfix_version = openssl = None
    if args.postfix_version:
        text, origin = _text_or_file(args.postfix_version, "--postfix-version")
        try:
            postfix_version = parse_mail_version(text)
        except ValueError as problem:
            raise InputError(origin, str(problem)) from None
        summaries.append(InputSummary("postfix-version", origin, postfix_version.text))
    if args.openssl_version:
        text, origin = _text_or_file(args.openssl_version, "--openssl-version")
        try:
            openssl = parse_openssl_version(text)
        except ValueError as problem:
            raise InputError(origin, str(problem)) from None
        summaries.append(InputSummary("openssl-version", origin, openssl.text))
    return AdviseInputs(
        exchange_build=exchange,
        windows=windows,
        systeminfo=systeminfo,
        hotfixes=tuple(hotfixes),
        registry=registry,
        postfix_config=config,
        postfix_version=postfix_version,
        openssl_version=openssl,
        summaries=tuple(summaries),
    )


def _emit(args: argparse.Namespace, inputs: AdviseInputs, out: TextIO, err: TextIO) -> int:
    if not args.output:
        raise UsageError("--emit-reg needs --output FILE")
    data = load_windows()
    ident = identify(inputs, data)
    release = ident.release if ident else None
    if args.emit_reg == "disable-tls10-tls11" and inputs.exchange_build is not None:
        lookup = lookup_build(inputs.exchange_build)
        if lookup.capabilities[ExchangeCapability.DISABLE_LEGACY] is not True:
            err.write(
                f"mailtls advise: not written: {lookup.description} cannot be shown to run "
                "with TLS 1.0/1.1 turned off; update Exchange first\n"
            )
            return EXIT_REFUSED
    reg = build_reg_file(args.emit_reg, release, data)
    try:
        Path(args.output).write_bytes(reg.content)
    except OSError as problem:
        raise InputError(args.output, f"cannot write: {problem.strerror or problem}") from None
    values = sum(len(target.values) for target in reg.targets)
    out.write(
        f"wrote {args.output}: {values} values ({args.emit_reg}); import it with regedit, "
        "then restart Windows\n"
    )
    for note in reg.notes:
        err.write(f"mailtls advise: {note}\n")
    return 0


def _check_options(args: argparse.Namespace, inputs: AdviseInputs) -> None:
    if args.output and not args.emit_reg:
        raise UsageError("--output is for --emit-reg")
    if inputs.empty and not args.emit_reg:
        raise UsageError(
            "give at least one input: --exchange-build, --windows, --systeminfo, "
            "--hotfixes, --registry, --postconf, --postfix-version or --openssl-version"
        )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        inputs = read_inputs(args)
        _check_options(args, inputs)
        if args.emit_reg:
            return _emit(args, inputs, out, err)
        report = analyse(inputs, today=date.today(), generated_at=datetime.now(UTC))
    except UsageError as error:
        err.write(f"mailtls advise: error: {error}\n")
        return EXIT_USAGE
    except KnowledgeError as error:  # a broken installation, not the user's input
        err.write(f"mailtls advise: internal error: {error}\n")
        return EXIT_SOFTWARE
    # rich costs ~90 ms to import: only when a report is printed, not whenever the parser is
    # built for another command.
    from mailtls.advise.render import render_advise_json, render_advise_text  # noqa: PLC0415

    if args.json:
        out.write(render_advise_json(report) + "\n")
    else:
        color = args.color == "always" or (args.color == "auto" and out.isatty())
        width = shutil.get_terminal_size().columns if out.isatty() else None
        out.write(render_advise_text(report, color=color, width=width))
    return report.exit_code

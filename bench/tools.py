"""The tools compared, as command lines, and what each one's output says about TLS versions.

Building a command and reading its output are pure; running them is ``check_one_address``'s
job. Every reader returns the same ``Answer`` so that the tools are judged alike: which of
TLS 1.0 to 1.3 the tool says the server accepts, or in its own words why it could not tell.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailtls.models import ALL_TLS_VERSIONS, CheckReport, Endpoint, TlsVersion, VersionSupport

# True: accepted; False: refused; None: the tool did not say.
VersionAnswers = Mapping[TlsVersion, bool | None]


@dataclass(frozen=True)
class Answer:
    versions: VersionAnswers
    failure: str | None = None  # why the tool could not test, in its own words
    reported_connections: int | None = None  # only mailtls counts its own connections


@dataclass(frozen=True)
class Programs:
    """Where the three tools are on this machine, and what they are told to trust."""

    mailtls: tuple[str, ...]  # the console script, or python -m mailtls.cli
    testssl: str
    sslyze: str
    ca_file: Path


@dataclass(frozen=True)
class Invocation:
    argv: tuple[str, ...]
    output_file: Path | None  # where the tool writes its machine-readable result, if not stdout


@dataclass(frozen=True)
class Variant:
    """One way of running one tool against one address."""

    key: str  # stable name in the JSON results
    label: str  # the command as the table shows it
    tool: str  # "mailtls", "testssl.sh" or "sslyze"
    build: Callable[[Programs, Endpoint, Path], Invocation]
    read: Callable[[str, str | None], Answer]  # (stdout, output file's text) -> answer


def _no_answer(failure: str) -> Answer:
    return Answer(versions=dict.fromkeys(ALL_TLS_VERSIONS), failure=failure)


# --- mailtls -------------------------------------------------------------------------------


def _support(value: str) -> bool | None:
    if value == VersionSupport.SUPPORTED.value:
        return True
    if value == VersionSupport.UNSUPPORTED.value:
        return False
    return None


def answer_from_report(report: CheckReport) -> Answer:
    """What an in-process ``check_targets`` run says about its one address."""
    (domain,) = report.domains
    (host,) = domain.mx_hosts
    (address,) = host.addresses
    return Answer(
        versions={
            version: _support(address.tls_versions.get(version, VersionSupport.NOT_TESTED).value)
            for version in ALL_TLS_VERSIONS
        },
        failure=None if address.status.value == "ok" else str(address.status_detail),
        reported_connections=address.connections,
    )


def read_mailtls(stdout: str, _output: str | None) -> Answer:
    try:
        report: dict[str, Any] = json.loads(stdout)
        (domain,) = report["domains"]
        (host,) = domain["mx_hosts"]
        (address,) = host["addresses"]
    except (ValueError, KeyError, TypeError) as problem:
        return _no_answer(f"no JSON report: {problem!r}")
    offered = address["tls_versions"]
    return Answer(
        versions={v: _support(offered.get(v.value, "not_tested")) for v in ALL_TLS_VERSIONS},
        failure=None
        if address["status"] == "ok"
        else f"{address['status']}: {address['status_detail']}",
        reported_connections=int(address["connections"]),
    )


def _mailtls(*extra: str) -> Callable[[Programs, Endpoint, Path], Invocation]:
    def build(programs: Programs, endpoint: Endpoint, _workdir: Path) -> Invocation:
        argv = (
            *programs.mailtls,
            "check",
            "--json",
            "--quiet",
            *extra,
            "--ca-file",
            str(programs.ca_file),
            f"[{endpoint.ip}]:{endpoint.port}",
        )
        return Invocation(argv=argv, output_file=None)

    return build


# --- testssl.sh ----------------------------------------------------------------------------

_TESTSSL_IDS = {
    TlsVersion.TLS1_0: "TLS1",
    TlsVersion.TLS1_1: "TLS1_1",
    TlsVersion.TLS1_2: "TLS1_2",
    TlsVersion.TLS1_3: "TLS1_3",
}


def _testssl_finding(finding: str) -> bool | None:
    # "offered", "offered (OK)", "offered with final"; "not offered", "not offered + downgraded..."
    if finding.startswith("not offered"):
        return False
    if finding.startswith("offered"):
        return True
    return None


def read_testssl(stdout: str, output: str | None) -> Answer:
    try:
        findings: list[dict[str, str]] = json.loads(output or "")
    except ValueError:
        last_line = next((ln.strip() for ln in reversed(stdout.splitlines()) if ln.strip()), "")
        return _no_answer(f"no JSON output; last line: {last_line!r}")
    by_id = {item["id"]: item["finding"] for item in findings}
    versions = {
        version: _testssl_finding(by_id[key]) if key in by_id else None
        for version, key in _TESTSSL_IDS.items()
    }
    # A scan that stops early says why in its "scanProblem" or "optimal_proto" finding
    # ("Your OpenSSL cannot connect to ...") and "Scan interrupted" as its scan time.
    failure = None
    if by_id.get("scanTime") == "Scan interrupted" or any(v is None for v in versions.values()):
        failure = by_id.get("optimal_proto") or by_id.get("scanProblem") or "scan interrupted"
    return Answer(versions=versions, failure=failure)


def _build_testssl(programs: Programs, endpoint: Endpoint, workdir: Path) -> Invocation:
    output = workdir / "testssl.json"
    argv = (
        programs.testssl,
        "--quiet",  # no banner: it asks for nothing, but says the terms are accepted
        "--color",
        "0",
        "--warnings",
        "batch",  # never stop to ask
        "--nodns",
        "none",  # not even a reverse lookup of the address
        "--jsonfile",
        str(output),
        "--starttls",
        "smtp",
        "-p",
        f"{endpoint.ip}:{endpoint.port}",
    )
    return Invocation(argv=argv, output_file=output)


# --- sslyze --------------------------------------------------------------------------------

_SSLYZE_KEYS = {
    TlsVersion.TLS1_0: "tls_1_0_cipher_suites",
    TlsVersion.TLS1_1: "tls_1_1_cipher_suites",
    TlsVersion.TLS1_2: "tls_1_2_cipher_suites",
    TlsVersion.TLS1_3: "tls_1_3_cipher_suites",
}


def read_sslyze(stdout: str, output: str | None) -> Answer:
    try:
        document: dict[str, Any] = json.loads(output or "")
        (server,) = document["server_scan_results"]
    except (ValueError, KeyError, TypeError) as problem:
        return _no_answer(f"no JSON output: {problem!r}")
    if server["connectivity_status"] != "COMPLETED":
        trace = (server.get("connectivity_error_trace") or "").strip().splitlines()
        return _no_answer(f"could not connect: {trace[-1] if trace else 'no detail'}")
    results = server["scan_result"]
    versions: dict[TlsVersion, bool | None] = {}
    problems = []
    for version, key in _SSLYZE_KEYS.items():
        attempt = results.get(key) or {}
        if attempt.get("status") == "COMPLETED":
            versions[version] = bool(attempt["result"]["accepted_cipher_suites"])
        else:
            versions[version] = None
            problems.append(f"{key}: {attempt.get('status')} {attempt.get('error_reason') or ''}")
    return Answer(versions=versions, failure="; ".join(problems) or None)


def _sslyze(*commands: str) -> Callable[[Programs, Endpoint, Path], Invocation]:
    def build(programs: Programs, endpoint: Endpoint, workdir: Path) -> Invocation:
        output = workdir / "sslyze.json"
        argv = (
            programs.sslyze,
            "--quiet",
            "--json_out",
            str(output),
            "--starttls",
            "smtp",
            *commands,
            f"{endpoint.ip}:{endpoint.port}",
        )
        return Invocation(argv=argv, output_file=output)

    return build


# The four TLS versions mailtls tests, one sslyze scan command each (each of them offers every
# cipher suite of its version in turn). With scan commands named, sslyze runs only those and
# skips its Mozilla compliance check; without any it runs its default scan and that check.
SSLYZE_PROTOCOL_COMMANDS = ("--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3")

# mailtls check (sequential, the default) comes first: every ratio is taken against it.
BASELINE = "mailtls"
IN_PROCESS = "mailtls-in-process"  # run by check_one_address itself; no command line

VARIANTS: tuple[Variant, ...] = (
    Variant(BASELINE, "mailtls check --json", "mailtls", _mailtls(), read_mailtls),
    Variant(
        "mailtls-fast", "mailtls check --json --fast", "mailtls", _mailtls("--fast"), read_mailtls
    ),
    Variant(
        "testssl-p", "testssl.sh --starttls smtp -p", "testssl.sh", _build_testssl, read_testssl
    ),
    Variant(
        "sslyze-protocols",
        "sslyze --starttls smtp --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3",
        "sslyze",
        _sslyze(*SSLYZE_PROTOCOL_COMMANDS),
        read_sslyze,
    ),
    Variant(
        "sslyze-default", "sslyze --starttls smtp (default scan)", "sslyze", _sslyze(), read_sslyze
    ),
)

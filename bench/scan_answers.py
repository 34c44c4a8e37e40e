"""Whether each tool's answer for the subset's addresses matches the listener behind them. Pure.

Both tools are judged alike: for every address, which of TLS 1.0 to 1.3 it accepts must match
the fleet listener its address leads to (``tests/integration/fleet/layout.py``); for a
listener without STARTTLS the right answer is "no TLS here". mailtls is read from
``mailtls show RUN --json`` (its stored results), testssl.sh from the JSON file its mass test
writes (one list of findings for all addresses, each finding naming its ``ip``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.integration.fleet import Posture, listener_for

from bench.tools import Answer, read_testssl
from mailtls.models import ALL_TLS_VERSIONS, VersionSupport


@dataclass(frozen=True)
class Judged:
    right: int
    total: int
    problems: tuple[str, ...]  # "ADDRESS: what was wrong", at most a few


def _right_answer(answer: Answer, posture: Posture, *, said_no_tls: bool) -> str | None:
    """None when right, else what was wrong."""
    accepted = listener_for(posture).tls_versions
    if not accepted:
        return None if said_no_tls else "said TLS is offered, the listener has no STARTTLS"
    wrong = [
        f"{version.value} {'accepted' if said else 'refused'}"
        for version in ALL_TLS_VERSIONS
        if (said := answer.versions.get(version)) is not None and said != (version in accepted)
    ]
    missing = [v.value for v in ALL_TLS_VERSIONS if answer.versions.get(v) is None]
    if wrong:
        return "wrong: " + ", ".join(wrong)
    if missing:
        return answer.failure or f"no answer for {', '.join(missing)}"
    return None


def _judge(answers: Mapping[str, tuple[Answer, bool]], expected: Mapping[str, Posture]) -> Judged:
    problems = []
    right = 0
    for ip, posture in expected.items():
        if ip not in answers:
            problems.append(f"{ip}: no answer at all")
            continue
        answer, said_no_tls = answers[ip]
        problem = _right_answer(answer, posture, said_no_tls=said_no_tls)
        if problem is None:
            right += 1
        else:
            problems.append(f"{ip} ({posture.value}): {problem}")
    return Judged(right=right, total=len(expected), problems=tuple(problems[:5]))


def _support(value: str) -> bool | None:
    if value == VersionSupport.SUPPORTED.value:
        return True
    if value == VersionSupport.UNSUPPORTED.value:
        return False
    return None


def judge_mailtls(show_json: str, expected: Mapping[str, Posture]) -> Judged:
    """``mailtls show RUN --json`` against the listener behind each address (by IP)."""
    try:
        document: dict[str, Any] = json.loads(show_json)
        addresses = [
            address
            for domain in document["domains"]
            for host in domain["mx_hosts"]
            for address in host["addresses"]
        ]
    except (ValueError, KeyError, TypeError) as problem:
        return Judged(0, len(expected), (f"no JSON from mailtls show: {problem!r}",))
    answers: dict[str, tuple[Answer, bool]] = {}
    for address in addresses:
        offered = address["tls_versions"]
        answer = Answer(
            versions={v: _support(offered.get(v.value, "not_tested")) for v in ALL_TLS_VERSIONS},
            failure=None
            if address["status"] == "ok"
            else f"{address['status']}: {address['status_detail']}",
        )
        answers[address["ip"]] = (answer, address["starttls"] is False)
    return _judge(answers, expected)


def judge_testssl(findings_json: str, expected: Mapping[str, Posture]) -> Judged:
    """testssl.sh's mass-test JSON (``--jsonfile`` with ``--file``), grouped by address."""
    try:
        findings: list[dict[str, str]] = json.loads(findings_json)
    except ValueError as problem:
        return Judged(0, len(expected), (f"no JSON from testssl.sh: {problem!r}",))
    by_ip: dict[str, list[dict[str, str]]] = {}
    for finding in findings:
        by_ip.setdefault(finding.get("ip", "").split("/")[-1], []).append(finding)
    answers: dict[str, tuple[Answer, bool]] = {}
    for ip, group in by_ip.items():
        answer = read_testssl("", json.dumps(group))
        said_no_tls = "TLS/SSL enabled server" in (answer.failure or "") or all(
            answer.versions.get(v) is False for v in ALL_TLS_VERSIONS
        )
        answers[ip] = (answer, said_no_tls)
    return _judge(answers, expected)


def expected_by_ip(pairs: Sequence[tuple[str, Posture]]) -> dict[str, Posture]:
    return dict(pairs)

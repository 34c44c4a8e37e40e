"""`mailtls logs` on logs that real Postfix and Exim wrote while we sent known sessions.

The expected table comes from what was sent (``tests/integration/maillogs``), never from parsing;
the parsed table must match it peer by peer, session kind by session kind.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from mailtls.logs.analyse import analyse_logs
from mailtls.logs.report import LogsReport, SessionKind
from mailtls.models import Direction, LogFormat, PeerRole, TlsVersion
from mailtls.schema import logs_report_schema
from tests.integration.maillogs import ExpectedPeer, MailLogs
from tests.integration.maillogs.plan import ROUTES

pytestmark = pytest.mark.integration

KIND_OF = {
    TlsVersion.TLS1_3: SessionKind.TLS1_3,
    TlsVersion.TLS1_2: SessionKind.TLS1_2,
    TlsVersion.TLS1_1: SessionKind.TLS1_1,
    TlsVersion.TLS1_0: SessionKind.TLS1_0,
    None: SessionKind.PLAINTEXT,
}


def as_table(report: LogsReport) -> dict[tuple[Direction, str, PeerRole], dict[SessionKind, int]]:
    return {
        (p.direction, p.peer_ip or "", p.role): {k: n for k, n in p.sessions.items() if n}
        for p in report.peers
    }


def expected_table(
    peers: tuple[ExpectedPeer, ...],
) -> dict[tuple[Direction, str, PeerRole], dict[SessionKind, int]]:
    return {
        (p.direction, p.peer_ip, p.role): {KIND_OF[v]: n for v, n in p.sessions.items() if n}
        for p in peers
    }


@pytest.mark.parametrize("log_format", [LogFormat.POSTFIX, LogFormat.EXIM])
def test_parsed_peer_table_matches_what_was_sent(maillogs: MailLogs, log_format: LogFormat) -> None:
    report = analyse_logs([str(maillogs.logs[log_format])])
    (source,) = report.sources
    assert source.format is log_format  # recognised without --format
    assert source.problems == ()
    assert source.unparsed == 0
    assert as_table(report) == expected_table(maillogs.peers(log_format))


def test_impact_names_exactly_the_legacy_peers(maillogs: MailLogs) -> None:
    report = analyse_logs([str(maillogs.postfix_log)], impact=True)
    assert report.impact is not None
    legacy = {
        (p.direction, p.peer_ip)
        for p in maillogs.peers(LogFormat.POSTFIX)
        if p.count(TlsVersion.TLS1_0) or p.count(TlsVersion.TLS1_1)
    }
    found = {
        (e.peer.direction, e.peer.peer_ip)
        for e in (*report.impact.inbound_legacy, *report.impact.outbound_legacy)
    }
    assert found == legacy
    plaintext = {
        (p.direction, p.peer_ip) for p in maillogs.peers(LogFormat.POSTFIX) if p.count(None)
    }
    found_plain = {
        (e.peer.direction, e.peer.peer_ip)
        for e in (*report.impact.inbound_plaintext, *report.impact.outbound_plaintext)
    }
    assert found_plain == plaintext


def test_compressed_rotated_set_reads_like_the_original(maillogs: MailLogs, tmp_path: Path) -> None:
    lines = maillogs.postfix_log.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    # mail.log.2.gz (oldest) holds the first half, mail.log.1 (bz2 without a telling name) the
    # second; read as a folder they must give the same table as the single file.
    (tmp_path / "mail.log.2.gz").write_bytes(gzip.compress(b"".join(lines[:half])))
    (tmp_path / "mail.log.1").write_bytes(bz2.compress(b"".join(lines[half:])))
    (tmp_path / "mail.log").write_bytes(b"")
    whole = analyse_logs([str(maillogs.postfix_log)])
    rotated = analyse_logs([str(tmp_path)])
    assert as_table(rotated) == as_table(whole)


@pytest.mark.parametrize("jobs", [2, 5])
def test_the_real_log_read_in_parts_gives_what_was_sent(maillogs: MailLogs, jobs: int) -> None:
    whole = analyse_logs([str(maillogs.postfix_log)], impact=True)
    parts = analyse_logs([str(maillogs.postfix_log)], impact=True, jobs=jobs, min_part_bytes=1)
    assert as_table(parts) == expected_table(maillogs.peers(LogFormat.POSTFIX))
    assert dataclasses.replace(parts, generated_at=whole.generated_at) == whole


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailtls.cli", "logs", *args],
        capture_output=True, input=stdin, timeout=120, check=False,
    )  # fmt: skip


def test_cli_json_from_stdin_matches_the_schema_and_exit_code(maillogs: MailLogs) -> None:
    result = run_cli("--json", "--impact", "tls12", "-", stdin=maillogs.exim_log.read_bytes())
    assert result.returncode == 1, result.stderr  # TLS 1.0/1.1 and plaintext peers exist
    document = json.loads(result.stdout)
    jsonschema.validate(document, logs_report_schema())
    assert document["sources"][0]["format"] == "exim"
    assert document["exit_code"] == 1


def test_cli_text_and_csv(maillogs: MailLogs) -> None:
    text = run_cli("--color", "never", "--impact", "tls12", str(maillogs.postfix_log))
    assert b"If you require TLS 1.2 now" in text.stdout
    assert b"127.0.7.3" in text.stdout
    csv_out = run_cli("--csv", str(maillogs.postfix_log)).stdout.decode()
    assert csv_out.count("\n") == len(maillogs.peers(LogFormat.POSTFIX)) + 1


def test_only_modern_sessions_exit_zero(maillogs: MailLogs, tmp_path: Path) -> None:
    modern = [p for p in maillogs.peers(LogFormat.EXIM, Direction.INBOUND)
              if set(p.sessions) <= {TlsVersion.TLS1_2, TlsVersion.TLS1_3}]  # fmt: skip
    ips = {p.peer_ip for p in modern}
    kept = [line for line in maillogs.exim_log.read_text().splitlines(keepends=True)
            if any(f"[{ip}]" in line for ip in ips)]  # fmt: skip
    log = tmp_path / "modern.log"
    log.write_text("".join(kept))
    assert run_cli("--format", "exim", str(log)).returncode == 0


def test_nothing_found_exits_three_and_names_the_problem(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(bytes(range(256)) * 100)
    result = run_cli(str(garbage), str(tmp_path / "missing.log"))
    assert result.returncode == 3
    assert b"missing.log" in result.stdout
    assert b"not a log format mailtls knows" in result.stdout


def test_a_truncated_archive_keeps_what_was_read(maillogs: MailLogs, tmp_path: Path) -> None:
    data = gzip.compress(maillogs.postfix_log.read_bytes())
    cut = tmp_path / "mail.log.1.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    report = analyse_logs([str(cut)])
    (source,) = report.sources
    assert source.problems  # truncated, said so
    assert 0 < sum(report.totals.values()) <= len(maillogs.sessions)


def test_tls_logging_off_is_warned_about(maillogs: MailLogs, tmp_path: Path) -> None:
    # The same log without its TLS summary lines is what smtpd_tls_loglevel = 0 writes.
    lines = [line for line in maillogs.postfix_log.read_text().splitlines(keepends=True)
             if "TLS connection established" not in line]  # fmt: skip
    quiet = tmp_path / "quiet.log"
    quiet.write_text("".join(lines))
    report = analyse_logs([str(quiet)])
    assert any("smtpd_tls_loglevel" in w for w in report.warnings)
    inbound_tls = sum(
        p.sessions[SessionKind.TLS_UNKNOWN]
        for p in report.peers
        if p.direction is Direction.INBOUND
    )
    assert inbound_tls > 0  # TLS sessions of unknown version, not miscounted as plaintext


@pytest.mark.parametrize("log_format", [LogFormat.POSTFIX, LogFormat.EXIM])
def test_outbound_peers_carry_the_recipient_domains_routed_to_them(
    maillogs: MailLogs, log_format: LogFormat
) -> None:
    report = analyse_logs([str(maillogs.logs[log_format])])
    routed: dict[str, set[str]] = {}
    for route in ROUTES[log_format]:
        routed.setdefault(route.listener.ip, set()).add(route.domain)
    outbound = [p for p in report.peers if p.direction is Direction.OUTBOUND]
    assert outbound
    for peer in outbound:
        assert peer.domains, peer
        assert set(peer.domains) <= routed[peer.peer_ip or ""], peer

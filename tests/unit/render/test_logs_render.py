from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from mailtls.logs.aggregate import PeerAggregator, tls12_impact
from mailtls.logs.report import LogsReport, SessionKind, SourceSummary
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion
from mailtls.render.jsonout import dump_json
from mailtls.render.logs import render_logs_csv, render_logs_json, render_logs_text
from mailtls.schema import logs_report_schema

T = datetime(2026, 3, 1, 12, tzinfo=UTC)


def report(*observations: SessionObservation, impact: bool = True) -> LogsReport:
    peers = PeerAggregator()
    for observation in observations:
        peers.add(observation)
    table = peers.peers()
    source = SourceSummary(
        "mail.log", LogFormat.POSTFIX, 10, 6, 3, 1, 0, len(observations), T, T, (),
        ("mail.log:7: \x1b[31mgarbage",),
    )  # fmt: skip
    return LogsReport(
        "1", "0.1.0", T, (source,), table, dict(peers.totals),
        ("Postfix logs no TLS details: set smtpd_tls_loglevel = 1",),
        tls12_impact(table) if impact else None, 1,
    )  # fmt: skip


def obs(ip: str, version: TlsVersion | None, **kw: object) -> SessionObservation:
    fields: dict[str, object] = {
        "source": LogFormat.POSTFIX, "direction": Direction.INBOUND, "timestamp": T,
        "peer_ip": ip, "peer_host": None, "tls_version": version,
    }  # fmt: skip
    fields.update(kw)
    return SessionObservation(**fields)  # type: ignore[arg-type]


SAMPLE = report(
    obs("192.0.2.1", TlsVersion.TLS1_0, peer_host="old.example.net", cipher="ECDHE-RSA-AES256-SHA"),
    obs("192.0.2.1", TlsVersion.TLS1_2),
    obs("192.0.2.2", None, role=PeerRole.SUBMISSION),
    obs("198.51.100.7", TlsVersion.TLS1_1, direction=Direction.OUTBOUND, peer_host="=cmd|calc"),
    obs("192.0.2.3", TlsVersion.TLS1_3),
)


def test_text_names_peers_impact_and_warnings_without_escape_codes() -> None:
    text = render_logs_text(SAMPLE, color=False)
    assert "192.0.2.1 (old.example.net)" in text
    assert "[AUTH]" in text
    assert "If you require TLS 1.2 now:" in text
    assert "1 inbound peer(s) and 1 outbound destination(s)" in text
    assert "smtpd_tls_loglevel = 1" in text
    assert "\x1b" not in text
    assert "unparsed:" not in text  # examples only with --verbose
    assert "garbage" in render_logs_text(SAMPLE, color=False, verbose=True)
    assert "\\x1b" in render_logs_text(SAMPLE, color=False, verbose=True)  # shown, never obeyed


def test_colour_only_when_asked() -> None:
    assert "\x1b[" in render_logs_text(SAMPLE, color=True)


def test_csv_has_a_row_per_peer_and_defuses_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(render_logs_csv(SAMPLE))))
    assert len(rows) == len(SAMPLE.peers)
    legacy = next(r for r in rows if r["peer_ip"] == "192.0.2.1")
    assert (legacy["TLSv1"], legacy["TLSv1.2"], legacy["sessions"], legacy["weakest"]) == (
        "1",
        "1",
        "2",
        "TLSv1",
    )
    outbound = next(r for r in rows if r["direction"] == "outbound")
    assert outbound["peer_host"] == "'=cmd|calc"


def test_json_carries_every_kind_and_the_impact() -> None:
    document = json.loads(render_logs_json(SAMPLE))
    assert set(document["totals"]) == {kind.value for kind in SessionKind}
    assert document["impact"]["legacy_sessions"] == 2
    peer = document["peers"][0]
    assert {"direction", "role", "peer_ip", "sessions", "first_seen", "last_seen"} <= set(peer)
    assert peer["first_seen"].endswith("Z")


@pytest.mark.parametrize("impact", [True, False])
def test_json_is_the_generic_conversion_of_the_report(impact: bool) -> None:
    """render_logs_json converts peers by hand for speed: it must give what dump_json gives."""
    sample = report(
        obs("192.0.2.1", TlsVersion.TLS1_0, peer_host="old.example.net", cipher="X"),
        obs("192.0.2.9", None, timestamp=None, peer_domain="example.org"),
        obs("198.51.100.7", TlsVersion.TLS1_1, direction=Direction.OUTBOUND, peer_domain="a.test"),
        obs("192.0.2.2", None, role=PeerRole.SUBMISSION, version_ambiguous=True),
        impact=impact,
    )
    assert json.loads(render_logs_json(sample)) == json.loads(dump_json(sample))
    assert render_logs_json(sample, indent=None) == dump_json(sample, indent=None)
    # One peer per line, the rest indented.
    lines = render_logs_json(sample).splitlines()
    assert sum(line.startswith('    {"direction": ') for line in lines) == len(sample.peers)
    assert '  "schema_version": "1",' in lines


@pytest.mark.parametrize("impact", [True, False])
def test_report_without_sessions_renders(impact: bool) -> None:
    empty = report(impact=impact)
    assert "0 sessions" in render_logs_text(empty, color=False)
    assert render_logs_csv(empty).count("\n") == 1


def test_json_matches_the_generated_schema_and_the_committed_file() -> None:
    schema = logs_report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for sample in (SAMPLE, report(impact=False)):
        jsonschema.validate(json.loads(render_logs_json(sample)), schema)
    committed = (
        Path(__file__).resolve().parents[3] / "docs" / "schema" / "logs-v1.json"
    ).read_text()
    assert committed == json.dumps(schema, indent=2) + "\n", (
        "regenerate with: mailtls schema logs > docs/schema/logs-v1.json"
    )
    described = {"LogsReport": schema, **schema["$defs"]}
    assert all(d.get("description") for d in described.values())
    assert all(
        f.get("description") for d in described.values() if d.get("type") == "object"
        for f in d["properties"].values()
    )  # fmt: skip


def test_a_peer_known_only_by_name_is_shown_by_name() -> None:
    named = report(
        obs(None, TlsVersion.TLS1_2, peer_host="mx.example.org", direction=Direction.OUTBOUND)
    )  # type: ignore[arg-type]
    assert "mx.example.org" in render_logs_text(named, color=False)
    assert "? (" not in render_logs_text(named, color=False)

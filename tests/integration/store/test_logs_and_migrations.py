"""``mailtls logs --save`` into the store, and a version-1 database upgraded in place."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select

from mailtls.logs.analyse import analyse_logs
from mailtls.store import Store
from mailtls.store.migrations import LATEST_VERSION
from mailtls.store.tables import (
    TABLES_OF_VERSION,
    log_peers,
    metadata,
    runs,
    schema_versions,
)

EXAMPLE_LOG = Path(__file__).resolve().parents[3] / "docs" / "examples" / "postfix-mail.log"


def test_a_saved_logs_report_reads_back_with_its_peer_table(database: str) -> None:
    report = analyse_logs([str(EXAMPLE_LOG)], year=2026, impact=True)
    assert report.peers
    with Store(database) as store:
        analysis = store.save_logs_report(report)
        assert store.logs_report(analysis) == report
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(log_peers).where(log_peers.c.analysis_id == analysis)
            ).all()
    assert len(rows) == len(report.peers)
    for row, peer in zip(rows, report.peers, strict=True):
        assert (row.peer_ip, row.direction, row.total) == (
            peer.peer_ip,
            peer.direction.value,
            peer.total,
        )
        counted = row.tls1_3 + row.tls1_2 + row.tls1_1 + row.tls1_0
        assert counted + row.tls_unknown + row.plaintext == peer.total


def test_logs_save_on_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "store" / "mailtls.sqlite"  # its folder does not exist yet
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailtls.cli",
            "logs",
            "--year",
            "2026",
            "--save",
            "--db",
            str(database),
            str(EXAMPLE_LOG),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the example log has TLS 1.0 peers
    assert f"saved as log analysis 1 in {database}" in done.stderr
    with Store(str(database)) as store:
        assert store.logs_report(1).sources[0].name.endswith("postfix-mail.log")


def test_a_version_1_database_is_upgraded_keeping_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    added_later = {table.name for tables in TABLES_OF_VERSION.values() for table in tables}
    with engine.begin() as connection:
        metadata.create_all(
            connection, tables=[t for t in metadata.sorted_tables if t.name not in added_later]
        )
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        connection.execute(
            schema_versions.insert().values(version=1, applied_at=moment, description="v1")
        )
        connection.execute(
            runs.insert().values(
                label="old.txt",
                started_at=moment,
                tool_version="0.0.9",
                options="{}",
                target_count=0,
            )
        )
    engine.dispose()
    with Store(str(path)) as store:
        assert [info.label for info in store.runs()] == ["old.txt"]
        with store.engine.connect() as connection:
            versions = connection.execute(select(schema_versions.c.version)).scalars().all()
            tables = set(inspect(connection).get_table_names())
            assert connection.execute(select(func.count()).select_from(log_peers)).scalar() == 0
    assert sorted(versions) == list(range(1, LATEST_VERSION + 1))
    assert added_later <= tables

"""``mailtls scan`` end to end: a real nsd with a generated zone, the fleet's Postfix listeners,
and the store on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select

from mailtls.schema import check_report_schema
from mailtls.store import Store
from mailtls.store.tables import endpoints, results
from tests.integration.browser import Browser
from tests.integration.postgres import PostgresServer, running_postgres
from tests.integration.scan.conftest import (
    DOMAIN_COUNT,
    MISSING,
    POSTURES,
    ScanSetup,
    run_mailtls,
    scan_command,
)
from tests.integration.test_report_browser import ROWS_SCRIPT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres_server() -> object:
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "scan.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


def stored_counts(database: str, run_id: int) -> tuple[int, int, int]:
    """(results, distinct targets with a result, endpoints) of a run."""
    with Store(database) as store, store.engine.connect() as connection:
        mine = results.c.run_id == run_id
        total = connection.execute(select(func.count()).where(mine)).scalar()
        distinct = connection.execute(
            select(func.count(func.distinct(results.c.target_id))).where(mine)
        ).scalar()
        probed = connection.execute(
            select(func.count()).select_from(endpoints).where(endpoints.c.run_id == run_id)
        ).scalar()
    return int(total or 0), int(distinct or 0), int(probed or 0)


def test_a_scan_stores_one_right_result_per_domain_probing_each_address_once(
    scan_setup: ScanSetup, database: str
) -> None:
    done = subprocess.run(
        scan_command(scan_setup, database, str(scan_setup.list_file), "--json", "-q"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr  # legacy and plaintext MX hosts are critical
    summary = json.loads(done.stdout)
    targets = DOMAIN_COUNT + len(MISSING)
    assert (summary["targets"], summary["completed"], summary["finished"]) == (
        targets,
        targets,
        True,
    )
    # Four MX hosts, one address each: four endpoints probed, whatever the number of domains.
    assert summary["this_invocation"]["endpoints_probed"] == len(POSTURES)
    run_id = summary["run"]
    assert stored_counts(database, run_id) == (targets, targets, len(POSTURES))

    with Store(database) as store:
        reports = {r.target.name: r for r in store.domain_reports(run_id)}
    assert len(reports) == targets
    for domain in scan_setup.zone.domains:
        report = reports[domain.name]
        assert [h.host for h in report.mx_hosts] == list(domain.mx_hosts)
        supported = [
            {v for v, s in a.tls_versions.items() if s.value == "supported"}
            for h in report.mx_hosts
            for a in h.addresses
        ]
        best = scan_setup.expected_best_tls(domain)
        common = set.intersection(*supported) if supported else set()
        newest = max(common, key=lambda v: v.rank) if common else None
        assert newest == best, domain.name
    for name in MISSING:
        assert [f.code.value for f in reports[name].findings] == ["DOMAIN_NXDOMAIN"]


def test_runs_and_show_read_the_store(scan_setup: ScanSetup, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    short_list = tmp_path / "short.txt"
    names = [d.name for d in scan_setup.zone.domains[:8]]
    short_list.write_text("\n".join(names) + "\nnot a domain!\n\n[bad\n")
    done = subprocess.run(
        scan_command(scan_setup, database, str(short_list), "-q"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"{short_list}:9: skipped" in done.stderr
    assert f"{short_list}:11: skipped" in done.stderr
    assert "8 targets" in done.stderr
    assert "run 1 finished: 8 of 8 targets stored" in done.stdout

    listed = run_mailtls("runs", "--db", database, "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [(r["run_id"], r["targets"], r["completed"]) for r in runs] == [(1, 8, 8)]

    shown = run_mailtls("show", "1", names[0], names[2], "--db", database, "--json")
    document = json.loads(shown.stdout)
    jsonschema.validate(document, check_report_schema())
    assert [d["target"]["name"] for d in document["domains"]] == [names[0], names[2]]
    assert shown.returncode == 2  # names[2] points at the TLS 1.0-only host

    # names[4]: one MX, the modern listener, whose certificate names the fleet's host, not the
    # scan zone's: a warning.
    text = run_mailtls("show", "latest", names[4], "--db", database)
    assert text.returncode == 1, text.stderr
    assert names[4] in text.stdout
    assert "CERT_NAME_MISMATCH" in text.stdout

    unknown = run_mailtls("show", "1", "nowhere.scan.test", "--db", database)
    assert unknown.returncode == 64
    assert "no result for nowhere.scan.test" in unknown.stderr
    no_run = run_mailtls("show", "7", "--db", database)
    assert (no_run.returncode, "there is no run 7" in no_run.stderr) == (74, True)


def test_a_killed_scan_resumes_without_losing_or_repeating_a_result(
    scan_setup: ScanSetup, tmp_path: Path
) -> None:
    database = str(tmp_path / "scan.sqlite")
    # Few workers and a per-domain pace from the shared endpoints' gap keep the run long enough
    # to be killed in the middle.
    process = subprocess.Popen(
        scan_command(
            scan_setup,
            database,
            str(scan_setup.list_file),
            "--domain-workers",
            "1",
            "--progress",
            "none",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        stored = 0
        while stored < 40:
            assert process.poll() is None, "the scan ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
            if Path(database).exists():
                try:
                    stored = stored_counts(database, 1)[0]
                except Exception:  # the schema may not exist yet
                    stored = 0
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    targets = DOMAIN_COUNT + len(MISSING)
    before, _, _ = stored_counts(database, 1)
    assert 40 <= before < targets

    listed = json.loads(run_mailtls("runs", "--db", database, "--json").stdout)
    assert listed[0]["finished_at"] is None

    resumed = subprocess.run(
        [*scan_command(scan_setup, database)[:6], "--resume", "1", "--json", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 2, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["this_invocation"]["stored"] == targets - before
    assert summary["this_invocation"]["endpoints_probed"] == 0  # the killed run probed them all
    assert stored_counts(database, 1) == (targets, targets, len(POSTURES))


def test_resume_refuses_new_probe_options_and_a_list(scan_setup: ScanSetup, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    both = run_mailtls("scan", "--db", database, "--resume", "1", str(scan_setup.list_file))
    assert (both.returncode, "give no FILE" in both.stderr) == (64, True)
    changed = run_mailtls("scan", "--db", database, "--resume", "1", "--timeout", "3")
    assert (changed.returncode, "drop --timeout" in changed.stderr) == (64, True)
    neither = run_mailtls("scan", "--db", database)
    assert neither.returncode == 64
    missing = run_mailtls("scan", "--db", database, str(tmp_path / "absent.txt"))
    assert (missing.returncode, "cannot read the list" in missing.stderr) == (64, True)


def test_ctrl_c_stops_with_the_resume_command_and_keeps_the_results(
    scan_setup: ScanSetup, tmp_path: Path
) -> None:
    database = str(tmp_path / "scan.sqlite")
    process = subprocess.Popen(
        scan_command(
            scan_setup, database, str(scan_setup.list_file), "--domain-workers", "1", "-q"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while stored < 20:
        assert process.poll() is None, "the scan ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
        with contextlib.suppress(Exception):  # the schema may not exist yet
            stored = stored_counts(database, 1)[0]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    kept, distinct, _ = stored_counts(database, 1)
    assert kept == distinct >= stored
    assert f"continue with: mailtls scan --resume 1 --db {database}" in err
    assert "not finished" in out


def test_report_and_diff_of_two_real_runs(scan_setup: ScanSetup, tmp_path: Path) -> None:
    database = str(tmp_path / "scan.sqlite")
    short_list = tmp_path / "short.txt"
    names = [d.name for d in scan_setup.zone.domains[:6]]
    short_list.write_text("\n".join(names) + "\n")
    first = subprocess.run(
        scan_command(scan_setup, database, str(short_list), "-q"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert first.returncode == 2, first.stderr
    # The second run trusts only the system's roots: the fleet's certificates become untrusted.
    without_ca = scan_command(scan_setup, database, str(short_list), "-q")
    at = without_ca.index("--ca-file")
    del without_ca[at : at + 2]
    second = subprocess.run(without_ca, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 2, second.stderr

    worse = run_mailtls("diff", "1", "2", "--db", database, "--format", "json")
    assert worse.returncode == 1, worse.stderr
    document = json.loads(worse.stdout)
    assert document["unchanged"] + len(document["changed"]) == len(names)
    new_codes = {
        item["finding"]["code"] for change in document["changed"] for item in change["new_findings"]
    }
    assert "CERT_UNTRUSTED" in new_codes
    better = run_mailtls("diff", "2", "latest", "--db", database)
    assert better.returncode == 0, better.stderr

    html_file = tmp_path / "report.html"
    made = run_mailtls("report", "1", "--db", database, "--output", str(html_file))
    assert made.returncode == 2, made.stderr
    html = html_file.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    with Browser() as browser:
        browser.open(html_file)
        assert browser.console() == []
        shown = [row["name"] for row in browser.evaluate(ROWS_SCRIPT)]
    assert shown == names
    csv_text = run_mailtls("report", "1", "--db", database, "--format", "csv").stdout
    assert all(name in csv_text for name in names)
    one = run_mailtls(
        "report", "latest", "--db", database, "--format", "json", "--domain", names[3]
    )
    report = json.loads(one.stdout)
    assert [d["report"]["target"]["name"] for d in report["domains"]] == [names[3]]
    unwritable = run_mailtls(
        "report", "1", "--db", database, "--output", str(tmp_path / "no" / "dir" / "r.html")
    )
    assert (unwritable.returncode, "cannot write" in unwritable.stderr) == (64, True)
    overview = run_mailtls("show", "1", "--db", database)
    assert overview.returncode == 2
    assert "6" in overview.stdout

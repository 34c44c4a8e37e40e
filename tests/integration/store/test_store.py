"""The store on a real SQLite file and a real PostgreSQL server: runs, targets, results,
endpoints, and the faults a user meets (locked, full, unreachable, foreign)."""

from __future__ import annotations

import dataclasses
import socket
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from mailtls.errors import StoreError, UsageError
from mailtls.models import AddressObservation, DomainReport, Endpoint, TargetKind
from mailtls.policy.domain import all_findings, exit_code
from mailtls.store import ListedTarget, Store
from mailtls.store.codec import without_chains
from mailtls.store.migrations import LATEST_VERSION
from mailtls.store.tables import addresses, findings, probe_results, results, schema_versions
from mailtls.targets import parse_target
from tests.unit.render import samples

STARTED = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def sample_domains() -> list[DomainReport]:
    return list(samples.all_samples()["all"].domains)


def listed(*names: str) -> list[ListedTarget]:
    return [ListedTarget(line, parse_target(name)) for line, name in enumerate(names, start=1)]


def new_run(store: Store, entries: list[ListedTarget]) -> int:
    created = store.create_run(
        label="list.txt",
        started_at=STARTED,
        tool_version="0.1.0",
        options={"timeout": "30"},
        listed=entries,
    )
    return created.info.run_id


def observation_of(domain: DomainReport) -> list[AddressObservation]:
    return [
        AddressObservation(
            endpoint=address.endpoint,
            probes=address.probes,
            started_at=domain.started_at,
            elapsed_seconds=address.elapsed_seconds,
        )
        for host in domain.mx_hosts
        for address in host.addresses
    ]


def test_a_run_keeps_its_list_in_order_without_duplicates(database: str) -> None:
    with Store(database) as store:
        created = store.create_run(
            label="list.txt",
            started_at=STARTED,
            tool_version="0.1.0",
            options={"timeout": "30"},
            listed=listed("b.example", "a.example", "B.example.", "[mx.a.example]", "a.example"),
        )
        assert created.duplicates == 2
        info = created.info
        assert (info.targets, info.completed, info.finished_at) == (3, 0, None)
        assert info.started_at == STARTED
        assert info.options == {"timeout": "30"}
        pending = store.pending_targets(info.run_id, after=-1, limit=10)
        assert [(p.target.name, p.line, p.ordinal) for p in pending] == [
            ("b.example", 1, 0),
            ("a.example", 2, 1),
            ("mx.a.example", 4, 2),
        ]
        assert pending[2].target.kind is TargetKind.HOST
        assert store.pending_targets(info.run_id, after=0, limit=1)[0].target.name == "a.example"


def test_results_are_stored_once_and_read_back_exactly(database: str) -> None:
    domains = sample_domains()
    with Store(database) as store:
        run_id = new_run(store, listed(*(d.target.original for d in domains)))
        pending = store.pending_targets(run_id, after=-1, limit=100)
        assert len(pending) == len(domains)
        for stored, domain in zip(pending, domains, strict=True):
            ids = {o.endpoint: store.save_endpoint(run_id, o) for o in observation_of(domain)}
            assert store.save_result(run_id, stored.target_id, domain, ids) is True
            # A second save of the same target (a resumed run racing a kill) writes nothing.
            assert store.save_result(run_id, stored.target_id, domain, ids) is False
        assert store.pending_targets(run_id, after=-1, limit=100) == []
        assert store.run(run_id).completed == len(domains)
        read = list(store.domain_reports(run_id))
        assert read == [without_chains(d) for d in domains]
        one = domains[1].target.name
        assert [d.target.name for d in store.domain_reports(run_id, [one])] == [one]
        with store.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(results)).scalar() == len(
                domains
            )
            stored_findings = connection.execute(select(func.count()).select_from(findings))
            assert stored_findings.scalar() == sum(len(list(_all_findings(d))) for d in domains)
            stored_addresses = connection.execute(select(func.count()).select_from(addresses))
            assert stored_addresses.scalar() == sum(
                len(h.addresses) for d in domains for h in d.mx_hosts
            )


def _all_findings(domain: DomainReport) -> list[object]:
    return list(all_findings(domain))


def test_an_endpoint_is_stored_once_per_run_with_its_probes(database: str) -> None:
    domain = samples.modern_domain()
    observation = observation_of(domain)[0]
    with Store(database) as store:
        run_id = new_run(store, listed("a.example"))
        other_run = new_run(store, listed("a.example"))
        first = store.save_endpoint(run_id, observation)
        again = store.save_endpoint(run_id, dataclasses.replace(observation, elapsed_seconds=9.0))
        assert again == first
        assert store.save_endpoint(other_run, observation) != first
        found = store.endpoint(run_id, observation.endpoint)
        assert found == (first, observation)
        assert store.endpoint(run_id, Endpoint("192.0.2.99", 25)) is None
        with store.engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(probe_results)
                .where(probe_results.c.endpoint_id == first)
            ).scalar()
        assert count == len(observation.probes)


def test_runs_are_listed_and_finished(database: str) -> None:
    with Store(database) as store:
        first = new_run(store, listed("a.example", "b.example"))
        second = new_run(store, listed("c.example"))
        store.finish_run(first, STARTED)
        infos = store.runs()
        assert [(i.run_id, i.targets, i.finished_at) for i in infos] == [
            (first, 2, STARTED),
            (second, 1, None),
        ]
        assert store.latest_run_id() == second
        assert store.reopen_run(first).finished_at == STARTED
        assert store.run(first).finished_at is None
        with pytest.raises(StoreError, match="there is no run 99"):
            store.run(99)
        with pytest.raises(StoreError, match="there is no run 99"):
            list(store.domain_reports(99))


def test_opening_again_keeps_the_data_and_the_schema_version(database: str) -> None:
    with Store(database) as store:
        run_id = new_run(store, listed("a.example"))
    with Store(database) as store:
        assert store.run(run_id).targets == 1
        with store.engine.connect() as connection:
            versions = connection.execute(select(schema_versions.c.version)).scalars().all()
        assert versions == list(range(1, LATEST_VERSION + 1))


def test_a_database_from_a_newer_mailtls_is_refused(database: str) -> None:
    with Store(database) as store, store.engine.begin() as connection:
        connection.execute(
            schema_versions.insert().values(
                version=LATEST_VERSION + 1, applied_at=STARTED, description="from the future"
            )
        )
    with pytest.raises(StoreError, match="written by a newer mailtls"):
        Store(database)


def test_a_damaged_report_is_a_store_error_not_a_crash(database: str) -> None:
    domain = samples.modern_domain()
    with Store(database) as store:
        run_id = new_run(store, listed("a.example"))
        target = store.pending_targets(run_id, after=-1, limit=1)[0]
        store.save_result(run_id, target.target_id, domain, {})
        with store.engine.begin() as connection:
            connection.execute(results.update().values(report=b"not zlib"))
        with pytest.raises(StoreError, match="cannot be read"):
            list(store.domain_reports(run_id))


# --- faults -----------------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(str(path))


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the database file"):
        Store(str(tmp_path / "no" / "such" / "folder" / "results.sqlite"))


def test_a_locked_sqlite_file_gives_a_clear_message_and_no_partial_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailtls.store.store.SQLITE_BUSY_SECONDS", 0.2)
    path = tmp_path / "results.sqlite"
    Store(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
    try:
        with Store(str(path)) as store, pytest.raises(StoreError, match="locked by another"):
            new_run(store, listed("a.example"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store(str(path)) as store:
        assert store.runs() == []


def test_a_full_disk_leaves_no_partial_run(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    Store(str(path)).close()
    with Store(str(path)) as store:
        with store.engine.connect() as connection:
            pages = connection.execute(text("PRAGMA page_count")).scalar()
        many = listed(*(f"domain-{n}.example" for n in range(20_000)))

        # SQLite's own "database or disk is full", reached by capping the file's pages on the
        # connection the run is written through.
        def cap(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages or 0) + 8}")  # type: ignore[attr-defined]

        store.engine.dispose()
        event.listen(store.engine, "connect", cap)
        with pytest.raises(StoreError, match="disk is full"):
            new_run(store, many)
    with Store(str(path)) as store:
        assert store.runs() == []


def test_an_unreachable_postgresql_server_is_named() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(StoreError, match="cannot reach the database server"):
        Store(f"postgresql://postgres@127.0.0.1:{port}/mailtls")


def test_a_missing_postgresql_database_is_named(postgres_server: object) -> None:
    url = postgres_server.url("no_such_database")  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="does not exist"):
        Store(url)


@pytest.mark.parametrize(
    ("location", "complaint"),
    [
        ("mysql://root@127.0.0.1/x", "SQLite or PostgreSQL, not 'mysql'"),
        ("sqlite://", "in-memory"),
        ("   ", "empty"),
        ("postgresql://user:secret@127.0.0.1:port/db", "not a database URL"),
    ],
)
def test_wrong_locations_are_usage_errors(location: str, complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint) as raised:
        Store(location)
    assert "secret" not in str(raised.value)


def test_two_stores_can_read_while_one_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "results.sqlite")
    with Store(path) as writer:
        run_id = new_run(writer, listed("a.example"))
        seen: list[int] = []

        def read() -> None:
            with Store(path) as reader:
                seen.append(reader.run(run_id).targets)

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=30)
        assert seen == [1]


@pytest.mark.parametrize("name", sorted(samples.all_samples()))
def test_the_run_exit_code_counted_by_the_database_equals_checks(database: str, name: str) -> None:
    report = samples.all_samples()[name]
    with Store(database) as store:
        run_id = new_run(store, listed(*(d.target.original for d in report.domains)))
        for stored, domain in zip(
            store.pending_targets(run_id, after=-1, limit=100), report.domains, strict=True
        ):
            store.save_result(run_id, stored.target_id, domain, {})
        assert store.run_outcome(run_id).exit_code == exit_code(report.domains)


def test_an_empty_run_exits_like_an_empty_check(database: str) -> None:
    with Store(database) as store:
        run_id = new_run(store, [])
        assert store.run_outcome(run_id).exit_code == exit_code([]) == 0

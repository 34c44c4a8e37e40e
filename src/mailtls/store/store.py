"""The store: runs, their targets and results, in SQLite or PostgreSQL.

Every write is one transaction: a run with its whole target list, an endpoint with its probe
results, a domain's result with its MX hosts, addresses and findings. A process killed at any
moment leaves each of them either complete or absent, so a resumed run redoes exactly the
targets without a result. ``results.target_id`` is unique: a result cannot be stored twice.

Database failures come out as :class:`StoreError` with a message a user can act on (locked,
full, unreachable, refused login, not a mailtls database), never as a driver exception.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from mailtls.errors import StoreError
from mailtls.logs.report import LogsReport
from mailtls.models import (
    AddressObservation,
    DomainReport,
    Endpoint,
    FindingCode,
    RunInfo,
    Severity,
    Target,
    TargetKind,
)
from mailtls.policy.domain import EXIT_CRITICAL, EXIT_OK, EXIT_UNTESTABLE, EXIT_WARNING
from mailtls.receiver.models import ReceivedSession
from mailtls.store import codec, rows
from mailtls.store.location import database_url, describe
from mailtls.store.migrations import migrate
from mailtls.store.tables import (
    addresses,
    endpoints,
    findings,
    log_analyses,
    log_peers,
    mx_hosts,
    probe_results,
    received_sessions,
    results,
    runs,
    targets,
)

T = TypeVar("T")

# How long SQLite waits for another writer before giving up with "database is locked".
SQLITE_BUSY_SECONDS = 10.0
_INSERT_BATCH = 5000  # target rows per INSERT when a run's list is stored


@dataclass(frozen=True)
class ListedTarget:
    """A target of a scan list, with the input line it came from."""

    line: int
    target: Target


@dataclass(frozen=True)
class StoredTarget:
    target_id: int
    ordinal: int
    line: int
    target: Target


@dataclass(frozen=True)
class RunOutcome:
    """What a run's exit code is decided from, counted by the database."""

    results: int
    tested: int  # results with at least one tested address
    accepting_no_mail: int  # results whose domain publishes a null MX
    worst: Severity | None

    @property
    def exit_code(self) -> int:
        """``mailtls check``'s exit code over these results (``policy.domain.exit_code``)."""
        if self.results and self.accepting_no_mail < self.results and not self.tested:
            return EXIT_UNTESTABLE
        if self.worst is None or self.worst is Severity.INFO:
            return EXIT_OK
        return EXIT_WARNING if self.worst is Severity.WARNING else EXIT_CRITICAL


@dataclass(frozen=True)
class StoredRun:
    info: RunInfo
    duplicates: int  # list entries dropped because an equal target came earlier


def explain(error: SQLAlchemyError, location: str) -> str:
    """What went wrong with the database, in words a user can act on."""
    original = error.orig if isinstance(error, DBAPIError) else None
    detail = " ".join(str(original or error).split())
    lowered = detail.lower()
    where = describe(location)
    if "database is locked" in lowered or "database table is locked" in lowered:
        return (
            f"{where}: the database is locked by another process (waited "
            f"{SQLITE_BUSY_SECONDS:g} s); let the other mailtls finish or use another --db"
        )
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return f"{where}: the disk is full; nothing of the last step was stored ({detail})"
    if "file is not a database" in lowered or "not a database" in lowered:
        return f"{where}: this file is not a SQLite database"
    if "unable to open database" in lowered:
        return f"{where}: cannot open the database file (does its folder exist? may we write?)"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{where}: the database is read-only for this user"
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return f"{where}: the database refused the login: {detail}"
    if "connection refused" in lowered or "could not connect" in lowered:
        return f"{where}: cannot reach the database server: {detail}"
    if "does not exist" in lowered and "database" in lowered:
        return f"{where}: {detail}"
    return f"{where}: database error: {detail}"


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (show, report) never block the scan's writer, and a commit survives a
    # killed process. NORMAL sync is durable against process death, which is what resume needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:  # only for statements that insert no row, which ours never are
        raise StoreError("the database did not report the id of a new row")
    return int(key[0])


class Store:
    """One database. Not shared between threads: open one per thread."""

    def __init__(self, location: str) -> None:
        self.location = location
        url = database_url(location)
        self._sqlite = url.get_backend_name() == "sqlite"
        try:
            if self._sqlite:
                self.engine: Engine = create_engine(
                    url, connect_args={"timeout": SQLITE_BUSY_SECONDS}
                )
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                self.engine = create_engine(
                    url, connect_args={"connect_timeout": 10}, pool_pre_ping=True
                )
        except SQLAlchemyError as error:
            raise StoreError(explain(error, location)) from None
        try:
            migrate(self.engine)
        except SQLAlchemyError as error:
            self.engine.dispose()
            raise StoreError(explain(error, location)) from None
        except StoreError:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------------------

    def _write(self, work: Callable[[Connection], T]) -> T:
        try:
            with self.engine.begin() as connection:
                return work(connection)
        except StoreError:
            raise
        except SQLAlchemyError as error:
            raise StoreError(explain(error, self.location)) from None

    def _read(self, work: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as connection:
                return work(connection)
        except SQLAlchemyError as error:
            raise StoreError(explain(error, self.location)) from None

    # --- runs ---------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        label: str,
        started_at: datetime,
        tool_version: str,
        options: Mapping[str, str],
        listed: Iterable[ListedTarget],
    ) -> StoredRun:
        """A new run with its whole list, in one transaction; duplicates are dropped here."""

        def work(connection: Connection) -> StoredRun:
            run_id = _inserted_id(
                connection.execute(
                    runs.insert().values(
                        label=label,
                        started_at=started_at,
                        tool_version=tool_version,
                        options=json.dumps(dict(options), sort_keys=True),
                        target_count=0,
                    )
                )
            )
            seen: set[tuple[str, str, int]] = set()
            batch: list[dict[str, Any]] = []
            duplicates = 0
            for entry in listed:
                target = entry.target
                key = (target.kind.value, target.name, target.port)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                batch.append(
                    {
                        "run_id": run_id,
                        "ordinal": len(seen) - 1,
                        "line": entry.line,
                        "kind": target.kind.value,
                        "name": target.name,
                        "port": target.port,
                        "original": target.original,
                    }
                )
                if len(batch) >= _INSERT_BATCH:
                    connection.execute(targets.insert(), batch)
                    batch = []
            if batch:
                connection.execute(targets.insert(), batch)
            connection.execute(
                update(runs).where(runs.c.id == run_id).values(target_count=len(seen))
            )
            return StoredRun(self._run_info(connection, run_id), duplicates)

        return self._write(work)

    def finish_run(self, run_id: int, finished_at: datetime) -> None:
        self._write(
            lambda connection: connection.execute(
                update(runs).where(runs.c.id == run_id).values(finished_at=finished_at)
            )
        )

    def reopen_run(self, run_id: int) -> RunInfo:
        """A run about to be resumed: no longer finished until it is again."""

        def work(connection: Connection) -> RunInfo:
            info = self._run_info(connection, run_id)
            connection.execute(update(runs).where(runs.c.id == run_id).values(finished_at=None))
            return info

        return self._write(work)

    def run(self, run_id: int) -> RunInfo:
        return self._read(lambda connection: self._run_info(connection, run_id))

    def runs(self) -> list[RunInfo]:
        def work(connection: Connection) -> list[RunInfo]:
            completed = self._completed_counts(connection)
            return [
                self._info_from_row(row, completed.get(row.id, 0))
                for row in connection.execute(select(runs).order_by(runs.c.id))
            ]

        return self._read(work)

    def latest_run_id(self) -> int | None:
        return self._read(
            lambda connection: connection.execute(select(func.max(runs.c.id))).scalar()
        )

    def _completed_counts(
        self, connection: Connection, run_id: int | None = None
    ) -> dict[int, int]:
        query = select(results.c.run_id, func.count()).group_by(results.c.run_id)
        if run_id is not None:
            query = query.where(results.c.run_id == run_id)
        return {run: count for run, count in connection.execute(query)}

    def _run_info(self, connection: Connection, run_id: int) -> RunInfo:
        row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise StoreError(f"{describe(self.location)}: there is no run {run_id}")
        return self._info_from_row(row, self._completed_counts(connection, run_id).get(run_id, 0))

    @staticmethod
    def _info_from_row(row: Any, completed: int) -> RunInfo:
        return RunInfo(
            run_id=row.id,
            label=row.label,
            started_at=row.started_at,
            finished_at=row.finished_at,
            tool_version=row.tool_version,
            options=json.loads(row.options),
            targets=row.target_count,
            completed=completed,
        )

    def run_outcome(self, run_id: int) -> RunOutcome:
        def work(connection: Connection) -> RunOutcome:
            mine = results.c.run_id == run_id
            total = connection.execute(select(func.count()).where(mine)).scalar() or 0
            tested = (
                connection.execute(
                    select(func.count()).where(mine).where(results.c.tested_addresses > 0)
                ).scalar()
                or 0
            )
            null_mx = (
                connection.execute(
                    select(func.count(func.distinct(findings.c.result_id)))
                    .join(results, results.c.id == findings.c.result_id)
                    .where(mine)
                    .where(findings.c.mx_host.is_(None))
                    .where(findings.c.code == FindingCode.NULL_MX.value)
                ).scalar()
                or 0
            )
            severities = connection.execute(
                select(results.c.worst_severity).where(mine).distinct()
            ).scalars()
            known = [Severity(value) for value in severities if value is not None]
            worst = max(known, key=lambda severity: severity.rank) if known else None
            return RunOutcome(total, tested, null_mx, worst)

        return self._read(work)

    # --- targets ------------------------------------------------------------------------------

    def pending_targets(self, run_id: int, *, after: int, limit: int) -> list[StoredTarget]:
        """Targets of the run without a result, in list order, past ordinal ``after``."""

        def work(connection: Connection) -> list[StoredTarget]:
            done = select(results.c.target_id).where(results.c.run_id == run_id)
            query = (
                select(targets)
                .where(targets.c.run_id == run_id)
                .where(targets.c.ordinal > after)
                .where(targets.c.id.not_in(done))
                .order_by(targets.c.ordinal)
                .limit(limit)
            )
            return [
                StoredTarget(
                    target_id=row.id,
                    ordinal=row.ordinal,
                    line=row.line,
                    target=Target(
                        kind=TargetKind(row.kind),
                        name=row.name,
                        port=row.port,
                        original=row.original,
                    ),
                )
                for row in connection.execute(query)
            ]

        return self._read(work)

    # --- endpoints ----------------------------------------------------------------------------

    def endpoint(self, run_id: int, endpoint: Endpoint) -> tuple[int, AddressObservation] | None:
        """The run's stored observation of an endpoint, with its id, if it was probed."""

        def work(connection: Connection) -> tuple[int, AddressObservation] | None:
            row = connection.execute(
                select(endpoints.c.id, endpoints.c.observation)
                .where(endpoints.c.run_id == run_id)
                .where(endpoints.c.ip == endpoint.ip)
                .where(endpoints.c.port == endpoint.port)
            ).first()
            if row is None:
                return None
            return row.id, self._unpack(AddressObservation, row.observation)

        return self._read(work)

    def save_endpoint(self, run_id: int, observation: AddressObservation) -> int:
        """Store an endpoint's observation once per run; returns its id.

        An endpoint stored already (a resumed run killed between probing and saving a domain)
        keeps its first observation, as "probed once per run" promises.
        """

        def work(connection: Connection) -> int:
            try:
                with connection.begin_nested():
                    endpoint_id: int = _inserted_id(
                        connection.execute(
                            endpoints.insert().values(
                                run_id=run_id,
                                ip=observation.endpoint.ip,
                                port=observation.endpoint.port,
                                started_at=observation.started_at,
                                elapsed_seconds=observation.elapsed_seconds,
                                deadline_hit=observation.deadline_hit,
                                observation=codec.pack(observation),
                            )
                        )
                    )
            except IntegrityError:
                existing: int = connection.execute(
                    select(endpoints.c.id)
                    .where(endpoints.c.run_id == run_id)
                    .where(endpoints.c.ip == observation.endpoint.ip)
                    .where(endpoints.c.port == observation.endpoint.port)
                ).scalar_one()
                return existing
            probes = rows.probe_rows(observation)
            if probes:
                connection.execute(
                    probe_results.insert(),
                    [{"endpoint_id": endpoint_id, **probe} for probe in probes],
                )
            return endpoint_id

        return self._write(work)

    # --- results ------------------------------------------------------------------------------

    def save_result(
        self,
        run_id: int,
        target_id: int,
        report: DomainReport,
        endpoint_ids: Mapping[Endpoint, int],
    ) -> bool:
        """Store a domain's result; False (and nothing written) if it has one already."""

        def work(connection: Connection) -> bool:
            try:
                with connection.begin_nested():
                    result_id = _inserted_id(
                        connection.execute(
                            results.insert().values(
                                run_id=run_id,
                                target_id=target_id,
                                report=codec.pack(codec.without_chains(report)),
                                **rows.result_row(report),
                            )
                        )
                    )
            except IntegrityError:
                return False
            for host in report.mx_hosts:
                host_id = _inserted_id(
                    connection.execute(
                        mx_hosts.insert().values(
                            result_id=result_id,
                            host=host.host,
                            preference=host.preference,
                            implicit=host.implicit,
                        )
                    )
                )
                address_rows = [
                    {
                        "result_id": result_id,
                        "mx_host_id": host_id,
                        "endpoint_id": endpoint_ids.get(address.endpoint),
                        **rows.address_row(address),
                    }
                    for address in host.addresses
                ]
                if address_rows:
                    connection.execute(addresses.insert(), address_rows)
            finding_rows = [
                {"result_id": result_id, **entry.row()} for entry in rows.finding_rows(report)
            ]
            if finding_rows:
                connection.execute(findings.insert(), finding_rows)
            return True

        return self._write(work)

    # --- saved log analyses -----------------------------------------------------------------------

    def save_logs_report(self, report: LogsReport) -> int:
        """Store a ``mailtls logs`` report with its peer table; returns the analysis id."""
        first = [s.first_seen for s in report.sources if s.first_seen is not None]
        last = [s.last_seen for s in report.sources if s.last_seen is not None]

        def work(connection: Connection) -> int:
            analysis_id = _inserted_id(
                connection.execute(
                    log_analyses.insert().values(
                        generated_at=report.generated_at,
                        tool_version=report.tool_version,
                        inputs=json.dumps([source.name for source in report.sources]),
                        first_seen=min(first, default=None),
                        last_seen=max(last, default=None),
                        sessions=sum(report.totals.values()),
                        exit_code=report.exit_code,
                        report=codec.pack(report),
                    )
                )
            )
            peers = [{"analysis_id": analysis_id, **rows.peer_row(p)} for p in report.peers]
            for start in range(0, len(peers), _INSERT_BATCH):
                connection.execute(log_peers.insert(), peers[start : start + _INSERT_BATCH])
            return analysis_id

        return self._write(work)

    def logs_report(self, analysis_id: int) -> LogsReport:
        blob = self._blob(log_analyses.c.report, log_analyses.c.id, analysis_id, "log analysis")
        return self._unpack(LogsReport, blob)

    # --- sessions recorded by mailtls receive --------------------------------------------------

    def save_received_session(self, record: ReceivedSession) -> int:
        """Store one receiver session in its own transaction; returns its id."""

        def work(connection: Connection) -> int:
            return _inserted_id(
                connection.execute(
                    received_sessions.insert().values(
                        started_at=record.started_at,
                        ended_at=record.ended_at,
                        listener=record.listener,
                        client_ip=record.client_ip,
                        client_port=record.client_port,
                        reverse_name=record.reverse_name,
                        helo=record.helo,
                        tls_version=record.tls_version.value if record.tls_version else None,
                        cipher=record.tls.cipher if record.tls is not None else None,
                        verdict=record.verdict.value,
                        product=record.product.product,
                        session_end=record.end.value,
                        messages=len(record.messages),
                        record=codec.pack(record),
                    )
                )
            )

        return self._write(work)

    def received_sessions(
        self, *, client_ip: str | None = None, limit: int | None = None
    ) -> list[tuple[int, ReceivedSession]]:
        """Recorded sessions, oldest first (the newest ``limit`` of them if given)."""

        def work(connection: Connection) -> list[tuple[int, bytes]]:
            query = select(received_sessions.c.id, received_sessions.c.record)
            if client_ip is not None:
                query = query.where(received_sessions.c.client_ip == client_ip)
            query = query.order_by(received_sessions.c.id.desc())
            if limit is not None:
                query = query.limit(limit)
            return [(row.id, bytes(row.record)) for row in connection.execute(query)]

        rows_read = self._read(work)
        return [
            (record_id, self._unpack(ReceivedSession, blob))
            for record_id, blob in reversed(rows_read)
        ]

    def received_session(self, record_id: int) -> ReceivedSession:
        blob = self._blob(
            received_sessions.c.record, received_sessions.c.id, record_id, "received session"
        )
        return self._unpack(ReceivedSession, blob)

    def domain_reports(
        self, run_id: int, domains: Sequence[str] | None = None
    ) -> Iterator[DomainReport]:
        """The run's stored reports in list order, read a page at a time."""
        self.run(run_id)  # an unknown run is an error, not an empty report
        last = -1
        while True:
            page = self._read(
                functools.partial(self._report_page, run_id=run_id, after=last, domains=domains)
            )
            if not page:
                return
            for ordinal, blob in page:
                last = ordinal
                yield self._unpack(DomainReport, blob)

    def _report_page(
        self,
        connection: Connection,
        *,
        run_id: int,
        after: int,
        domains: Sequence[str] | None,
    ) -> list[tuple[int, bytes]]:
        query = (
            select(targets.c.ordinal, results.c.report)
            .join(results, results.c.target_id == targets.c.id)
            .where(targets.c.run_id == run_id)
            .where(targets.c.ordinal > after)
            .order_by(targets.c.ordinal)
            .limit(500)
        )
        if domains is not None:
            query = query.where(targets.c.name.in_(list(domains)))
        return [(ordinal, blob) for ordinal, blob in connection.execute(query)]

    def _blob(
        self, column: ColumnElement[Any], key: ColumnElement[Any], value: int, what: str
    ) -> bytes:
        """The stored blob in ``column`` of the row whose ``key`` is ``value``; a StoreError
        naming ``what`` when there is none."""

        def work(connection: Connection) -> bytes:
            blob = connection.execute(select(column).where(key == value)).scalar()
            if blob is None:
                raise StoreError(f"{describe(self.location)}: there is no {what} {value}")
            return bytes(blob)

        return self._read(work)

    def _unpack(self, cls: type[T], blob: bytes) -> T:
        try:
            return codec.unpack(cls, blob)
        except ValueError as problem:
            raise StoreError(f"{describe(self.location)}: {problem}") from None

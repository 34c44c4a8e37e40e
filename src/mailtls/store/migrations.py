"""Bring a database to the schema this mailtls expects, one recorded step at a time.

A new database gets the current tables at once and is stamped with every step. An existing one
runs the steps it has not had yet, each in its own transaction, in order. A database stamped
with a step this mailtls does not know was written by a newer version and is refused: guessing
at its shape could corrupt it.

To change the schema: edit ``tables.py`` and append a step here that makes the same change to an
existing database (SQL that both SQLite and PostgreSQL accept, or one branch per dialect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, select

from mailtls.errors import StoreError
from mailtls.store.tables import TABLES_OF_VERSION, metadata, schema_versions


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _nothing_to_change(connection: Connection) -> None:
    """The first version: a database that has it was created with it."""


def _create_tables_of(version: int) -> Callable[[Connection], None]:
    def create(connection: Connection) -> None:
        for table in TABLES_OF_VERSION[version]:
            table.create(connection)  # with its indexes

    return create


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "runs, targets, results, MX hosts, endpoints, probe results, addresses, findings",
        _nothing_to_change,
    ),
    Migration(2, "saved log analyses and their peers (mailtls logs --save)", _create_tables_of(2)),
    Migration(3, "sessions recorded by mailtls receive", _create_tables_of(3)),
)

LATEST_VERSION = MIGRATIONS[-1].version


def applied_version(connection: Connection) -> int | None:
    """The database's schema version; None for a database without our tables."""
    if not inspect(connection).has_table(schema_versions.name):
        return None
    versions = connection.execute(select(schema_versions.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; returns the version the database is now at."""
    with engine.begin() as connection:
        version = applied_version(connection)
        if version is None:
            metadata.create_all(connection)
            now = datetime.now(UTC)
            connection.execute(
                schema_versions.insert(),
                [
                    {"version": step.version, "applied_at": now, "description": step.description}
                    for step in MIGRATIONS
                ],
            )
            return LATEST_VERSION
    if version > LATEST_VERSION:
        raise StoreError(
            f"the database is at schema version {version}, written by a newer mailtls "
            f"(this one knows up to {LATEST_VERSION}); upgrade mailtls to read it"
        )
    for step in MIGRATIONS:
        if step.version <= version:
            continue
        with engine.begin() as connection:
            step.apply(connection)
            connection.execute(
                schema_versions.insert().values(
                    version=step.version,
                    applied_at=datetime.now(UTC),
                    description=step.description,
                )
            )
    return LATEST_VERSION

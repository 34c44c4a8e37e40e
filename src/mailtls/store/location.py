"""Where the store lives: a SQLite file path or a database URL, turned into an engine URL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from mailtls.errors import UsageError

DATABASE_ENVIRONMENT = "MAILTLS_DB"


def default_location() -> str:
    """``$MAILTLS_DB``, else ``mailtls.sqlite`` in the XDG data folder (~/.local/share/mailtls)."""
    if configured := os.environ.get(DATABASE_ENVIRONMENT):
        return configured
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "mailtls" / "mailtls.sqlite")


def database_url(location: str) -> URL:
    """A SQLite file path, ``sqlite:///PATH`` or ``postgresql://...`` as an engine URL.

    PostgreSQL URLs are pointed at psycopg (version 3), the driver mailtls installs; a URL that
    names another driver keeps it.
    """
    if "://" not in location:
        if not location.strip():
            raise UsageError("--db is empty: give a SQLite file path or a postgresql:// URL")
        return URL.create("sqlite", database=str(Path(location).expanduser().resolve()))
    try:
        url = make_url(location)
    except (ArgumentError, ValueError):
        raise UsageError(f"--db: not a database URL: {describe(location)}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        if not url.database:
            raise UsageError("--db: an in-memory SQLite database would lose every result")
        return url
    raise UsageError(
        f"--db: mailtls stores results in SQLite or PostgreSQL, not {backend!r} "
        f"({describe(location)})"
    )


def describe(location: str) -> str:
    """The location for messages, with any password hidden."""
    if "://" not in location:
        return location
    try:
        return make_url(location).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return location.split("://", 1)[0] + "://..."

"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Two kinds of data sit side by side, on purpose:

- **Rows for queries**: runs, the targets of each run, one result per target, its MX hosts and
  addresses, each probed endpoint with its probe results, and findings. These are what a user
  queries with SQL ("every address still on TLS 1.0 in last night's run").
- **The report itself**: each result keeps its whole ``DomainReport`` as compressed JSON (the
  ``mailtls check --json`` form), which ``show``, ``diff`` and ``report`` read back exactly.

Probe results belong to an endpoint (IP, port) of a run, not to a domain: a run probes each
endpoint once however many domains point at it, and stores it once. The per-domain judgement
of that endpoint (status, certificate against the MX name, findings) is in ``addresses``.

Change a table only through a new step in ``mailtls.store.migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored as ISO 8601 text in UTC on every database.

    SQLite has no time type and would drop the offset; text in UTC sorts correctly on both.
    """

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("the store keeps moments in UTC; a naive datetime has no moment")
        return value.astimezone(UTC).isoformat()

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(str(value)).astimezone(UTC)


metadata = MetaData()

schema_versions = Table(
    "schema_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UtcDateTime, nullable=False),
    Column("description", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("tool_version", String(40), nullable=False),
    Column("options", Text, nullable=False),  # JSON object of the options that shape results
    Column("target_count", Integer, nullable=False),
)

targets = Table(
    "targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),  # position in the run's list, from 0
    Column("line", Integer, nullable=False),  # line of the input it came from
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("port", Integer, nullable=False),
    Column("original", Text, nullable=False),
    UniqueConstraint("run_id", "kind", "name", "port", name="targets_once_per_run"),
    UniqueConstraint("run_id", "ordinal", name="targets_ordinal"),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    # One result per target: what makes a resumed run unable to store a domain twice.
    Column("target_id", Integer, ForeignKey("targets.id", ondelete="CASCADE"), unique=True),
    Column("domain", Text, nullable=False),
    Column("exo_inbound", String(32), nullable=False),
    Column("exo_outbound", String(32), nullable=False),
    Column("best_tls", String(16)),  # the newest TLS version every tested address accepts
    Column("worst_severity", String(16)),
    Column("tested_addresses", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("elapsed_seconds", Float, nullable=False),
    Column("report", LargeBinary, nullable=False),  # zlib-compressed DomainReport JSON
)

mx_hosts = Table(
    "mx_hosts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("result_id", Integer, ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
    Column("host", Text, nullable=False),
    Column("preference", Integer),
    Column("implicit", Boolean, nullable=False),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("elapsed_seconds", Float, nullable=False),
    Column("deadline_hit", Boolean, nullable=False),
    Column("observation", LargeBinary, nullable=False),  # zlib-compressed AddressObservation JSON
    UniqueConstraint("run_id", "ip", "port", name="endpoints_once_per_run"),
)

probe_results = Table(
    "probe_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("tls_version", String(16)),
    Column("cipher", Text),
    Column("stage", String(32)),
    Column("reason", Text),
    Column("elapsed_seconds", Float, nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("result_id", Integer, ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
    Column("mx_host_id", Integer, ForeignKey("mx_hosts.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="SET NULL")),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("starttls", Boolean),
    Column("tls1_0", String(16), nullable=False),
    Column("tls1_1", String(16), nullable=False),
    Column("tls1_2", String(16), nullable=False),
    Column("tls1_3", String(16), nullable=False),
    Column("exo_ciphers", String(16), nullable=False),
    Column("negotiated_version", String(16)),
    Column("negotiated_cipher", Text),
    Column("product", String(64)),
    Column("product_version", Text),
    Column("certificate_days_left", Integer),
    Column("certificate_trusted", Boolean),
    Column("certificate_name_matches", Boolean),
    Column("exo_inbound", String(32), nullable=False),
    Column("exo_outbound", String(32), nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("result_id", Integer, ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
    Column("mx_host", Text),  # null for findings about the domain itself
    Column("ip", String(45)),  # null unless the finding is about one address
    Column("port", Integer),
    Column("code", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
)

Index("results_by_run_domain", results.c.run_id, results.c.domain)
Index("findings_by_code", findings.c.code)
Index("addresses_by_result", addresses.c.result_id)
Index("mx_hosts_by_result", mx_hosts.c.result_id)
Index("probe_results_by_endpoint", probe_results.c.endpoint_id)


# --- saved log analyses (schema version 2) ----------------------------------------------------

log_analyses = Table(
    "log_analyses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generated_at", UtcDateTime, nullable=False),
    Column("tool_version", String(40), nullable=False),
    Column("inputs", Text, nullable=False),  # JSON array of the inputs' names
    Column("first_seen", UtcDateTime),
    Column("last_seen", UtcDateTime),
    Column("sessions", Integer, nullable=False),
    Column("exit_code", Integer, nullable=False),
    Column("report", LargeBinary, nullable=False),  # zlib-compressed LogsReport JSON
)

log_peers = Table(
    "log_peers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "analysis_id",
        Integer,
        ForeignKey("log_analyses.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("direction", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("peer_ip", String(45)),
    Column("peer_host", Text),
    Column("tls1_3", Integer, nullable=False),
    Column("tls1_2", Integer, nullable=False),
    Column("tls1_1", Integer, nullable=False),
    Column("tls1_0", Integer, nullable=False),
    Column("tls_unknown", Integer, nullable=False),
    Column("plaintext", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("first_seen", UtcDateTime),
    Column("last_seen", UtcDateTime),
    Column("example_cipher", Text),
    Column("weakest", String(32), nullable=False),
    Column("domains", Text, nullable=False),  # JSON array
)

Index("log_peers_by_analysis", log_peers.c.analysis_id)


# --- sessions recorded by mailtls receive (schema version 3) ------------------------------------

received_sessions = Table(
    "received_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("listener", String(64), nullable=False),
    Column("client_ip", String(45), nullable=False),
    Column("client_port", Integer, nullable=False),
    Column("reverse_name", Text),
    Column("helo", Text),
    Column("tls_version", String(16)),  # null: plaintext, or the handshake failed
    Column("cipher", Text),
    Column("verdict", String(32), nullable=False),
    Column("product", String(64)),
    Column("session_end", String(32), nullable=False),
    Column("messages", Integer, nullable=False),
    Column("record", LargeBinary, nullable=False),  # zlib-compressed ReceivedSession JSON
)

Index("received_sessions_by_client", received_sessions.c.client_ip, received_sessions.c.id)

# Tables each schema version added: a migration creates exactly its own.
TABLES_OF_VERSION: dict[int, tuple[Table, ...]] = {
    2: (log_analyses, log_peers),
    3: (received_sessions,),
}

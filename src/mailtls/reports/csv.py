"""A run as CSV for spreadsheets: one row per domain and address.

Why per address: it is the unit a mail administrator fixes (one server, one certificate), and
every fact of the check has one value per address. Each row repeats its domain's summary
(status, best TLS, Exchange Online readiness, worst severity), so a sheet can be filtered either
way. A domain without any address (NXDOMAIN, null MX, DNS failure) has one row with empty address
columns; an MX host without an address has one row with its name and no IP.

``findings`` lists the codes that apply to the row's MX host and address, ``domain_findings``
those about the domain as a whole, space-separated. Booleans are ``yes``/``no``, unknown is
empty. Cells holding text from a server or a DNS answer are cleaned of control characters, and
one starting with ``=``, ``+``, ``-`` or ``@`` gets a leading ``'`` so that no spreadsheet
reads it as a formula.

Rows are written as the domains are read: ``write_csv`` never holds more than one domain.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

from mailtls.models import (
    AddressReport,
    DomainReport,
    Finding,
    MxHostReport,
    RunInfo,
    TlsVersion,
    VersionSupport,
)
from mailtls.render.text import clean
from mailtls.reports.summary import DomainSummary, summarise_domain
from mailtls.reports.wording import certificate_name, software_words

MAX_CELL = 1000

VERSION_COLUMNS = {
    TlsVersion.TLS1_0: "tls1_0",
    TlsVersion.TLS1_1: "tls1_1",
    TlsVersion.TLS1_2: "tls1_2",
    TlsVersion.TLS1_3: "tls1_3",
}

COLUMNS = (
    "run_id",
    "domain",
    "domain_status",
    "best_tls",
    "exo_inbound",
    "exo_outbound",
    "worst_severity",
    "mx_preference",
    "mx_host",
    "ip",
    "port",
    "address_status",
    "starttls",
    "tls1_0",
    "tls1_1",
    "tls1_2",
    "tls1_3",
    "exo_ciphers",
    "negotiated_version",
    "negotiated_cipher",
    "certificate_name",
    "certificate_days_left",
    "certificate_trusted",
    "certificate_name_matches",
    "software",
    "findings",
    "domain_findings",
)


def render_csv(info: RunInfo, domains: Iterable[DomainReport]) -> str:
    out = io.StringIO()
    write_csv(info, domains, out)
    return out.getvalue()


def write_csv(info: RunInfo, domains: Iterable[DomainReport], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for report in domains:
        writer.writerows(domain_rows(info, report))


def domain_rows(info: RunInfo, report: DomainReport) -> list[dict[str, str]]:
    """The domain's rows, each a mapping of column name to cell (missing columns are empty)."""
    summary = summarise_domain(report)
    shared = _domain_cells(info, summary, report.findings)
    rows: list[dict[str, str]] = []
    for host in report.mx_hosts:
        if not host.addresses:
            rows.append(shared | _host_cells(host, host.findings))
        for address in host.addresses:
            cells = _host_cells(host, host.findings + address.findings)
            rows.append(shared | cells | _address_cells(address))
    return rows or [shared]


def _domain_cells(
    info: RunInfo, summary: DomainSummary, findings: tuple[Finding, ...]
) -> dict[str, str]:
    return {
        "run_id": str(info.run_id),
        "domain": safe(summary.domain),
        "domain_status": summary.status.value,
        "best_tls": summary.best_tls.value,
        "exo_inbound": summary.exo_inbound.value,
        "exo_outbound": summary.exo_outbound.value,
        "worst_severity": summary.worst_severity.value if summary.worst_severity else "",
        "domain_findings": _codes(findings),
    }


def _host_cells(host: MxHostReport, findings: tuple[Finding, ...]) -> dict[str, str]:
    return {
        "mx_preference": "" if host.preference is None else str(host.preference),
        "mx_host": safe(host.host),
        "findings": _codes(findings),
    }


def _address_cells(address: AddressReport) -> dict[str, str]:
    certificate = address.certificate
    negotiated = address.negotiated
    software = software_words(address.product)
    cells = {
        "ip": address.endpoint.ip,
        "port": str(address.endpoint.port),
        "address_status": address.status.value,
        "starttls": _yes_no(address.starttls),
        "exo_ciphers": address.exo_ciphers.value,
        "software": safe(software) if software else "",
    }
    for version, column in VERSION_COLUMNS.items():
        cells[column] = address.tls_versions.get(version, VersionSupport.NOT_TESTED).value
    if negotiated is not None:
        cells["negotiated_version"] = negotiated.version.value
        cells["negotiated_cipher"] = safe(negotiated.cipher)
    if certificate is not None:
        cells["certificate_name"] = safe(certificate_name(certificate))
        cells["certificate_days_left"] = str(certificate.days_left)
        cells["certificate_trusted"] = _yes_no(certificate.trusted)
        cells["certificate_name_matches"] = _yes_no(certificate.name_matches)
    return cells


def _codes(findings: tuple[Finding, ...]) -> str:
    return " ".join(dict.fromkeys(finding.code.value for finding in findings))


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def safe(text: str) -> str:
    """Untrusted text for a spreadsheet cell: no control characters, never a formula."""
    cleaned = clean(text, MAX_CELL)
    return "'" + cleaned if cleaned[:1] in ("=", "+", "-", "@") else cleaned

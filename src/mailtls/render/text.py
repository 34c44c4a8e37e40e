"""The ``mailtls check`` report as text for a terminal: what an administrator reads at a glance.

Per target: a header (name, worst severity, the Exchange Online verdict in words), DNS answers
when they explain why nothing was tested, a table of addresses, the findings grouped by
severity, each with its fix (``Finding.remedy``: summary, numbered steps, sources dimmed), and
the SMTP replies of addresses that could not be tested. A summary line ends it.

Every string a server or a DNS answer supplied is untrusted: it is passed to rich as ``Text``
(never parsed as markup), its control and formatting characters are shown as escapes, and it is
cut to a bounded length. With ``color=False`` the output holds no escape sequence at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from mailtls.models import (
    ALL_TLS_VERSIONS,
    AddressReport,
    AddressStatus,
    CertificateReport,
    CheckReport,
    DaneState,
    DnsOutcome,
    DnsStatus,
    DomainReport,
    Finding,
    MtaStsState,
    MxHostReport,
    Remedy,
    Severity,
    SmtpReply,
    TargetKind,
    TlsVersion,
    VersionSupport,
)
from mailtls.render.console import ReportConsole

SMTP_PORT = 25

# Long enough for any honest reply line or certificate name, short enough to keep a table.
MAX_SERVER_TEXT = 160
MAX_CELL_TEXT = 60
MAX_REPLIES_PER_ADDRESS = 3
# Remedy lines are our own data (with a host name from DNS filled in): long, but bounded.
MAX_REMEDY_LINE = 1000
_UNLIMITED_WIDTH = 10_000

MARKS = {
    VersionSupport.SUPPORTED: "✓",
    VersionSupport.UNSUPPORTED: "✗",
    VersionSupport.NOT_TESTED: "·",
}

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}

# "Could not be tested" is not a TLS failure: only answers that need a fix are red.
_STATUS_STYLES = {
    AddressStatus.OK: "green",
    AddressStatus.RATE_LIMITED: "yellow",
    AddressStatus.TEMPORARY_FAILURE: "yellow",
    AddressStatus.TIMEOUT: "yellow",
}

_DNS_STATUS_WORDS = {
    DnsStatus.OK: "answered",
    DnsStatus.NXDOMAIN: "NXDOMAIN: the name does not exist",
    DnsStatus.NO_DATA: "no records of this type (NODATA)",
    DnsStatus.SERVFAIL: (
        "SERVFAIL: the resolver could not get an answer (a broken name server or a failed "
        "DNSSEC validation)"
    ),
    DnsStatus.TIMEOUT: "no answer in time",
    DnsStatus.ERROR: "the lookup failed",
}

SHORT_VERSION_NAMES = {
    TlsVersion.TLS1_0: "1.0",
    TlsVersion.TLS1_1: "1.1",
    TlsVersion.TLS1_2: "1.2",
    TlsVersion.TLS1_3: "1.3",
}


# Texts that get more parts appended are built with ``Text.assemble``: a ``Text(..., style=)``
# would lend its style to everything appended after it.

# Characters that move the cursor, change colours, reorder text or hide it.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def render_text(
    report: CheckReport, *, color: bool, width: int | None = None, advice: bool = True
) -> str:
    """The report as terminal text; ``width=None`` means ``render.console.DEFAULT_WIDTH`` columns.

    The result does not depend on the environment (``TERM``, ``NO_COLOR``, ``COLUMNS``): the
    caller decides colour and width. ``advice=False`` leaves out the fix under each finding.
    """
    output = ReportConsole(color=color, width=width)
    console = output.console
    for index, domain in enumerate(report.domains):
        if index:
            console.print()
        console.print(_domain_section(domain, console, advice=advice))
    console.print()
    console.print(_summary_line(report))
    return output.text()


def clean(text: str, limit: int = MAX_SERVER_TEXT) -> str:
    """Untrusted text made inert: unsafe characters as escapes, cut to ``limit`` characters."""
    pieces: list[str] = []
    used = 0
    # Stops at the limit: a huge string is never walked further than can be shown.
    for char in text:
        piece = _escape(char)
        if used + len(piece) > limit:
            break
        pieces.append(piece)
        used += len(piece)
    else:
        return "".join(pieces)
    while pieces and used + 1 > limit:  # room for the ellipsis, never half an escape
        used -= len(pieces.pop())
    return "".join(pieces) + f"… (cut, {len(text):,} characters)"


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# --- one target --------------------------------------------------------------------------------


def _domain_section(domain: DomainReport, console: Console, *, advice: bool) -> RenderableType:
    parts: list[RenderableType] = [_domain_header(domain)]
    addresses = [address for mx_host in domain.mx_hosts for address in mx_host.addresses]
    if not addresses or any(outcome.status is not DnsStatus.OK for outcome in domain.dns):
        parts.append(_dns_lines(domain))
    if domain.mx_hosts:
        parts.extend(_address_section(domain.mx_hosts, console))
    policies = _transport_policy_rows(domain)
    if policies:
        parts.extend((Text(""), _labelled(policies)))
    findings = _scoped_findings(domain)
    if findings:
        parts.extend((Text(""), _findings_block(findings, advice=advice)))
    untestable = [address for address in addresses if address.status is not AddressStatus.OK]
    if untestable:
        parts.extend((Text(""), _replies_block(untestable)))
    return Group(*parts)


def _domain_header(domain: DomainReport) -> RenderableType:
    worst = _worst_severity(_scoped_findings(domain))
    header = Text()
    header.append(clean(_target_label(domain), MAX_CELL_TEXT), style="bold")
    header.append("   worst: ")
    if worst is None:
        header.append("no findings", style="green")
    else:
        header.append(worst.value, style=SEVERITY_STYLES[worst])
    addresses = sum(len(mx_host.addresses) for mx_host in domain.mx_hosts)
    header.append(
        f"   {_count(addresses, 'address', 'addresses')}, {domain.elapsed_seconds:.1f} s",
        style="dim",
    )
    verdict = Text(clean(domain.verdict.summary, MAX_SERVER_TEXT * 2))
    return Group(header, _labelled([(Text("Exchange Online:", style="bold"), verdict)]))


def _target_label(domain: DomainReport) -> str:
    target = domain.target
    name = target.name
    if target.kind is not TargetKind.DOMAIN:
        name = f"[{name}]"
    return name if target.port == SMTP_PORT else f"{name}:{target.port}"


def _dns_lines(domain: DomainReport) -> RenderableType:
    rows = [
        (
            Text(f"DNS {clean(outcome.rdtype, 12)} {clean(outcome.name, MAX_CELL_TEXT)}:"),
            _dns_outcome_words(outcome),
        )
        for outcome in domain.dns
    ]
    if not domain.dns:
        rows.append((Text("DNS:"), Text("no lookup was made", style="dim")))
    if not domain.mx_hosts and all(outcome.status is DnsStatus.OK for outcome in domain.dns):
        rows.append((Text("MX:"), Text("no mail server to test", style="dim")))
    return _labelled(rows)


def _dns_outcome_words(outcome: DnsOutcome) -> Text:
    if outcome.status is DnsStatus.OK:
        if outcome.rdtype.upper() == "MX" and _is_null_mx(outcome.records):
            return Text("null MX (0 .): the domain accepts no mail (RFC 7505)", style="yellow")
        records = ", ".join(clean(record, MAX_CELL_TEXT) for record in outcome.records[:5])
        more = len(outcome.records) - 5
        suffix = f" and {more} more" if more > 0 else ""
        return Text(records + suffix if records else "answered, no records")
    words = Text.assemble((_DNS_STATUS_WORDS[outcome.status], "red"))
    if outcome.detail and outcome.detail.lower() not in words.plain.lower():
        words.append(f" ({clean(outcome.detail)})", style="dim")
    return words


# --- DANE, MTA-STS, TLS-RPT -------------------------------------------------------------------

_DANE_WORDS: dict[DaneState, tuple[str, str]] = {
    DaneState.VALID: ("valid", "green"),
    DaneState.MISMATCH: ("no TLSA record matches: DANE senders do not deliver", "red"),
    DaneState.NOT_CONFIGURED: ("no TLSA records", "dim"),
    DaneState.NOT_SECURE: ("TLSA records not DNSSEC-secure: ignored by senders", "yellow"),
    DaneState.UNUSABLE: ("only TLSA records SMTP cannot use", "yellow"),
    DaneState.BOGUS: ("DNSSEC validation fails: DANE senders defer", "red"),
    DaneState.NOT_TESTED: ("not tested", "dim"),
}

_MTA_STS_WORDS: dict[MtaStsState, tuple[str, str]] = {
    MtaStsState.NOT_CONFIGURED: ("no policy", "dim"),
    MtaStsState.ENFORCED: ("enforce, every MX host covered", "green"),
    MtaStsState.TESTING: ("testing mode: failures are only reported", "yellow"),
    MtaStsState.NONE: ("mode none: the policy is withdrawn", "dim"),
    MtaStsState.INVALID: ("invalid: senders treat it as absent", "yellow"),
    MtaStsState.UNREACHABLE: ("the policy cannot be fetched", "yellow"),
    MtaStsState.FAILING: ("enforce, but an MX host fails it: senders do not deliver there", "red"),
}


def _transport_policy_rows(domain: DomainReport) -> list[tuple[Text, Text]]:
    rows: list[tuple[Text, Text]] = []
    for host in domain.mx_hosts:
        if host.dane is None:
            continue
        words, style = _DANE_WORDS[host.dane.state]
        line = Text(f"{clean(host.host, MAX_CELL_TEXT)}: ")
        line.append(words, style=style)
        if host.dane.records:
            shown = ", ".join(
                f"{r.usage} {r.selector} {r.matching_type} {r.data[:12]}..."
                for r in host.dane.records[:3]
            )
            line.append(f"  ({clean(shown, MAX_SERVER_TEXT)})", style="dim")
        rows.append((Text("DANE:" if not rows else ""), line))
    sts = domain.mta_sts
    if sts is not None:
        words, style = _MTA_STS_WORDS[sts.state]
        line = Text(words, style=style)
        if sts.record_id:
            line.append(f"  (id {clean(sts.record_id, 40)})", style="dim")
        if sts.fetch_detail and sts.state is MtaStsState.UNREACHABLE:
            line.append(f"  {clean(sts.fetch_detail)}", style="dim")
        rows.append((Text("MTA-STS:"), line))
    rpt = domain.tls_rpt
    if rpt is not None:
        if rpt.valid:
            line = Text("reports to " + ", ".join(clean(uri, MAX_CELL_TEXT) for uri in rpt.rua))
        elif rpt.record is None and rpt.problem is None:
            line = Text("no record", style="dim")
        else:
            line = Text(clean(rpt.problem or "invalid record"), style="yellow")
        rows.append((Text("TLS-RPT:"), line))
    return rows


def _is_null_mx(records: tuple[str, ...]) -> bool:
    return len(records) == 1 and records[0].split()[1:] == ["."]


# --- the address table -------------------------------------------------------------------------


def _address_section(mx_hosts: tuple[MxHostReport, ...], console: Console) -> list[RenderableType]:
    """The address table; cipher and certificate move below it when the table would not fit.

    Wide: every fact in the table. Narrow (a table that could only fit by breaking words): the
    table keeps the protocol and the marks, and each address gets a line for the rest.
    """
    wide = _address_table(mx_hosts, wide=True)
    legend = [_legend()] if any(mx_host.addresses for mx_host in mx_hosts) else []
    # Measured without a width limit, the maximum is the width that wraps and cuts nothing.
    unlimited = console.options.update_width(_UNLIMITED_WIDTH)
    if Measurement.get(console, unlimited, wide).maximum <= console.width:
        return [wide, *legend, _software_lines(mx_hosts)]
    return [_address_table(mx_hosts, wide=False), *legend, _address_details(mx_hosts)]


def _software(address: AddressReport) -> str | None:
    """ "Postfix 3.7.11 (high)": the product guess in words, None when nothing was recognised."""
    guess = address.product
    if guess.product is None:
        return None
    version = f" {clean(guess.version, 30)}" if guess.version else ""
    return f"{clean(guess.name, MAX_CELL_TEXT)}{version} ({guess.confidence.value} confidence)"


def _software_lines(mx_hosts: tuple[MxHostReport, ...]) -> RenderableType:
    rows = [
        (Text(f"{clean(address.endpoint.ip, MAX_CELL_TEXT)}:"), Text(f"software {software}"))
        for mx_host in mx_hosts
        for address in mx_host.addresses
        if (software := _software(address)) is not None
    ]
    return _labelled(rows)


def _address_table(mx_hosts: tuple[MxHostReport, ...], *, wide: bool) -> Table:
    # One row per MX host with its addresses indented below it: the host name is not repeated.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    widest_host = max((_mx_host_cell(mx_host).cell_len for mx_host in mx_hosts), default=0)
    table.add_column("MX / address", overflow="fold", min_width=min(widest_host, MAX_CELL_TEXT))
    table.add_column("Status", overflow="fold")
    table.add_column("STARTTLS", justify="center", no_wrap=True)
    for version in ALL_TLS_VERSIONS:
        table.add_column(SHORT_VERSION_NAMES[version], justify="center", no_wrap=True)
    table.add_column("EXO", justify="center", no_wrap=True)
    if wide:
        # Unbreakable, so that measuring tells whether a cipher name would have to be cut.
        table.add_column("Negotiated", no_wrap=True)
        table.add_column("Certificate", no_wrap=True)
    else:
        table.add_column("TLS", no_wrap=True)
    table.add_column("Conn", justify="right", no_wrap=True)
    for mx_host in mx_hosts:
        if mx_host.addresses:
            table.add_row(_mx_host_cell(mx_host))
        else:
            table.add_row(_mx_host_cell(mx_host), _no_address_cell(mx_host))
        for address in mx_host.addresses:
            table.add_row(*_address_cells(address, wide=wide))
    return table


def _address_details(mx_hosts: tuple[MxHostReport, ...]) -> RenderableType:
    rows: list[tuple[Text, Text]] = []
    for address in (address for mx_host in mx_hosts for address in mx_host.addresses):
        software = _software(address)
        if address.negotiated is None and address.certificate is None and software is None:
            continue
        details = Text()
        rows.append((Text(f"{clean(address.endpoint.ip, MAX_CELL_TEXT)}:"), details))
        if address.negotiated is not None:
            details.append(clean(address.negotiated.cipher, MAX_CELL_TEXT))
        if address.certificate is not None:
            if address.negotiated is not None:
                details.append("; ")
            details.append("certificate ")
            details.append_text(_certificate_cell(address.certificate, separator=", "))
        if software is not None:
            details.append(f"{'; ' if details.plain else ''}software {software}")
    return _labelled(rows)


def _mx_host_cell(mx_host: MxHostReport) -> Text:
    cell = Text()
    if mx_host.preference is not None:
        cell.append(f"{mx_host.preference} ", style="dim")
    cell.append(clean(mx_host.host, MAX_CELL_TEXT))
    if mx_host.implicit:
        cell.append(" (implicit MX)", style="dim")
    return cell


def _no_address_cell(mx_host: MxHostReport) -> Text:
    cell = Text.assemble(("no address", "red"))
    for outcome in mx_host.dns:
        cell.append(f"\n{clean(outcome.rdtype, 12)}: {outcome.status.value}", style="dim")
    return cell


def _address_cells(address: AddressReport, *, wide: bool) -> list[Text]:
    endpoint = address.endpoint
    ip = endpoint.ip if endpoint.port == SMTP_PORT else str(endpoint)
    if wide:
        tls_cells = [_negotiated_cell(address), _certificate_cell(address.certificate)]
    elif address.negotiated is None:
        tls_cells = [Text("—", style="dim")]
    else:
        tls_cells = [_protocol_text(address.negotiated.version)]
    return [
        Text(f"  {clean(ip, MAX_CELL_TEXT)}"),
        Text(
            address.status.value.replace("_", " "),
            style=_STATUS_STYLES.get(address.status, "red"),
        ),
        _starttls_cell(address.starttls),
        *(_version_mark(version, address.tls_versions) for version in ALL_TLS_VERSIONS),
        _support_mark(address.exo_ciphers, needed=True),
        *tls_cells,
        Text(str(address.connections)),
    ]


def _starttls_cell(starttls: bool | None) -> Text:
    if starttls is None:
        return Text("?", style="dim")
    return Text("yes", style="green") if starttls else Text("no", style="bold red")


def _version_mark(version: TlsVersion, support: dict[TlsVersion, VersionSupport]) -> Text:
    # TLS 1.2 is the one Exchange Online needs; refusing older versions is fine.
    needed = version is TlsVersion.TLS1_2
    return _support_mark(support.get(version, VersionSupport.NOT_TESTED), needed=needed)


def _support_mark(support: VersionSupport, *, needed: bool) -> Text:
    if support is VersionSupport.SUPPORTED:
        return Text(MARKS[support], style="green")
    if support is VersionSupport.UNSUPPORTED:
        return Text(MARKS[support], style="bold red" if needed else "dim")
    return Text(MARKS[support], style="dim")


def _negotiated_cell(address: AddressReport) -> Text:
    handshake = address.negotiated
    if handshake is None:
        return Text("—", style="dim")
    cell = _protocol_text(handshake.version)
    cell.append(f"\n{clean(handshake.cipher, MAX_CELL_TEXT)}", style="dim")
    return cell


def _protocol_text(version: TlsVersion) -> Text:
    return Text.assemble((version.value, "red" if version.rank < TlsVersion.TLS1_2.rank else ""))


def _certificate_cell(certificate: CertificateReport | None, *, separator: str = "\n") -> Text:
    if certificate is None:
        return Text("—", style="dim")
    cell = Text(_certificate_name(certificate))
    cell.append(separator)
    cell.append_text(_expiry_words(certificate.days_left))
    cell.append(separator)
    if certificate.trusted:
        cell.append("trusted", style="green")
    else:
        cell.append("self-signed" if certificate.leaf.self_signed else "untrusted", style="red")
    if certificate.name_matches is True:
        cell.append(", name ok", style="green")
    elif certificate.name_matches is False:
        cell.append(", name mismatch", style="red")
    return cell


def _certificate_name(certificate: CertificateReport) -> str:
    names = certificate.leaf.dns_names or certificate.leaf.ip_addresses
    if names:
        return clean(names[0], MAX_CELL_TEXT)
    common_name = _common_name(certificate.leaf.subject)
    return clean(common_name or certificate.leaf.subject, MAX_CELL_TEXT)


def _common_name(subject: str) -> str | None:
    """The first CN of an RFC 4514 distinguished name, unescaped."""
    for attribute in re.split(r"(?<!\\)[,+]", subject):
        key, separator, value = attribute.partition("=")
        if separator and key.strip().upper() == "CN":
            return re.sub(r"\\(.)", r"\1", value.strip())
    return None


def _expiry_words(days_left: int) -> Text:
    if days_left < 0:
        return Text(f"expired {_count(-days_left, 'day', 'days')} ago", style="bold red")
    if days_left == 0:
        return Text("expires today", style="bold red")
    style = "yellow" if days_left <= 14 else ""
    return Text(f"expires in {_count(days_left, 'day', 'days')}", style=style)


def _legend() -> Text:
    return Text(
        "✓ accepted  ✗ refused  · not tested   EXO: Exchange Online's TLS 1.2 suites", style="dim"
    )


# --- findings and replies ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ScopedFinding:
    finding: Finding
    scope: str | None  # None for the target as a whole


def _scoped_findings(domain: DomainReport) -> list[_ScopedFinding]:
    scoped = [_ScopedFinding(finding, None) for finding in domain.findings]
    for mx_host in domain.mx_hosts:
        scoped.extend(_ScopedFinding(finding, mx_host.host) for finding in mx_host.findings)
        for address in mx_host.addresses:
            host = address.mx_host or mx_host.host
            ip = address.endpoint.ip
            scope = ip if host == ip else f"{host} {ip}"  # an address target is its own host
            scoped.extend(_ScopedFinding(finding, scope) for finding in address.findings)
    return scoped


def _worst_severity(findings: Iterable[_ScopedFinding]) -> Severity | None:
    severities = [scoped.finding.severity for scoped in findings]
    return max(severities, key=lambda severity: severity.rank, default=None)


def _findings_block(findings: list[_ScopedFinding], *, advice: bool) -> Table:
    # The same finding on several addresses is one line listing where it applies.
    grouped: dict[Finding, list[str]] = {}
    for scoped in findings:
        scopes = grouped.setdefault(scoped.finding, [])
        if scoped.scope is not None and scoped.scope not in scopes:
            scopes.append(scoped.scope)
    ordered = sorted(grouped.items(), key=lambda item: -item[0].severity.rank)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_column(overflow="fold", ratio=1)
    shown: dict[tuple[str, ...], str] = {}  # steps already printed -> the code they were under
    for finding, scopes in ordered:
        message = Text(clean(finding.message, MAX_SERVER_TEXT * 2))
        if scopes:
            where = ", ".join(clean(scope, MAX_CELL_TEXT) for scope in scopes[:6])
            if len(scopes) > 6:
                where += f" and {len(scopes) - 6} more"
            message.append(f"\n{where}", style="dim")
        cell: RenderableType = message
        if advice and finding.remedy is not None:
            cell = Group(message, _remedy_block(finding.remedy, shown.get(finding.remedy.steps)))
            shown.setdefault(finding.remedy.steps, finding.code.value)
        grid.add_row(
            Text(finding.severity.value.upper(), style=SEVERITY_STYLES[finding.severity]),
            Text(clean(finding.code, MAX_CELL_TEXT), style="bold"),
            cell,
        )
    return grid


def _remedy_block(remedy: Remedy, same_as: str | None) -> RenderableType:
    """The fix under a finding: summary, numbered steps (a step may span lines), sources.

    Steps wrap under themselves, not under their number. Steps already printed under another
    finding are referred to, not repeated.
    """
    summary = Text.assemble(("Fix: ", "bold green"), clean(remedy.summary, MAX_REMEDY_LINE))
    if same_as is not None:
        return Group(summary, Text(f"  steps as for {same_as} above", style="dim"))
    steps = Table.grid(padding=(0, 1), pad_edge=False)
    steps.add_column(no_wrap=True, justify="right")
    steps.add_column(overflow="fold")
    for number, step in enumerate(remedy.steps, start=1):
        lines = (clean(line, MAX_REMEDY_LINE) for line in step.split("\n"))
        steps.add_row(Text(f"  {number}."), Text("\n".join(lines)))
    parts: list[RenderableType] = [summary, steps]
    if remedy.sources:
        sources = ", ".join(clean(url, MAX_REMEDY_LINE) for url in remedy.sources)
        parts.append(Text(f"  Sources: {sources}", style="dim"))
    return Group(*parts)


def _replies_block(addresses: Iterable[AddressReport]) -> RenderableType:
    rows: list[tuple[Text, Text]] = []
    for address in addresses:
        label = Text(f"{clean(address.endpoint.ip, MAX_CELL_TEXT)}:")
        what = Text.assemble(
            (address.status.value.replace("_", " "), _STATUS_STYLES.get(address.status, "red"))
        )
        if address.mx_host:
            what.append(f" ({clean(address.mx_host, MAX_CELL_TEXT)})", style="dim")
        if address.status_detail:
            what.append(f": {clean(address.status_detail)}")
        for smtp_reply in _notable_replies(address):
            what.append("\n")
            what.append(clean(str(smtp_reply)), style="yellow")
        rows.append((label, what))
    return Group(Text("Addresses not fully tested:", style="bold"), _labelled(rows, indent=2))


def _labelled(rows: list[tuple[Text, Text]], *, indent: int = 0) -> Table:
    """Label and text side by side, the text wrapping under itself rather than under the label."""
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(Text(" " * indent) + label, text)
    return grid


def _notable_replies(address: AddressReport) -> list[SmtpReply]:
    """The distinct error replies the address gave, dialogue first, then per-probe failures."""
    candidates: list[SmtpReply | None] = [exchange.reply for exchange in address.replies]
    candidates.extend(probe.failure_reply for probe in address.probes)
    notable: list[SmtpReply] = []
    for candidate in candidates:
        if candidate is not None and candidate.code >= 400 and candidate not in notable:
            notable.append(candidate)
    return notable[:MAX_REPLIES_PER_ADDRESS]


# --- the run -----------------------------------------------------------------------------------


def _summary_line(report: CheckReport) -> Text:
    addresses = [
        address
        for domain in report.domains
        for mx_host in domain.mx_hosts
        for address in mx_host.addresses
    ]
    untestable = sum(1 for address in addresses if address.status is not AddressStatus.OK)
    worst = _worst_severity(
        scoped for domain in report.domains for scoped in _scoped_findings(domain)
    )
    line = Text.assemble((_count(len(report.domains), "domain", "domains"), "bold"))
    line.append(f", {_count(len(addresses), 'address', 'addresses')} tested")
    if untestable:
        line.append(f" ({untestable} could not be tested)", style="yellow")
    line.append(", worst result: ")
    if worst is None:
        line.append("no findings", style="green")
    else:
        line.append(worst.value, style=SEVERITY_STYLES[worst])
    line.append(f", exit code {report.exit_code}")
    return line


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"

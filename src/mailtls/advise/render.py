"""The ``mailtls advise`` report as terminal text (rich) and JSON (pure: report in, text out).

Captions, file names and registry paths come from the admin's files: they go through
``render.text.clean`` and are never read as rich markup.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from mailtls.advise.models import (
    AdviceSeverity,
    AdviseReport,
    ChecklistItem,
    DotNetState,
    Effect,
    ExchangeFacts,
    PostfixFacts,
    TlsConfiguration,
    TlsVersionState,
    WindowsFacts,
)
from mailtls.advise.schannel import version_name
from mailtls.render.console import ReportConsole
from mailtls.render.jsonout import dump_json
from mailtls.render.text import clean

_SEVERITY_STYLES = {
    AdviceSeverity.REQUIRED: "bold red",
    AdviceSeverity.RECOMMENDED: "yellow",
    AdviceSeverity.INFO: "cyan",
}
_CONFIGURATION_STYLES = {
    TlsConfiguration.ENABLED: "green",
    TlsConfiguration.DISABLED: "dim",
    TlsConfiguration.HALF_DISABLED: "red",
    TlsConfiguration.MISMATCH: "red",
    TlsConfiguration.VALUE_MISSING: "yellow",
    TlsConfiguration.INVALID_VALUE: "red",
}
_EXIT_WORDS = {0: "nothing to do", 1: "recommended changes", 2: "required changes"}
_LONG = 400


def render_advise_json(report: AdviseReport, *, indent: int | None = 2) -> str:
    return dump_json(report, indent=indent)


def render_advise_text(report: AdviseReport, *, color: bool, width: int | None = None) -> str:
    output = ReportConsole(color=color, width=width)
    console = output.console
    for summary in report.inputs:
        console.print(
            Text(f"{summary.kind:<14} {clean(summary.name)}: {clean(summary.detail, _LONG)}"),
            soft_wrap=True,
        )
    if report.inputs:
        console.print()
    if report.exchange is not None:
        console.print(_exchange_text(report.exchange), soft_wrap=True)
    if report.windows is not None:
        console.print(_windows_text(report.windows), soft_wrap=True)
    if report.postfix is not None:
        console.print(_postfix_text(report.postfix), soft_wrap=True)
    if report.tls_versions:
        console.print()
        console.print(Text("SCHANNEL protocols", style="bold"))
        console.print(_tls_table(report.tls_versions))
    if report.dotnet is not None:
        console.print(Text(f".NET Framework: {report.dotnet.detail}", style="bold"))
        console.print(_dotnet_table(report.dotnet))
    console.print()
    console.print(_checklist_heading(report.checklist))
    for number, item in enumerate(report.checklist, start=1):
        console.print(_item_text(number, item), soft_wrap=True)
    console.print(
        Text(f"exit code {report.exit_code}: {_EXIT_WORDS.get(report.exit_code, '')}"),
    )
    return output.text()


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _exchange_text(facts: ExchangeFacts) -> Text:
    text = Text("Exchange  ", style="bold")
    text.append(clean(facts.description, _LONG))
    text.append(
        f"\n          TLS 1.2: {_yes_no(facts.tls12_capable)}; TLS 1.0/1.1 can be turned off: "
        f"{_yes_no(facts.can_disable_tls10_tls11)}"
    )
    if facts.end_of_support:
        text.append(f"; support ended {facts.end_of_support}")
    return text


def _windows_text(facts: WindowsFacts) -> Text:
    text = Text("Windows   ", style="bold")
    text.append(clean(facts.detail, _LONG))
    if facts.build is not None:
        text.append(f" (build {facts.build})")
    if facts.installed_updates:
        text.append(f"; {len(facts.installed_updates)} installed updates listed")
    return text


def _postfix_text(facts: PostfixFacts) -> Text:
    text = Text("Postfix   ", style="bold")
    versions = ", ".join(v for v in (facts.version, facts.openssl) if v) or "version not given"
    text.append(versions)
    text.append(
        f"\n          security level: server {facts.server_security_level}, "
        f"client {facts.client_security_level}"
    )
    for name, allowed in facts.protocols.items():
        shown = ", ".join(allowed) if allowed else "none"
        text.append(f"\n          {name}: {shown}")
    return text


def _value(value: int | None) -> str:
    return "-" if value is None else ("?" if value < 0 else str(value))


def _tls_table(states: tuple[TlsVersionState, ...]) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="Server, Client: Enabled/DisabledByDefault; - not set",
        caption_justify="left",
    )
    for heading in ("version", "configuration", "in effect", "Server", "Client"):
        table.add_column(heading)
    for state in states:
        effect_style = {Effect.ON: "green", Effect.OFF: "dim"}.get(state.effect, "yellow")
        table.add_row(
            version_name(state.version),
            Text(state.configuration.value, style=_CONFIGURATION_STYLES[state.configuration]),
            Text(state.effect.value, style=effect_style),
            f"{_value(state.server_enabled)}/{_value(state.server_disabled_by_default)}",
            f"{_value(state.client_enabled)}/{_value(state.client_disabled_by_default)}",
        )
    return table


def _dotnet_table(state: DotNetState) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in ("runtime", "view", "SystemDefaultTlsVersions", "SchUseStrongCrypto"):
        table.add_column(heading)
    for location in state.locations:
        table.add_row(
            location.runtime,
            location.view,
            _value(location.system_default_tls_versions),
            _value(location.sch_use_strong_crypto),
        )
    return table


def _checklist_heading(items: tuple[ChecklistItem, ...]) -> Text:
    counts = [
        f"{sum(1 for i in items if i.severity is severity)} {severity.value}"
        for severity in AdviceSeverity
    ]
    return Text(f"Checklist ({', '.join(counts)})", style="bold")


def _item_text(number: int, item: ChecklistItem) -> Text:
    text = Text(f"{number:>2}. ")
    text.append(f"[{item.severity.value}]", style=_SEVERITY_STYLES[item.severity])
    text.append(f" {clean(item.what, _LONG)}", style="bold")
    text.append(f"  ({item.code})", style="dim")
    text.append(f"\n    why: {clean(item.why, 2 * _LONG)}")
    for step in item.how:
        text.append(f"\n    - {clean(step, _LONG)}")
    for evidence in item.evidence:
        text.append(f"\n    seen in: {clean(evidence, _LONG)}", style="dim")
    for source in item.sources:
        text.append(f"\n    source: {source}", style="dim")
    return text

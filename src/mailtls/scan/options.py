"""How a scan probes and paces itself, and how a run's recorded options are read back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from mailtls.errors import StoreError
from mailtls.net.nameservers import parse_nameserver
from mailtls.probes.politeness import PolitenessSettings
from mailtls.scanner import CheckOptions


@dataclass(frozen=True)
class ScanOptions:
    check: CheckOptions = field(default_factory=CheckOptions)
    politeness: PolitenessSettings = field(default_factory=PolitenessSettings)
    domain_workers: int = 100  # domains in progress at once (mostly waiting on DNS and probes)
    domain_deadline: float | None = None  # default: the address deadline plus DNS time
    endpoint_cache: int = 4096  # finished observations kept in memory; older ones are re-read
    judgement_cache: int = 8192  # (endpoint, MX name) judgements kept in memory

    @property
    def effective_domain_deadline(self) -> float:
        if self.domain_deadline is not None:
            return self.domain_deadline
        # DNS: the MX question and then the hosts' questions, each within the timeout.
        return self.check.deadline + 2 * self.check.timeout

    def summary(self) -> dict[str, str]:
        """The options that shape results, recorded with the run (and read back on resume)."""
        return {
            **self.check.summary(),
            "port": str(self.check.port),
            "concurrency": str(self.check.concurrency),
            "domain_workers": str(self.domain_workers),
            "gap_per_ip": f"{self.politeness.gap_seconds:g}",
            "connections_per_ip": str(self.politeness.connections_per_ip),
            "domain_deadline": f"{self.effective_domain_deadline:g}",
        }


def options_from_summary(summary: dict[str, str]) -> ScanOptions:
    """A run's options back from what it recorded, so a resumed run probes as it began."""
    try:
        nameservers = summary.get("nameservers", "system")
        families = summary.get("families", "ipv4+ipv6").split("+")
        ca_file = summary.get("ca_file", "system")
        deadline = summary.get("domain_deadline")
        check = CheckOptions(
            nameservers=()
            if nameservers == "system"
            else tuple(parse_nameserver(text) for text in nameservers.split(",")),
            ca_file=None if ca_file == "system" else Path(ca_file),
            ehlo_name=summary["ehlo_name"],
            timeout=float(summary["timeout"]),
            greeting_timeout=float(summary["greeting_timeout"]),
            deadline=float(summary["deadline"]),
            ipv4="ipv4" in families,
            ipv6="ipv6" in families,
            fast=summary.get("fast") == "true",
            # Runs recorded before DANE and MTA-STS were checked had neither.
            dane=summary.get("dane", "false") == "true",
            mta_sts=summary.get("mta_sts", "false") == "true",
            concurrency=int(summary.get("concurrency", CheckOptions().concurrency)),
            port=int(summary.get("port", CheckOptions().port)),
        )
        politeness = dataclasses.replace(
            PolitenessSettings(),
            gap_seconds=float(summary.get("gap_per_ip", PolitenessSettings().gap_seconds)),
            connections_per_ip=int(
                summary.get("connections_per_ip", PolitenessSettings().connections_per_ip)
            ),
        )
        return ScanOptions(
            check=check,
            politeness=politeness,
            domain_workers=int(summary.get("domain_workers", ScanOptions().domain_workers)),
            domain_deadline=float(deadline) if deadline else None,
        )
    except (KeyError, ValueError) as problem:
        raise StoreError(f"the run's recorded options cannot be read back: {problem}") from None

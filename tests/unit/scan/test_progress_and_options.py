"""Plain progress lines for cron, and a run's options read back for its resume."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mailtls.errors import StoreError
from mailtls.net.nameservers import parse_nameserver
from mailtls.probes.politeness import PolitenessSettings
from mailtls.scan.options import ScanOptions, options_from_summary
from mailtls.scan.progress import LineObserver
from mailtls.scanner import CheckOptions
from tests.unit.render import samples


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_most_once_an_interval_and_at_the_end() -> None:
    out = io.StringIO()
    clock = Clock()
    observer = LineObserver(out, interval=60, clock=clock)
    observer.scan_started(total=1000, done=400)
    domain = samples.modern_domain()
    for _ in range(300):
        clock.now += 0.5
        observer.domain_finished(domain, stored=True)
    clock.now += 30
    for _ in range(300):
        observer.domain_finished(domain, stored=True)
    lines = out.getvalue().splitlines()
    assert lines[0] == "scan: 600 of 1000 domains to scan, 400 done before"
    # 2 domains a second for 150 s, then 300 at once at 180 s: lines at 60 s (the 120th),
    # 120 s (the 240th), 180 s (the first of the burst, a minute after the last line), the end.
    assert lines[1:] == [
        "scan: 520/1000 domains (52.0%), 2.0/s, about 4m 00s left",
        "scan: 640/1000 domains (64.0%), 2.0/s, about 3m 00s left",
        "scan: 701/1000 domains (70.1%), 1.7/s, about 2m 59s left",
        "scan: 1000/1000 domains (100.0%), 3.3/s",
    ]


def test_recorded_options_read_back_to_the_same_options() -> None:
    options = ScanOptions(
        check=CheckOptions(
            nameservers=(parse_nameserver("127.0.0.53:5353"), parse_nameserver("::1")),
            ca_file=Path("/etc/ssl/roots.pem"),
            ehlo_name="scanner.example",
            timeout=7.5,
            greeting_timeout=20,
            deadline=90,
            port=2525,
            ipv6=False,
            fast=True,
            concurrency=33,
        ),
        politeness=PolitenessSettings(gap_seconds=1.5, connections_per_ip=2),
        domain_workers=12,
        domain_deadline=200,
    )
    assert options_from_summary(options.summary()) == options


def test_defaults_read_back_with_the_deadline_they_came_to() -> None:
    options = ScanOptions(check=CheckOptions(ehlo_name="scanner.example"))
    again = options_from_summary(options.summary())
    assert again.effective_domain_deadline == options.effective_domain_deadline
    assert again.check == options.check


def test_damaged_recorded_options_are_a_store_error() -> None:
    summary = ScanOptions(check=CheckOptions(ehlo_name="x")).summary()
    with pytest.raises(StoreError, match="recorded options"):
        options_from_summary({**summary, "timeout": "soon"})
    with pytest.raises(StoreError, match="recorded options"):
        options_from_summary({k: v for k, v in summary.items() if k != "ehlo_name"})

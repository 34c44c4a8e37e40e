from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from mailtls import progress
from mailtls.models import AddressObservation, Endpoint
from mailtls.scanner import SilentObserver


def observation(ip: str) -> AddressObservation:
    return AddressObservation(Endpoint(ip, 25), (), datetime(2026, 1, 1, tzinfo=UTC), 0.1)


def test_disabled_progress_is_silent() -> None:
    with progress.progress_observer(enabled=False) as observer:
        assert isinstance(observer, SilentObserver)


def test_progress_bar_counts_finished_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    monkeypatch.setattr("rich.console.Console", lambda file: terminal)
    with progress.progress_observer(enabled=True) as observer:
        observer.targets_resolved(2)
        observer.address_finished(observation("192.0.2.1"))
        observer.address_finished(observation("192.0.2.2"))
    assert "2/2" in screen.getvalue()

"""The fix under each finding, end to end: `mailtls check` against real servers on loopback.

The demo's Exchange-like host (TLS 1.0/1.1 only, Exchange's banner) must get Exchange's
advice in the text report and in the JSON; the fleet's Postfix listener that speaks only TLS
1.0/1.1 must get Postfix's settings.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from mailtls.demo import DemoEnvironment
from mailtls.models import AddressReport, FindingCode, Remedy
from mailtls.net.nameservers import parse_nameserver
from mailtls.scanner import CheckOptions, check_targets
from mailtls.schema import check_report_schema
from mailtls.targets import parse_target
from tests.demo_running import demo_in_thread
from tests.integration.fleet import Fleet

LEGACY_DOMAIN = "legacy.demo.mailtls.test"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    """The demo servers on an event loop of their own thread, for `mailtls check` to reach."""
    with demo_in_thread() as environment:
        yield environment


def check(demo: DemoEnvironment, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailtls.cli", "check", LEGACY_DOMAIN,
         "--nameserver", demo.nameserver, "--ca-file", str(demo.ca_file),
         "--port", str(demo.port), "--timeout", "10", "--greeting-timeout", "10",
         "--ehlo-name", "advice-test.mailtls.test", *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def only_address(document: dict[str, Any]) -> dict[str, Any]:
    ((host,),) = [domain["mx_hosts"] for domain in document["domains"]]
    (address,) = host["addresses"]
    result: dict[str, Any] = address
    return result


def test_the_exchange_like_host_gets_exchange_advice_in_json(demo: DemoEnvironment) -> None:
    result = check(demo, "--json")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, check_report_schema())
    address = only_address(document)
    assert address["product"]["product"].startswith("exchange")
    remedies = {f["code"]: f["remedy"] for f in address["findings"]}
    tls12 = remedies["TLS12_UNSUPPORTED"]
    assert tls12["product"] == address["product"]["product"]
    steps = "\n".join(tls12["steps"])
    for needle in ("2010 SP3 RU19", "2013 CU19", "2016 CU8", "Get-ExchangeServer",
                   "SCHANNEL\\Protocols\\TLS 1.2\\Server]", "SystemDefaultTlsVersions"):  # fmt: skip
        assert needle in steps, needle
    assert all(url.startswith("https://") for url in tls12["sources"])
    legacy = remedies["TLS10_ENABLED"]
    assert "mailtls logs --impact tls12" in legacy["steps"][0]
    assert any("TLS 1.0\\Server]" in step for step in legacy["steps"])
    assert remedies["TLS13_UNSUPPORTED"] is None


def test_the_exchange_like_host_gets_exchange_advice_in_text(demo: DemoEnvironment) -> None:
    result = check(demo, "--color", "never")
    assert result.returncode == 2, result.stderr
    text = " ".join(result.stdout.split())
    assert "Fix: Enable TLS 1.2 on Microsoft Exchange Server, for receiving and for sending" in text
    assert "Get-ExchangeServer | Format-List Name,Edition,AdminDisplayVersion" in text
    assert "Windows Registry Editor Version 5.00" in result.stdout
    assert "Fix: Turn off TLS 1.0 (and 1.1) on Microsoft Exchange Server" in text
    assert "steps as for TLS10_ENABLED above" in text


# --- the fleet's TLS 1.0/1.1-only Postfix ---------------------------------------------------------


def remedy(address: AddressReport, code: FindingCode) -> Remedy:
    (found,) = [f for f in address.findings if f.code is code]
    assert found.remedy is not None
    return found.remedy


@pytest.mark.integration
def test_the_legacy_postfix_listener_gets_postfix_settings(fleet: Fleet) -> None:
    listener = fleet.legacy
    options = CheckOptions(
        nameservers=(parse_nameserver(fleet.nameserver),),
        ca_file=fleet.ca_file,
        ehlo_name="probe.mailtls.test",
        timeout=10.0,
        greeting_timeout=10.0,
        deadline=60.0,
    )
    report = asyncio.run(check_targets([parse_target(listener.domain)], options))
    ((host,),) = [domain.mx_hosts for domain in report.domains]
    (address,) = host.addresses
    assert address.product.product == "postfix"
    tls12 = remedy(address, FindingCode.TLS12_UNSUPPORTED)
    assert tls12.product == "postfix"
    steps = "\n".join(tls12.steps)
    assert "smtpd_tls_protocols" in steps
    assert "smtp_tls_protocols" in steps
    assert "postconf mail_version" in steps
    off = remedy(address, FindingCode.TLS10_ENABLED)
    assert off.product == "postfix"
    assert any("smtpd_tls_protocols = >=TLSv1.2" in step for step in off.steps)
    assert any("smtpd_tls_loglevel = 1" in step for step in off.steps)

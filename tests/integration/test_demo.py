"""`mailtls demo` end to end, as a newcomer runs it: every demo domain tells its story."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from mailtls.schema import check_report_schema

EXPECTED = {
    "modern.demo.mailtls.test": ("tls12", set()),
    "mixed.demo.mailtls.test": ("plaintext_fallback", {"TLS12_UNSUPPORTED", "TLS10_ENABLED"}),
    "legacy.demo.mailtls.test": ("plaintext_fallback", {"TLS12_UNSUPPORTED", "TLS11_ENABLED"}),
    "ciphers.demo.mailtls.test": ("plaintext_fallback", {"EXO_CIPHERS_UNSUPPORTED"}),
    "plain.demo.mailtls.test": ("plaintext_fallback", {"STARTTLS_MISSING"}),
    "expired.demo.mailtls.test": ("tls12", {"CERT_EXPIRED"}),
    "selfsigned.demo.mailtls.test": ("tls12", {"CERT_SELF_SIGNED"}),
    "nullmx.demo.mailtls.test": ("not_tested", {"NULL_MX"}),
}


@pytest.fixture(scope="module")
def demo() -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "mailtls.cli", "demo", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr  # the legacy stories are critical
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_demo_json_matches_the_schema(demo: dict[str, object]) -> None:
    jsonschema.validate(demo, check_report_schema())


@pytest.mark.parametrize("name", EXPECTED)
def test_each_demo_domain_tells_its_story(demo: dict[str, object], name: str) -> None:
    domains = {d["target"]["name"]: d for d in demo["domains"]}  # type: ignore[attr-defined,index]
    domain = domains[name]
    inbound, codes = EXPECTED[name]
    assert domain["verdict"]["inbound"] == inbound
    found = {f["code"] for f in domain["findings"]}
    for host in domain["mx_hosts"]:
        found |= {f["code"] for f in host["findings"]}
        for address in host["addresses"]:
            found |= {f["code"] for f in address["findings"]}
    assert codes <= found


def test_demo_text_introduces_itself_without_colour_when_piped() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailtls.cli", "demo"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Nothing leaves this machine" in result.stdout
    assert "\x1b[" not in result.stdout
    assert "exit code 2" in result.stdout


@pytest.mark.parametrize(
    ("name", "product"),
    [("modern.demo.mailtls.test", "postfix"), ("legacy.demo.mailtls.test", "exchange")],
)
def test_demo_servers_software_is_recognised(
    demo: dict[str, object], name: str, product: str
) -> None:
    domains = {d["target"]["name"]: d for d in demo["domains"]}  # type: ignore[attr-defined,index]
    (host,) = domains[name]["mx_hosts"]
    (address,) = host["addresses"]
    assert address["product"]["product"].startswith(product)
    assert address["product"]["confidence"] in ("high", "medium")

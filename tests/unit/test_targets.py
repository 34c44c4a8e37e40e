from __future__ import annotations

import pytest

from mailtls.errors import UsageError
from mailtls.models import Target, TargetKind
from mailtls.net.nameservers import Nameserver, parse_nameserver
from mailtls.targets import parse_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM.", Target(TargetKind.DOMAIN, "example.com", 25, "Example.COM.")),
        ("[mx.example.net]", Target(TargetKind.HOST, "mx.example.net", 25, "[mx.example.net]")),
        (
            "[mx.example.net]:587",
            Target(TargetKind.HOST, "mx.example.net", 587, "[mx.example.net]:587"),
        ),
        ("[192.0.2.1]:25", Target(TargetKind.ADDRESS, "192.0.2.1", 25, "[192.0.2.1]:25")),
        ("[2001:DB8::1]:587", Target(TargetKind.ADDRESS, "2001:db8::1", 587, "[2001:DB8::1]:587")),
        ("192.0.2.7", Target(TargetKind.ADDRESS, "192.0.2.7", 25, "192.0.2.7")),
        ("2001:db8::7", Target(TargetKind.ADDRESS, "2001:db8::7", 25, "2001:db8::7")),
        (
            "bücher.example",
            Target(TargetKind.DOMAIN, "xn--bcher-kva.example", 25, "bücher.example"),
        ),
        (
            "_dmarc.example.org",
            Target(TargetKind.DOMAIN, "_dmarc.example.org", 25, "_dmarc.example.org"),
        ),
    ],
)
def test_parses_targets(text: str, expected: Target) -> None:
    assert parse_target(text) == expected


def test_default_port_applies_to_domains_and_bare_brackets() -> None:
    assert parse_target("example.com", default_port=2525).port == 2525
    assert parse_target("[mx.example.com]", default_port=2525).port == 2525
    assert parse_target("[mx.example.com]:26", default_port=2525).port == 26


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "example.com:25",  # a port needs brackets
        "[mx.example.net",
        "mx.example.net]",
        "[mx.example.net]:0",
        "[mx.example.net]:65536",
        "[mx.example.net]:smtp",
        "bad..example",
        "-lead.example",
        "trail-.example",
        "exa mple.com",
        "a" * 64 + ".example",
        ("abcdefghij." * 26) + "example",
        "[]",
    ],
)
def test_rejects_bad_targets_with_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_target(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.53", Nameserver("127.0.0.53", 53)),
        ("127.0.0.53:5353", Nameserver("127.0.0.53", 5353)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]:5353", Nameserver("::1", 5353)),
    ],
)
def test_parses_nameservers(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["resolver.example", "127.0.0.1:0", "127.0.0.1:99999", "[::1", ""])
def test_rejects_bad_nameservers(text: str) -> None:
    with pytest.raises(UsageError):
        parse_nameserver(text)

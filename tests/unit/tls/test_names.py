"""RFC 6125 host name matching against real certificates."""

from __future__ import annotations

import pytest
from cryptography import x509

from mailtls.tls.issuing import issue, new_key
from mailtls.tls.names import host_name_matches, normalise_host_name


@pytest.fixture(scope="module")
def certificates() -> dict[str, x509.Certificate]:
    key = new_key("ec", 256)  # EC keys are instant; these tests are about names only

    def make(names: tuple[str, ...], common_name: str | None = None) -> x509.Certificate:
        return issue(names, key=key, common_name=common_name).certificate

    return {
        # dNSNames present: the CN must be ignored.
        "san": make(
            ("mx.example.com", "*.wild.example.com", "xn--bcher-kva.example", "127.0.0.1"),
            common_name="cn-only.example.com",
        ),
        "idn_wildcard": make(("*.xn--bcher-kva.example",)),
        "cn_only": make((), common_name="legacy.example.com"),
        "wildcard_cn_only": make((), common_name="*.legacy.example.com"),
        "bad_wildcards": make(
            ("*.com", "m*.partial.example.com", "*.*.double.example", "a.*.mid.example", "*")
        ),
        # iPAddress entries only: a DNS name may fall back to the CN, an IP literal never does.
        "ip_only": make(("127.0.0.1", "::1"), common_name="127.0.0.2"),
        "ip_only_named": make(("192.0.2.7",), common_name="mx.ip.example"),
    }


@pytest.mark.parametrize(
    ("certificate", "host_name", "expected"),
    [
        ("san", "mx.example.com", True),
        ("san", "MX.Example.COM", True),
        ("san", "mx.example.com.", True),
        ("san", "other.example.com", False),
        ("san", "example.com", False),
        ("san", "cn-only.example.com", False),  # CN ignored: the certificate has dNSNames
        ("san", "a.wild.example.com", True),
        ("san", "A.WILD.example.com.", True),
        ("san", "a.b.wild.example.com", False),  # "*" is exactly one label
        ("san", "wild.example.com", False),  # and not zero labels
        ("san", "bücher.example", True),  # U-label host compared as its A-label
        ("san", "BÜCHER.example.", True),
        ("san", "xn--bcher-kva.example", True),
        ("san", "XN--BCHER-KVA.EXAMPLE", True),
        ("san", "bucher.example", False),
        ("san", "127.0.0.1", True),
        ("san", "[127.0.0.1]", True),
        ("san", "127.0.0.9", False),
        ("san", "*.wild.example.com", False),  # a reference name is never a pattern
        ("san", "", False),
        ("san", ".", False),
        ("san", "mx..example.com", False),
        ("idn_wildcard", "mx.bücher.example", True),
        ("idn_wildcard", "mx.xn--bcher-kva.example", True),
        ("idn_wildcard", "bücher.example", False),
        ("cn_only", "legacy.example.com", True),
        ("cn_only", "LEGACY.example.com.", True),
        ("cn_only", "x.legacy.example.com", False),
        ("wildcard_cn_only", "mx.legacy.example.com", True),
        ("wildcard_cn_only", "legacy.example.com", False),
        ("bad_wildcards", "example.com", False),  # "*.com": too few labels after the wildcard
        ("bad_wildcards", "anything.com", False),
        ("bad_wildcards", "mx.partial.example.com", False),  # partial wildcard "m*"
        ("bad_wildcards", "m.partial.example.com", False),
        ("bad_wildcards", "a.b.double.example", False),
        ("bad_wildcards", "a.x.mid.example", False),
        ("bad_wildcards", "localhost", False),
        ("ip_only", "127.0.0.1", True),
        ("ip_only", "::1", True),
        ("ip_only", "0:0:0::1", True),  # compared as addresses, not as text
        ("ip_only", "[::1]", True),
        ("ip_only", "127.0.0.2", False),  # an IP literal never matches the CN
        ("ip_only", "::2", False),
        ("ip_only_named", "mx.ip.example", True),  # no dNSName at all: CN fallback
        ("ip_only_named", "192.0.2.7", True),
        ("ip_only_named", "mx.other.example", False),
    ],
)
def test_host_name_matches(
    certificates: dict[str, x509.Certificate], certificate: str, host_name: str, expected: bool
) -> None:
    assert host_name_matches(certificates[certificate], host_name) is expected


@pytest.mark.parametrize(
    ("host_name", "expected"),
    [
        ("MX.Example.COM.", "mx.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("Bücher.Example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("", None),
        ("a..b", None),
        ("ü" + "x" * 70 + ".example", None),  # a label too long for an A-label
    ],
)
def test_normalise_host_name(host_name: str, expected: str | None) -> None:
    assert normalise_host_name(host_name) == expected

"""Does a certificate name a host? RFC 6125 matching, as a sending MTA that verifies would do it.

Only the comparison lives here: the certificate was collected elsewhere, and whether it chains to
a trusted root is judged in ``mailtls.tls.certificates``. Names are compared as A-labels, in lower
case and without a trailing dot, so that ``MX.Example.COM.`` and ``mx.example.com`` are the same
host and a U-label host name (``bücher.example``) meets the ``xn--`` form a certificate carries.
"""

from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.x509.oid import NameOID

_WILDCARD_LABEL = "*"


def host_name_matches(certificate: x509.Certificate, host_name: str) -> bool:
    """Whether ``certificate`` is valid for ``host_name`` (a DNS name or an IP literal).

    DNS names are compared with the subjectAltName dNSName entries; the subject's common name
    counts only when the certificate carries no dNSName at all (RFC 6125 6.4.4). An IP literal
    is compared with iPAddress entries only: a dNSName or common name spelling an address does
    not vouch for it.
    """
    address = _ip_address(host_name)
    if address is not None:
        return address in _san_ip_addresses(certificate)
    reference = normalise_host_name(host_name)
    if reference is None or _WILDCARD_LABEL in reference:
        return False
    presented = _san_dns_names(certificate) or _common_names(certificate)
    return any(_presented_name_matches(name, reference) for name in presented)


def normalise_host_name(host_name: str) -> str | None:
    """``host_name`` as lower-case A-labels without a trailing dot; ``None`` if it is no DNS name.

    Python's ``idna`` codec implements IDNA 2003, which maps case and converts U-labels; pure
    ASCII names skip it, because the codec rejects some names mail systems do use (labels with
    underscores are rare in MX names but harmless to compare).
    """
    name = host_name.strip().rstrip(".")
    if not name:
        return None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    name = name.lower()
    if any(not label for label in name.split(".")):
        return None
    return name


def _presented_name_matches(presented: str, reference: str) -> bool:
    pattern = normalise_host_name(presented)
    if pattern is None:
        return False
    pattern_labels = pattern.split(".")
    reference_labels = reference.split(".")
    if pattern_labels[0] != _WILDCARD_LABEL:
        # A "*" anywhere else (or a partial "m*" label) is not a wildcard we honour: such a
        # name can only match literally, and a reference name never contains "*".
        return pattern == reference
    # "*.example.com": the wildcard stands for exactly one complete left-most label, and at
    # least two labels must follow it, so "*.com" never matches anything.
    if len(pattern_labels) < 3 or _WILDCARD_LABEL in pattern_labels[1:]:
        return False
    return reference_labels[1:] == pattern_labels[1:]


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]  # the SMTP address-literal form "[192.0.2.1]"
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _subject_alternative_name(certificate: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _san_dns_names(certificate: x509.Certificate) -> list[str]:
    san = _subject_alternative_name(certificate)
    return san.get_values_for_type(x509.DNSName) if san else []


def _san_ip_addresses(
    certificate: x509.Certificate,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    san = _subject_alternative_name(certificate)
    if san is None:
        return []
    return [
        value
        for value in san.get_values_for_type(x509.IPAddress)
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
    ]


def _common_names(certificate: x509.Certificate) -> list[str]:
    return [
        value if isinstance(value, str) else value.decode("utf-8", "replace")
        for value in (
            attribute.value
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        )
    ]

"""One ``SSLContext`` recipe per probe, and the facts read back from a finished handshake.

Every probe connects with certificate verification off: mailtls must see every server, including
broken ones, and judges the presented chain afterwards (``mailtls.tls.certificates``).
"""

from __future__ import annotations

import ssl
import warnings
from typing import Any

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy
from mailtls.models import ProbeKind, TlsHandshake, TlsVersion

# OpenSSL 3 refuses TLS 1.0/1.1 (and SHA-1 signatures, small keys) at its default security level
# 1/2. A probe that asks "does the server speak this version at all" must lift that, and must not
# offer anonymous suites: a real peer authenticates, and an anonymous handshake shows no chain.
_BROAD_CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"

# SSL_OP_LEGACY_SERVER_CONNECT: OpenSSL 3 refuses servers without RFC 5746 secure renegotiation,
# which many old MTAs lack; other senders (and Exchange Online) still talk to them. The constant
# is only exported by Python >= 3.12, hence the literal.
_OP_LEGACY_SERVER_CONNECT = 0x4

_VERSION_OF_PROBE = {
    ProbeKind.TLS1_0: (ssl.TLSVersion.TLSv1, TlsVersion.TLS1_0),
    ProbeKind.TLS1_1: (ssl.TLSVersion.TLSv1_1, TlsVersion.TLS1_1),
    ProbeKind.TLS1_2: (ssl.TLSVersion.TLSv1_2, TlsVersion.TLS1_2),
    ProbeKind.TLS1_3: (ssl.TLSVersion.TLSv1_3, TlsVersion.TLS1_3),
}

PROBE_FOR_VERSION = {version: kind for kind, (_, version) in _VERSION_OF_PROBE.items()}


def _unverified_client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.options |= _OP_LEGACY_SERVER_CONNECT
    return context


def context_for(kind: ProbeKind, exchange_online: ExchangeOnlinePolicy) -> ssl.SSLContext:
    """The client context a probe of ``kind`` offers."""
    context = _unverified_client_context()
    if kind is ProbeKind.DEFAULT:
        return context  # Python's defaults: TLS 1.2+, OpenSSL's default suites, like a modern MTA
    if kind is ProbeKind.EXO_CIPHERS:
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
        # Level 0 so that OpenSSL's own policy (key sizes, SHA-1) does not refuse what
        # Exchange Online's SChannel would accept: the suite list is the only restriction.
        context.set_ciphers(exchange_online.openssl_cipher_string + ":@SECLEVEL=0")
        return context
    protocol, _ = _VERSION_OF_PROBE[kind]
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1 for applications; probing for them is our whole point.
        warnings.filterwarnings("ignore", "ssl.TLSVersion.TLSv1", DeprecationWarning)
        context.minimum_version = context.maximum_version = protocol
    context.set_ciphers(_BROAD_CIPHERS)
    return context


def probed_version(kind: ProbeKind) -> TlsVersion | None:
    """The single version a version probe offers (None for the default and cipher probes)."""
    entry = _VERSION_OF_PROBE.get(kind)
    return entry[1] if entry else None


def key_exchange_of(version: TlsVersion, cipher: str) -> str | None:
    """Key exchange from an OpenSSL suite name; TLS 1.3 names do not carry it."""
    if version is TlsVersion.TLS1_3:
        return None
    if cipher.startswith(("ECDHE-", "ECDH-")):
        return "ECDHE"
    if cipher.startswith(("DHE-", "EDH-")):
        return "DHE"
    return "RSA"  # static RSA key transport: no forward secrecy


def handshake_of(ssl_object: Any) -> TlsHandshake | None:
    """Read version and suite from an ``ssl.SSLObject`` / ``SSLSocket`` after the handshake."""
    version_name = ssl_object.version()
    cipher = ssl_object.cipher()
    if version_name is None or cipher is None:
        return None
    try:
        version = TlsVersion(version_name)
    except ValueError:
        return None  # SSLv3 or unknown: OpenSSL 3 as built here cannot negotiate them anyway
    name, _protocol, bits = cipher
    return TlsHandshake(
        version=version, cipher=name, bits=int(bits), key_exchange=key_exchange_of(version, name)
    )


def presented_chain(ssl_object: Any) -> tuple[bytes, ...]:
    """The certificates the server sent, leaf first, as DER.

    Python 3.13 exposes ``get_unverified_chain()``; 3.10-3.12 have it on the private ``_sslobj``.
    Without either, only the leaf is available.
    """
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        leaf = ssl_object.getpeercert(binary_form=True)
        return (leaf,) if leaf else ()
    certificates = getter() or []
    return tuple(
        cert if isinstance(cert, bytes) else cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        for cert in certificates
    )

"""What the test fleet is: every listener, its posture, its names, and the DNS cases.

Pure data. The Postfix and nsd configurations are rendered from these values and
``test_fleet.py`` checks the running servers against them, so a test that reads a fact here
reads something that has been verified on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mailtls.models import Endpoint, TlsVersion

ZONE = "mailtls.test"
NAMESERVER = "127.0.5.53"
NAMESERVER_HOST = f"ns.{ZONE}"
DNS_PORT = 53
SMTP_PORT = 25
MX_PREFERENCE = 10  # every posture domain has exactly one MX at this preference


class Posture(StrEnum):
    """One way a receiving MTA can be set up; the value is the posture domain's first label."""

    MODERN = "modern"
    TLS12_ONLY = "tls12"
    LEGACY = "legacy"
    NO_STARTTLS = "nostarttls"
    EXPIRED = "expired"
    WRONG_NAME = "wrongname"
    SELF_SIGNED = "selfsigned"
    SHA1 = "sha1"
    NO_EXO_CIPHERS = "noexo"
    ALL_VERSIONS = "allversions"
    IPV6 = "ipv6"


class CertificateKind(StrEnum):
    """What is wrong (or right) with the certificate a listener presents."""

    TRUSTED = "trusted"  # leaf <- intermediate <- fleet root, valid now, names match
    EXPIRED = "expired"  # chains to the fleet root, but notAfter is in the past
    WRONG_NAME = "wrong_name"  # chains to the fleet root, names another host
    SELF_SIGNED = "self_signed"  # signed by its own key, not by the fleet root
    SHA1_SIGNED = "sha1_signed"  # chains to the fleet root, signature hash SHA-1
    NONE = "none"  # no STARTTLS, so no certificate at all


@dataclass(frozen=True)
class Listener:
    """One Postfix smtpd listener and the facts it is configured to show.

    ``domain`` has one MX record (preference ``MX_PREFERENCE``) pointing at ``host``;
    ``host`` has exactly one address record: ``ip``.
    """

    posture: Posture
    host: str
    ip: str
    domain: str
    tls_versions: frozenset[TlsVersion]  # the versions a handshake succeeds with; empty: no TLS
    certificate: CertificateKind
    certificate_names: tuple[str, ...]  # subjectAltName DNS names of the served leaf
    tls12_ciphers: tuple[str, ...] | None = None  # the only TLS 1.2 suites offered, if limited
    port: int = SMTP_PORT

    @property
    def starttls(self) -> bool:
        return bool(self.tls_versions)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(ip=self.ip, port=self.port)

    @property
    def syslog_name(self) -> str:
        """The name this listener's lines carry in the Postfix log (``postfix-modern/smtpd``)."""
        return f"postfix-{self.posture.value}"


_MODERN_VERSIONS = frozenset({TlsVersion.TLS1_2, TlsVersion.TLS1_3})
_ALL_VERSIONS = frozenset(TlsVersion)

# Names the fleet serves on the modern listeners besides their own, so that the "dual" and
# "implicit MX" domains reach a certificate that matches the name a sender looks for.
DUAL_HOST = f"mx-dual.{ZONE}"
IMPLICIT_DOMAIN = f"implicit.{ZONE}"
WRONG_CERTIFICATE_NAME = "other.example.test"


def _listener(
    posture: Posture,
    host_label: str,
    ip: str,
    versions: frozenset[TlsVersion],
    certificate: CertificateKind,
    *,
    extra_names: tuple[str, ...] = (),
    tls12_ciphers: tuple[str, ...] | None = None,
) -> Listener:
    host = f"{host_label}.{ZONE}"
    if certificate is CertificateKind.NONE:
        names: tuple[str, ...] = ()
    elif certificate is CertificateKind.WRONG_NAME:
        names = (WRONG_CERTIFICATE_NAME,)
    else:
        names = (host, *extra_names)
    return Listener(
        posture=posture,
        host=host,
        ip=ip,
        domain=f"{posture.value}.{ZONE}",
        tls_versions=versions,
        certificate=certificate,
        certificate_names=names,
        tls12_ciphers=tls12_ciphers,
    )


LISTENERS: tuple[Listener, ...] = (
    _listener(
        Posture.MODERN,
        "mx-modern",
        "127.0.2.1",
        _MODERN_VERSIONS,
        CertificateKind.TRUSTED,
        extra_names=(DUAL_HOST, IMPLICIT_DOMAIN),
    ),
    _listener(
        Posture.TLS12_ONLY,
        "mx-tls12",
        "127.0.2.2",
        frozenset({TlsVersion.TLS1_2}),
        CertificateKind.TRUSTED,
    ),
    _listener(
        Posture.LEGACY,
        "mx-legacy",
        "127.0.2.3",
        frozenset({TlsVersion.TLS1_0, TlsVersion.TLS1_1}),
        CertificateKind.TRUSTED,
    ),
    _listener(Posture.NO_STARTTLS, "mx-plain", "127.0.2.4", frozenset(), CertificateKind.NONE),
    _listener(
        Posture.EXPIRED, "mx-expired", "127.0.2.5", _MODERN_VERSIONS, CertificateKind.EXPIRED
    ),
    _listener(
        Posture.WRONG_NAME,
        "mx-wrongname",
        "127.0.2.6",
        _MODERN_VERSIONS,
        CertificateKind.WRONG_NAME,
    ),
    _listener(
        Posture.SELF_SIGNED,
        "mx-selfsigned",
        "127.0.2.7",
        _MODERN_VERSIONS,
        CertificateKind.SELF_SIGNED,
    ),
    _listener(Posture.SHA1, "mx-sha1", "127.0.2.8", _MODERN_VERSIONS, CertificateKind.SHA1_SIGNED),
    _listener(
        Posture.NO_EXO_CIPHERS,
        "mx-noexo",
        "127.0.2.9",
        frozenset({TlsVersion.TLS1_2}),
        CertificateKind.TRUSTED,
        # Forward-secret and strong, yet none of them is on Exchange Online's TLS 1.2 list.
        tls12_ciphers=("DHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"),
    ),
    _listener(Posture.ALL_VERSIONS, "mx-all", "127.0.2.10", _ALL_VERSIONS, CertificateKind.TRUSTED),
    _listener(
        Posture.IPV6,
        "mx-v6",
        "::1",
        _MODERN_VERSIONS,
        CertificateKind.TRUSTED,
        extra_names=(DUAL_HOST,),
    ),
)


def listener_for(posture: Posture) -> Listener:
    return next(listener for listener in LISTENERS if listener.posture is posture)


@dataclass(frozen=True)
class DomainCases:
    """Domains whose DNS, not their server, is the point. All live in the ``mailtls.test`` zone."""

    # MX 10 mx-modern, MX 20 mx-legacy, MX 30 mx-v6: mixed postures and an IPv6-only host.
    multi: str = f"multi.{ZONE}"
    multi_mx: tuple[tuple[int, str], ...] = (
        (10, f"mx-modern.{ZONE}"),
        (20, f"mx-legacy.{ZONE}"),
        (30, f"mx-v6.{ZONE}"),
    )
    # MX 10 mx-dual, which has both an A (the modern listener) and an AAAA (the IPv6 listener).
    dual: str = f"dual.{ZONE}"
    dual_host: str = DUAL_HOST
    dual_addresses: tuple[str, ...] = ("127.0.2.1", "::1")
    # No MX, an A record only: RFC 5321 section 5.1 implicit MX (the modern listener).
    implicit: str = IMPLICIT_DOMAIN
    implicit_address: str = "127.0.2.1"
    # "MX 0 ." (RFC 7505): the domain accepts no mail.
    null_mx: str = f"nullmx.{ZONE}"
    # MX 10 at a name that has no records at all.
    dangling: str = f"dangling.{ZONE}"
    dangling_host: str = f"nowhere.{ZONE}"
    # The name exists (a TXT record) but has neither MX nor A/AAAA.
    no_mail: str = f"nomail.{ZONE}"
    # Absent from the zone: NXDOMAIN.
    missing: str = f"missing.{ZONE}"
    # A zone nsd is configured for whose zone file does not exist: nsd answers SERVFAIL for this
    # name and every name below it, for every record type.
    servfail: str = f"servfail.{ZONE}"


DOMAINS = DomainCases()


@dataclass(frozen=True)
class Fleet:
    """The running fleet: where it lives and what it serves.

    ``ca_file`` holds the fleet's root certificate, the trust anchor under which the TRUSTED,
    EXPIRED, WRONG_NAME and SHA1_SIGNED leaves chain (through an intermediate each listener
    sends). ``nameserver`` is nsd, authoritative for ``zone``; ask it directly (it does not
    recurse).
    """

    state_dir: Path
    ca_file: Path
    postfix_config_dir: Path
    postfix_log: Path
    nsd_log: Path
    nameserver: str = NAMESERVER
    nameserver_host: str = NAMESERVER_HOST
    dns_port: int = DNS_PORT
    zone: str = ZONE
    listeners: tuple[Listener, ...] = LISTENERS
    domains: DomainCases = field(default_factory=DomainCases)

    def listener(self, posture: Posture) -> Listener:
        return next(listener for listener in self.listeners if listener.posture is posture)

    @property
    def modern(self) -> Listener:
        return self.listener(Posture.MODERN)

    @property
    def tls12_only(self) -> Listener:
        return self.listener(Posture.TLS12_ONLY)

    @property
    def legacy(self) -> Listener:
        return self.listener(Posture.LEGACY)

    @property
    def no_starttls(self) -> Listener:
        return self.listener(Posture.NO_STARTTLS)

    @property
    def expired(self) -> Listener:
        return self.listener(Posture.EXPIRED)

    @property
    def wrong_name(self) -> Listener:
        return self.listener(Posture.WRONG_NAME)

    @property
    def self_signed(self) -> Listener:
        return self.listener(Posture.SELF_SIGNED)

    @property
    def sha1(self) -> Listener:
        return self.listener(Posture.SHA1)

    @property
    def no_exo_ciphers(self) -> Listener:
        return self.listener(Posture.NO_EXO_CIPHERS)

    @property
    def all_versions(self) -> Listener:
        return self.listener(Posture.ALL_VERSIONS)

    @property
    def ipv6(self) -> Listener:
        return self.listener(Posture.IPV6)


@dataclass(frozen=True)
class FleetPaths:
    """Where each part of a fleet keeps its files under one state directory."""

    root: Path

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"

    @property
    def users_dir(self) -> Path:
        return self.root / "users"

    @property
    def supervisor_record(self) -> Path:
        return self.root / "supervisor.json"

    @property
    def supervisor_log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def run_dir(self) -> Path:
        """Everything one start of the fleet writes; wiped before the next start."""
        return self.root / "run"

    @property
    def certs_dir(self) -> Path:
        return self.run_dir / "certs"

    @property
    def ca_file(self) -> Path:
        return self.certs_dir / "ca.pem"

    @property
    def postfix_config_dir(self) -> Path:
        return self.run_dir / "postfix" / "etc"

    # Apart from the configuration folder: postfix-script warns about every queue folder
    # (owned by the postfix user) it finds below the configuration folder.
    @property
    def postfix_queue_dir(self) -> Path:
        return self.run_dir / "postfix" / "spool"

    @property
    def postfix_data_dir(self) -> Path:
        return self.run_dir / "postfix" / "data"

    @property
    def postfix_log(self) -> Path:
        return self.run_dir / "postfix" / "maillog"

    @property
    def nsd_dir(self) -> Path:
        return self.run_dir / "nsd"

    @property
    def nsd_log(self) -> Path:
        return self.nsd_dir / "nsd.log"


def describe_fleet(paths: FleetPaths) -> Fleet:
    return Fleet(
        state_dir=paths.root,
        ca_file=paths.ca_file,
        postfix_config_dir=paths.postfix_config_dir,
        postfix_log=paths.postfix_log,
        nsd_log=paths.nsd_log,
    )

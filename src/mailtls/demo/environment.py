"""The demo's world: made-up domains whose mail servers show one TLS story each, on loopback.

``DemoEnvironment.start()`` makes a private CA and certificates, starts one STARTTLS server per
posture on its own loopback address (127.0.4.1 ... 127.0.4.6, all on the same high port) and a
DNS server for ``demo.mailtls.test`` on 127.0.4.53, and stops them all on exit. It needs no root
and no network: Linux routes all of 127.0.0.0/8 to the loopback interface.

The banners and EHLO keywords imitate the products whose story each server tells (a current
Postfix, an unpatched Exchange 2010, an old Sendmail), so that product recognition has
something real-looking to work on.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from mailtls.demo.dns_server import DnsRecord, DnsServer, StaticZone
from mailtls.demo.smtp_server import Posture, SmtpServer
from mailtls.models import TlsVersion
from mailtls.tls import issuing

ZONE = "demo.mailtls.test"
NAMESERVER_ADDRESS = "127.0.4.53"
_PORT_ATTEMPTS = 20
_LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 negotiates TLS 1.0/1.1 only at level 0
# ChaCha20 only: a sound TLS 1.2 suite, but none of those Exchange Online offers.
_NO_COMMON_CIPHERS = "ECDHE-RSA-CHACHA20-POLY1305"
_POSTFIX_KEYWORDS = (
    "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
    "SMTPUTF8", "CHUNKING",
)  # fmt: skip
_EXCHANGE_2010_KEYWORDS = (
    "SIZE 10485760", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "8BITMIME", "BINARYMIME",
    "CHUNKING", "XEXCH50",
)  # fmt: skip


def _host(label: str) -> str:
    return f"mx.{label}.{ZONE}"


def _domain(label: str) -> str:
    return f"{label}.{ZONE}"


@dataclass(frozen=True)
class DemoDomain:
    """A demo domain and, in one line, what a check of it should show."""

    name: str
    description: str


@dataclass(frozen=True)
class DemoHost:
    """One demo mail server: its name, the loopback address it listens on, its posture."""

    name: str
    address: str
    posture: Posture


class _Certificate(StrEnum):
    """Which certificate a demo host presents."""

    VALID = "valid"
    EXPIRED = "expired"
    SELF_SIGNED = "self-signed"


@dataclass(frozen=True)
class _HostPlan:
    label: str
    address: str
    certificate: _Certificate | None  # None: no STARTTLS
    banner: str
    min_version: TlsVersion = TlsVersion.TLS1_2
    max_version: TlsVersion = TlsVersion.TLS1_3
    ciphers: str | None = None
    ehlo_keywords: tuple[str, ...] = _POSTFIX_KEYWORDS


_HOSTS = (
    _HostPlan("modern", "127.0.4.1", _Certificate.VALID, "ESMTP Postfix (Debian/GNU)"),
    _HostPlan(
        "legacy", "127.0.4.2", _Certificate.VALID,
        "Microsoft ESMTP MAIL Service ready at Mon, 11 Jan 2021 09:00:00 +0000",
        min_version=TlsVersion.TLS1_0, max_version=TlsVersion.TLS1_1, ciphers=_LEGACY_CIPHERS,
        ehlo_keywords=_EXCHANGE_2010_KEYWORDS,
    ),
    _HostPlan(
        "plain", "127.0.4.3", None,
        "ESMTP Sendmail 8.14.4/8.14.4; Mon, 11 Jan 2021 09:00:00 +0000",
        ehlo_keywords=("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"),
    ),
    _HostPlan("expired", "127.0.4.4", _Certificate.EXPIRED, "ESMTP Postfix (Debian/GNU)"),
    _HostPlan(
        "ciphers", "127.0.4.5", _Certificate.VALID, "ESMTP Postfix (Debian/GNU)",
        max_version=TlsVersion.TLS1_2, ciphers=_NO_COMMON_CIPHERS,
    ),
    _HostPlan("selfsigned", "127.0.4.6", _Certificate.SELF_SIGNED, "ESMTP Postfix (Debian/GNU)"),
)  # fmt: skip

# (domain label, MX (preference, host label or "." for a null MX), what to expect)
_DOMAINS: tuple[tuple[str, tuple[tuple[int, str], ...], str], ...] = (
    ("modern", ((10, "modern"),),
     "TLS 1.2 and 1.3 with a valid certificate: Exchange Online delivers over TLS."),
    ("mixed", ((10, "modern"), (20, "legacy")),
     "The primary MX is modern, the backup MX speaks only TLS 1.0/1.1: mail that takes the "
     "backup travels in plaintext."),
    ("legacy", ((10, "legacy"),),
     "Only TLS 1.0/1.1, like an unpatched Exchange 2010: Exchange Online falls back to "
     "plaintext, and a connector that requires TLS fails."),
    ("ciphers", ((10, "ciphers"),),
     "TLS 1.2 but only ChaCha20, none of Exchange Online's cipher suites: no common suite, so "
     "plaintext."),
    ("plain", ((10, "plain"),),
     "No STARTTLS at all: every message travels in plaintext."),
    ("expired", ((10, "expired"),),
     "Modern TLS, but the certificate expired 30 days ago: opportunistic TLS still works, "
     "certificate checks (MTA-STS, DANE, validating connectors) fail."),
    ("selfsigned", ((10, "selfsigned"),),
     "Modern TLS with a self-signed certificate: fine for opportunistic TLS, refused where the "
     "certificate is validated."),
    ("nullmx", ((0, "."),),
     "A null MX (RFC 7505): the domain accepts no mail, so there is nothing to test."),
)  # fmt: skip


def demo_domains() -> tuple[DemoDomain, ...]:
    """The demo's domains in presentation order, with what to expect of each."""
    return tuple(DemoDomain(_domain(label), text) for label, _, text in _DOMAINS)


def demo_zone(*, hosts: Mapping[str, str] | None = None) -> StaticZone:
    """The ``demo.mailtls.test`` zone: MX and SPF per domain, A per mail server.

    ``hosts`` maps host labels to addresses (default: the demo's own loopback addresses).
    """
    addresses = hosts or {plan.label: plan.address for plan in _HOSTS}
    records: list[DnsRecord] = []
    for label, exchangers, _ in _DOMAINS:
        for preference, target in exchangers:
            exchange = "." if target == "." else _host(target) + "."
            records.append(DnsRecord(_domain(label), "MX", f"{preference} {exchange}"))
        if exchangers != ((0, "."),):
            records.append(DnsRecord(_domain(label), "TXT", '"v=spf1 mx -all"'))
        else:
            records.append(DnsRecord(_domain(label), "TXT", '"v=spf1 -all"'))
    records.append(
        DnsRecord(
            f"_smtp._tls.{_domain('modern')}",
            "TXT",
            f'"v=TLSRPTv1; rua=mailto:tlsrpt@{_domain("modern")}"',
        )
    )
    for label, address in addresses.items():
        records.append(DnsRecord(_host(label), "A", address))
    return StaticZone.build(ZONE, records)


@dataclass(frozen=True)
class _Files:
    ca_file: Path
    chains: Mapping[str, tuple[Path, Path]]  # host label -> (chain, key)


def _issue_certificates(folder: Path) -> _Files:
    ca = issuing.make_ca("mailtls demo root")
    ca_file = issuing.write_ca_bundle(folder / "demo-root-ca.pem", ca)
    now = datetime.now(UTC)
    chains: dict[str, tuple[Path, Path]] = {}
    for plan in _HOSTS:
        names = (_host(plan.label),)
        if plan.certificate == _Certificate.VALID:
            issued = issuing.issue(names, issuer=ca)
        elif plan.certificate == _Certificate.EXPIRED:
            issued = issuing.issue(
                names,
                issuer=ca,
                not_before=now - timedelta(days=120),
                not_after=now - timedelta(days=30),
            )
        elif plan.certificate == _Certificate.SELF_SIGNED:
            issued = issuing.issue(names)
        else:
            continue
        chains[plan.label] = issued.write(folder, _host(plan.label))
    return _Files(ca_file=ca_file, chains=chains)


def _demo_hosts(files: _Files) -> tuple[DemoHost, ...]:
    hosts = []
    for plan in _HOSTS:
        chain_file, key_file = files.chains.get(plan.label, (None, None))
        posture = Posture(
            hostname=_host(plan.label),
            banner=f"{_host(plan.label)} {plan.banner}",
            starttls=plan.certificate is not None,
            min_version=plan.min_version,
            max_version=plan.max_version,
            ciphers=plan.ciphers,
            chain_file=chain_file,
            key_file=key_file,
            ehlo_keywords=plan.ehlo_keywords,
        )
        hosts.append(DemoHost(name=_host(plan.label), address=plan.address, posture=posture))
    return tuple(hosts)


async def _start_on_one_port(stack: contextlib.AsyncExitStack, hosts: tuple[DemoHost, ...]) -> int:
    """Start every host's server on the same port, one that is free on all their addresses."""
    for attempt in range(_PORT_ATTEMPTS):
        async with contextlib.AsyncExitStack() as attempt_stack:
            first = SmtpServer(hosts[0].posture, hosts[0].address, 0)
            await attempt_stack.enter_async_context(first)
            try:
                for host in hosts[1:]:
                    server = SmtpServer(host.posture, host.address, first.port)
                    await attempt_stack.enter_async_context(server)
            except OSError as error:
                # Someone holds that port on one of the other addresses: try another one.
                if error.errno != errno.EADDRINUSE or attempt == _PORT_ATTEMPTS - 1:
                    raise
                continue
            stack.push_async_exit(attempt_stack.pop_all())
            return first.port
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass(frozen=True)
class DemoEnvironment:
    """A running demo world; see ``start``. Every server listens on loopback only."""

    stories: tuple[DemoDomain, ...]  # presentation order
    hosts: tuple[DemoHost, ...]
    port: int  # the SMTP port every demo mail server listens on
    nameserver_ip: str
    nameserver_port: int
    ca_file: Path  # the demo root CA (PEM), the only anchor the demo certificates chain to
    zone: str = ZONE

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(story.name for story in self.stories)

    @property
    def nameserver(self) -> str:
        return f"{self.nameserver_ip}:{self.nameserver_port}"

    def description(self, domain: str) -> str:
        """What checking ``domain`` should show; KeyError for a domain not in the demo."""
        for story in self.stories:
            if story.name == domain.lower().rstrip("."):
                return story.description
        raise KeyError(domain)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, work_dir: Path | None = None) -> AsyncIterator[DemoEnvironment]:
        """Run the demo world for the duration of an ``async with`` block.

        Certificates and keys go to ``work_dir`` (kept afterwards) or to a temporary folder
        (removed on exit).
        """
        async with contextlib.AsyncExitStack() as stack:
            if work_dir is None:
                folder = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="mailtls-demo-"))
                )
            else:
                folder = work_dir
                folder.mkdir(parents=True, exist_ok=True)
            # Key generation takes a moment; keep the event loop responsive meanwhile.
            files = await asyncio.to_thread(_issue_certificates, folder)
            hosts = _demo_hosts(files)
            port = await _start_on_one_port(stack, hosts)
            dns_server = DnsServer(demo_zone(), NAMESERVER_ADDRESS, 0)
            await stack.enter_async_context(dns_server)
            yield cls(
                stories=demo_domains(),
                hosts=hosts,
                port=port,
                nameserver_ip=NAMESERVER_ADDRESS,
                nameserver_port=dns_server.port,
                ca_file=files.ca_file,
            )

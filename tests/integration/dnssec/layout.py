"""What the secure world is: its zones, MX hosts, test domains and what each is for.

Pure data. The zones, the resolver's and nginx's configurations are rendered from these values,
and ``test_secure_world.py`` checks the running servers against them, so a test that reads an
expected outcome here reads something that has been verified on the wire.

The world is a DNS universe of its own under ``test.``: its key is the validating resolver's
only trust anchor, and every other zone hangs below it, so DNSSEC is validated the way it is on
the internet, from the anchor down through DS records. The MX hosts' addresses are the test
fleet's Postfix listeners (``tests.integration.fleet``), and every TLSA record is computed at
start from the certificate chain that listener serves.

Two fleet host names (``mx-modern.mailtls.test``, ``mx-tls12.mailtls.test``) are published
again here, signed, with the same addresses as in the fleet's own zone. They are the names the
fleet's certificates carry, and two checks need an MX host whose certificate names it: a DANE-TA
(2 x x) record is only honoured when the certificate names the MX host (RFC 7672 section 3.2.2,
https://www.rfc-editor.org/rfc/rfc7672#section-3.2.2), and an MTA-STS policy in enforce mode
only passes when the certificate is valid for the MX host (RFC 8461 section 4.2,
https://www.rfc-editor.org/rfc/rfc8461#section-4.2). Through the world's resolver the rest of
``mailtls.test`` does not exist: ask the fleet's nsd for the fleet's own domains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mailtls.models import DaneState, DnssecStatus, MtaStsFetch, MtaStsState
from tests.integration.fleet.layout import Posture, listener_for

# --- Addresses ---------------------------------------------------------------------------------

# Each running world takes one slot: four addresses of 127.0.6.0/24 of its own, so that xdist
# workers and concurrent test runs on one machine each run a world without clashing. A slot is
# held by a lock file (see world.py) for as long as its world runs.
NETWORK_PREFIX = "127.0.6."
FIRST_SLOT_HOST = 10
ADDRESSES_PER_SLOT = 4
SLOT_COUNT = 16  # 127.0.6.10 ... 127.0.6.73
DNS_PORT = 53
HTTPS_PORT = 443  # MTA-STS fetches https://mta-sts.<domain>/ on the default port


@dataclass(frozen=True)
class Slot:
    """The addresses of one world."""

    number: int

    def _address(self, offset: int) -> str:
        return f"{NETWORK_PREFIX}{FIRST_SLOT_HOST + ADDRESSES_PER_SLOT * self.number + offset}"

    @property
    def authoritative(self) -> str:
        """nsd, authoritative for every zone of the world (port 53; it does not recurse)."""
        return self._address(0)

    @property
    def resolver(self) -> str:
        """unbound, validating, with the world's trust anchor (port 53)."""
        return self._address(1)

    @property
    def https(self) -> str:
        """nginx, serving the MTA-STS policies (port 443)."""
        return self._address(2)

    @property
    def hanging(self) -> str:
        """A socket that listens on port 443 and never accepts: connections hang."""
        return self._address(3)

    @property
    def addresses(self) -> tuple[str, ...]:
        return (self.authoritative, self.resolver, self.https, self.hanging)


# --- Zones -------------------------------------------------------------------------------------

ROOT_ZONE = "test"
SECURE_ZONE = "secure.test"
INSECURE_ZONE = "insecure.test"
WRONG_DS_ZONE = "bogus.test"
EXPIRED_ZONE = "expired.test"
NAMESERVER_HOST = f"ns.{ROOT_ZONE}"


class Signing(StrEnum):
    """How a zone is signed, and what its parent says of its key."""

    SIGNED = "signed"  # signed; the parent holds the DS of its key (the root: the trust anchor)
    UNSIGNED = "unsigned"  # no signatures and no DS in the parent: provably insecure
    WRONG_DS = "wrong_ds"  # signed, but the parent's DS matches none of its keys
    EXPIRED = "expired"  # signed, DS in the parent, but every signature expired


@dataclass(frozen=True)
class Zone:
    name: str
    signing: Signing
    dnssec: DnssecStatus  # what the validating resolver says of every name in the zone
    purpose: str


ZONES: tuple[Zone, ...] = (
    Zone(
        ROOT_ZONE,
        Signing.SIGNED,
        DnssecStatus.SECURE,
        "the world's root: its key's DS is the resolver's trust anchor; it delegates the other "
        "zones and holds the fleet host names the certificates carry",
    ),
    Zone(SECURE_ZONE, Signing.SIGNED, DnssecStatus.SECURE, "most test domains and MX hosts"),
    Zone(
        INSECURE_ZONE,
        Signing.UNSIGNED,
        DnssecStatus.INSECURE,
        "unsigned, delegated without DS: answers come without the AD bit",
    ),
    Zone(
        WRONG_DS_ZONE,
        Signing.WRONG_DS,
        DnssecStatus.BOGUS,
        "the DS in test. matches no key: SERVFAIL, but a query with CD answers",
    ),
    Zone(
        EXPIRED_ZONE,
        Signing.EXPIRED,
        DnssecStatus.BOGUS,
        "every signature expired a week ago: SERVFAIL, but a query with CD answers",
    ),
)


def zone_of(name: str) -> Zone:
    """The zone a name belongs to: the one with the longest matching suffix."""
    candidates = [zone for zone in ZONES if name == zone.name or name.endswith(f".{zone.name}")]
    if not candidates:
        raise ValueError(f"{name} is not in the secure world")
    return max(candidates, key=lambda zone: len(zone.name))


# --- TLSA records and MX hosts -----------------------------------------------------------------


class Source(StrEnum):
    """What a TLSA record's association data is computed from."""

    LEAF = "leaf"  # the leaf certificate the host's listener presents
    INTERMEDIATE = "intermediate"  # the intermediate CA certificate the listener sends with it
    NOTHING = "nothing"  # a hash of a label: matches no certificate at all


@dataclass(frozen=True)
class TlsaSpec:
    """One TLSA record (RFC 6698 section 2.1, https://www.rfc-editor.org/rfc/rfc6698#section-2.1).

    usage 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE; selector 0 full certificate, 1
    SubjectPublicKeyInfo; matching type 0 exact, 1 SHA-256, 2 SHA-512 (names from RFC 7218).
    Parameters outside those are published as they are, with SHA-256 of the whole certificate
    as data, to test how unknown values are handled.
    """

    usage: int
    selector: int
    matching_type: int
    source: Source


DANE_EE_SPKI_SHA256 = TlsaSpec(3, 1, 1, Source.LEAF)  # the usual "3 1 1"
NO_MATCH = TlsaSpec(3, 1, 1, Source.NOTHING)


@dataclass(frozen=True)
class MxHost:
    """An MX host name: its A record is a fleet listener's address, its TLSA records are listed.

    ``dane`` is what a DANE check of the host concludes (per RFC 7672); ``why`` says why.
    """

    name: str
    posture: Posture  # the fleet listener whose address the host's A record holds
    tlsa: tuple[TlsaSpec, ...]
    dane: DaneState
    why: str
    # The RRSIG over the TLSA RRset is corrupted: that one answer is bogus, the rest is secure.
    broken_tlsa_signature: bool = False

    @property
    def ip(self) -> str:
        return listener_for(self.posture).ip

    @property
    def tlsa_name(self) -> str:
        return f"_25._tcp.{self.name}"

    @property
    def zone(self) -> Zone:
        return zone_of(self.name)

    @property
    def address_dnssec(self) -> DnssecStatus:
        return self.zone.dnssec

    @property
    def tlsa_dnssec(self) -> DnssecStatus:
        return DnssecStatus.BOGUS if self.broken_tlsa_signature else self.zone.dnssec


def _secure(label: str) -> str:
    return f"{label}.{SECURE_ZONE}"


FLEET_MODERN_HOST = listener_for(Posture.MODERN).host  # mx-modern.mailtls.test
FLEET_TLS12_HOST = listener_for(Posture.TLS12_ONLY).host  # mx-tls12.mailtls.test


@dataclass(frozen=True)
class MxHosts:
    """Every MX host of the world, by what it shows."""

    # DANE-EE (usage 3) matches the leaf: names do not matter for usage 3 (RFC 7672 3.1.1).
    ee_spki: MxHost = MxHost(
        _secure("mx-ee"),
        Posture.MODERN,
        (DANE_EE_SPKI_SHA256,),
        DaneState.VALID,
        "3 1 1: SHA-256 of the leaf's public key",
    )
    ee_certificate: MxHost = MxHost(
        _secure("mx-ee-cert"),
        Posture.MODERN,
        (TlsaSpec(3, 0, 2, Source.LEAF),),
        DaneState.VALID,
        "3 0 2: SHA-512 of the whole leaf certificate",
    )
    ee_exact: MxHost = MxHost(
        _secure("mx-ee-exact"),
        Posture.MODERN,
        (TlsaSpec(3, 0, 0, Source.LEAF),),
        DaneState.VALID,
        "3 0 0: the whole leaf certificate itself, a record of about 800 bytes",
    )
    rollover: MxHost = MxHost(
        _secure("mx-rollover"),
        Posture.MODERN,
        (NO_MATCH, DANE_EE_SPKI_SHA256),
        DaneState.VALID,
        "two 3 1 1 records, as during a key rollover: the next key's and the current one's",
    )
    mismatch: MxHost = MxHost(
        _secure("mx-mismatch"),
        Posture.MODERN,
        (NO_MATCH,),
        DaneState.MISMATCH,
        "3 1 1 with a hash of no certificate: DANE senders do not deliver",
    )
    # DANE-TA (usage 2) on the fleet's own host names, which the fleet's certificates carry.
    ta_certificate: MxHost = MxHost(
        FLEET_MODERN_HOST,
        Posture.MODERN,
        (TlsaSpec(2, 0, 1, Source.INTERMEDIATE),),
        DaneState.VALID,
        "2 0 1: SHA-256 of the intermediate the listener sends; the leaf names this host",
    )
    ta_spki: MxHost = MxHost(
        FLEET_TLS12_HOST,
        Posture.TLS12_ONLY,
        (TlsaSpec(2, 1, 1, Source.INTERMEDIATE),),
        DaneState.VALID,
        "2 1 1: SHA-256 of the intermediate's public key; the leaf names this host",
    )
    ta_wrong_name: MxHost = MxHost(
        _secure("mx-ta"),
        Posture.MODERN,
        (TlsaSpec(2, 0, 1, Source.INTERMEDIATE),),
        DaneState.MISMATCH,
        "2 0 1 matches the chain, but the leaf names mx-modern.mailtls.test, not this host: "
        "DANE-TA requires the name to match (RFC 7672 3.2.2)",
    )
    pkix_only: MxHost = MxHost(
        _secure("mx-pkix"),
        Posture.MODERN,
        (TlsaSpec(1, 1, 1, Source.LEAF),),
        DaneState.UNUSABLE,
        "1 1 1 (PKIX-EE) matches the leaf, but SMTP cannot use PKIX usages (RFC 7672 3.1.3)",
    )
    unknown_parameters: MxHost = MxHost(
        _secure("mx-odd"),
        Posture.MODERN,
        (
            TlsaSpec(4, 1, 1, Source.LEAF),
            TlsaSpec(3, 2, 1, Source.LEAF),
            TlsaSpec(3, 1, 3, Source.LEAF),
        ),
        DaneState.UNUSABLE,
        "usage 4, selector 2, matching type 3: none is defined, so none is usable",
    )
    no_tlsa: MxHost = MxHost(
        _secure("mx-none"),
        Posture.MODERN,
        (),
        DaneState.NOT_CONFIGURED,
        "secure address, no TLSA record",
    )
    legacy: MxHost = MxHost(
        _secure("mx-legacy"),
        Posture.LEGACY,
        (DANE_EE_SPKI_SHA256,),
        DaneState.VALID,
        "3 1 1 matches, but the listener speaks only TLS 1.0/1.1",
    )
    no_starttls: MxHost = MxHost(
        _secure("mx-plain"),
        Posture.NO_STARTTLS,
        (NO_MATCH,),
        DaneState.NOT_TESTED,
        "TLSA published, but the listener offers no STARTTLS: no chain to compare",
    )
    broken_signature: MxHost = MxHost(
        _secure("mx-badsig"),
        Posture.MODERN,
        (DANE_EE_SPKI_SHA256,),
        DaneState.BOGUS,
        "secure address, but the TLSA RRset's signature is corrupted: bogus",
        broken_tlsa_signature=True,
    )
    insecure: MxHost = MxHost(
        f"mx.{INSECURE_ZONE}",
        Posture.MODERN,
        (DANE_EE_SPKI_SHA256,),
        DaneState.NOT_SECURE,
        "3 1 1 matches, but the zone is unsigned: senders ignore the record",
    )
    wrong_ds: MxHost = MxHost(
        f"mx.{WRONG_DS_ZONE}",
        Posture.MODERN,
        (DANE_EE_SPKI_SHA256,),
        DaneState.BOGUS,
        "in the zone whose DS matches no key: every answer is bogus",
    )
    expired: MxHost = MxHost(
        f"mx.{EXPIRED_ZONE}",
        Posture.MODERN,
        (DANE_EE_SPKI_SHA256,),
        DaneState.BOGUS,
        "in the zone whose signatures expired: every answer is bogus",
    )

    def all(self) -> tuple[MxHost, ...]:
        return tuple(getattr(self, item.name) for item in dataclasses.fields(self))


MX_HOSTS = MxHosts()


# --- MTA-STS and TLS-RPT -----------------------------------------------------------------------


class Serving(StrEnum):
    """How https://mta-sts.<domain>/.well-known/mta-sts.txt answers."""

    POLICY = "policy"  # 200, Content-Type text/plain, the domain's policy
    NOT_FOUND = "not_found"  # 404
    REDIRECT = "redirect"  # 301 to the valid policy of sts-enforce.secure.test
    HUGE = "huge"  # 200, text/plain, the policy padded to HUGE_POLICY_BYTES
    SLOW = "slow"  # 200 and headers at once, then the body at one byte a second
    WRONG_TYPE = "wrong_type"  # 200, the policy, but as text/html
    WRONG_NAME_CERTIFICATE = "wrong_name_certificate"  # certificate for OTHER_HTTPS_NAME
    UNTRUSTED_CERTIFICATE = "untrusted_certificate"  # self-signed, right name
    HANGS = "hangs"  # TCP connects (the kernel accepts), nothing ever answers: no TLS handshake
    NO_ADDRESS = "no_address"  # mta-sts.<domain> has no address record at all


HUGE_POLICY_BYTES = 1024 * 1024
SLOW_RATE_BYTES_PER_SECOND = 1
SLOW_POLICY_BYTES = 4096  # an hour and more at that rate
# Sent at full speed first (nginx counts the headers too): the status line and headers arrive.
SLOW_BURST_BYTES = 512
OTHER_HTTPS_NAME = f"mta-sts.elsewhere.{SECURE_ZONE}"
POLICY_PATH = "/.well-known/mta-sts.txt"
GOOD_MAX_AGE = 604800  # one week
SHORT_MAX_AGE = 3600  # one hour


def policy_text(mode: str, *mx: str, max_age: int = GOOD_MAX_AGE) -> str:
    """A policy file (RFC 8461 section 3.2, https://www.rfc-editor.org/rfc/rfc8461#section-3.2)."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {pattern}" for pattern in mx)]
    lines.append(f"max_age: {max_age}")
    return "\r\n".join(lines) + "\r\n"


# "v=STSv1; id=<1 to 32 letters and digits>;" (RFC 8461 section 3.1,
# https://www.rfc-editor.org/rfc/rfc8461#section-3.1).
STS_RECORD = "v=STSv1; id=20261101T000000;"


@dataclass(frozen=True)
class MtaStsCase:
    """What a domain publishes for MTA-STS and what a check of it concludes."""

    txt: tuple[str, ...]  # the TXT records at _mta-sts.<domain>, as published
    serving: Serving
    policy: str  # what nginx serves as the policy (for the serving kinds that serve one)
    fetch: MtaStsFetch  # how fetching the policy goes
    state: MtaStsState

    @property
    def has_address(self) -> bool:
        return self.serving is not Serving.NO_ADDRESS


@dataclass(frozen=True)
class TlsRptCase:
    """The TXT records at _smtp._tls.<domain> (RFC 8460 section 3,
    https://www.rfc-editor.org/rfc/rfc8460#section-3) and what a check of them concludes."""

    txt: tuple[str, ...]
    valid: bool
    rua: tuple[str, ...]  # the report destinations of the one valid record


# --- Test domains ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorldDomain:
    """A domain whose MX records point at world MX hosts.

    ``dane`` is the domain's DANE outcome when all its MX hosts agree, None when they differ
    (look at each host's). ``mta_sts`` None: no _mta-sts record (MtaStsState.NOT_CONFIGURED).
    ``tls_rpt`` None: no _smtp._tls record.
    """

    name: str
    mx: tuple[tuple[int, str], ...]
    purpose: str
    dane: DaneState | None
    mta_sts: MtaStsCase | None = None
    tls_rpt: TlsRptCase | None = None

    @property
    def zone(self) -> Zone:
        return zone_of(self.name)

    @property
    def dnssec(self) -> DnssecStatus:
        """Of the domain's MX answer."""
        return self.zone.dnssec

    @property
    def mx_hosts(self) -> tuple[str, ...]:
        return tuple(host for _, host in self.mx)

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.name}"

    @property
    def policy_url(self) -> str:
        return f"https://{self.policy_host}{POLICY_PATH}"


def _sts(
    serving: Serving,
    policy: str,
    fetch: MtaStsFetch,
    state: MtaStsState,
    *,
    txt: tuple[str, ...] = (STS_RECORD,),
) -> MtaStsCase:
    return MtaStsCase(txt=txt, serving=serving, policy=policy, fetch=fetch, state=state)


def _tlsrpt(*txt: str, valid: bool, rua: tuple[str, ...] = ()) -> TlsRptCase:
    return TlsRptCase(txt=txt, valid=valid, rua=rua)


_ENFORCE_MODERN = policy_text("enforce", FLEET_MODERN_HOST)
_ON_FLEET_HOST = ((10, FLEET_MODERN_HOST),)
_UNREACHABLE = MtaStsState.UNREACHABLE
_REPORTS_MAILTO = f"mailto:tlsrpt@{SECURE_ZONE}"
_REPORTS_HTTPS = f"https://reports.{SECURE_ZONE}/tlsrpt"


@dataclass(frozen=True)
class WorldDomains:
    """Every test domain, by what it is for."""

    # --- DANE --------------------------------------------------------------------------------
    dane_valid: WorldDomain = WorldDomain(
        _secure("dane-valid"),
        ((10, MX_HOSTS.ee_spki.name), (20, MX_HOSTS.ee_certificate.name)),
        "DANE-EE records matching both MX hosts (3 1 1 and 3 0 2)",
        DaneState.VALID,
    )
    dane_exact: WorldDomain = WorldDomain(
        _secure("dane-exact"),
        ((10, MX_HOSTS.ee_exact.name),),
        "a 3 0 0 record: the whole certificate, a large TLSA answer",
        DaneState.VALID,
    )
    dane_rollover: WorldDomain = WorldDomain(
        _secure("dane-rollover"),
        ((10, MX_HOSTS.rollover.name),),
        "two TLSA records, one matching: valid, as during a rollover",
        DaneState.VALID,
    )
    dane_mismatch: WorldDomain = WorldDomain(
        _secure("dane-mismatch"),
        ((10, MX_HOSTS.mismatch.name),),
        "the only TLSA record matches no certificate",
        DaneState.MISMATCH,
    )
    dane_partial: WorldDomain = WorldDomain(
        _secure("dane-partial"),
        ((10, MX_HOSTS.ee_spki.name), (20, MX_HOSTS.mismatch.name)),
        "one MX host valid, the other mismatching",
        None,
    )
    dane_ta: WorldDomain = WorldDomain(
        _secure("dane-ta"),
        ((10, MX_HOSTS.ta_certificate.name), (20, MX_HOSTS.ta_spki.name)),
        "DANE-TA records matching the fleet's intermediate, on hosts the leaves name",
        DaneState.VALID,
    )
    dane_ta_wrong_name: WorldDomain = WorldDomain(
        _secure("dane-ta-name"),
        ((10, MX_HOSTS.ta_wrong_name.name),),
        "DANE-TA matches the chain, the leaf does not name the MX host",
        DaneState.MISMATCH,
    )
    dane_pkix_only: WorldDomain = WorldDomain(
        _secure("dane-pkix"),
        ((10, MX_HOSTS.pkix_only.name),),
        "only a PKIX-EE (1 1 1) record, which SMTP cannot use",
        DaneState.UNUSABLE,
    )
    dane_unknown_parameters: WorldDomain = WorldDomain(
        _secure("dane-odd"),
        ((10, MX_HOSTS.unknown_parameters.name),),
        "TLSA records with undefined usage, selector or matching type",
        DaneState.UNUSABLE,
    )
    dane_none: WorldDomain = WorldDomain(
        _secure("dane-none"),
        ((10, MX_HOSTS.no_tlsa.name),),
        "signed, but no TLSA record",
        DaneState.NOT_CONFIGURED,
    )
    dane_some_hosts: WorldDomain = WorldDomain(
        _secure("dane-some"),
        ((10, MX_HOSTS.ee_spki.name), (20, MX_HOSTS.no_tlsa.name)),
        "one MX host with a matching TLSA record, the other with none (DANE_PARTIAL)",
        None,
    )
    dane_legacy: WorldDomain = WorldDomain(
        _secure("dane-legacy"),
        ((10, MX_HOSTS.legacy.name),),
        "DANE matches, but the MX speaks only TLS 1.0/1.1 (Exchange Online cannot deliver)",
        DaneState.VALID,
    )
    dane_no_starttls: WorldDomain = WorldDomain(
        _secure("dane-plain"),
        ((10, MX_HOSTS.no_starttls.name),),
        "TLSA published, but the MX offers no STARTTLS",
        DaneState.NOT_TESTED,
    )
    dane_broken_signature: WorldDomain = WorldDomain(
        _secure("dane-badsig"),
        ((10, MX_HOSTS.broken_signature.name),),
        "secure MX and address, bogus TLSA answer (corrupted signature)",
        DaneState.BOGUS,
    )
    dane_bogus_host: WorldDomain = WorldDomain(
        _secure("dane-bogus-host"),
        ((10, MX_HOSTS.wrong_ds.name),),
        "secure MX record, MX host in a bogus zone",
        DaneState.BOGUS,
    )
    dane_insecure_host: WorldDomain = WorldDomain(
        _secure("dane-insecure-host"),
        ((10, MX_HOSTS.insecure.name),),
        "secure MX record, MX host in an unsigned zone: its TLSA record does not count",
        DaneState.NOT_SECURE,
    )
    insecure: WorldDomain = WorldDomain(
        INSECURE_ZONE,
        ((10, MX_HOSTS.insecure.name),),
        "an unsigned domain with a matching TLSA record on its MX host",
        DaneState.NOT_SECURE,
    )
    bogus: WorldDomain = WorldDomain(
        WRONG_DS_ZONE,
        ((10, MX_HOSTS.wrong_ds.name),),
        "every answer bogus (the DS matches no key): SERVFAIL, CD answers",
        DaneState.BOGUS,
    )
    expired: WorldDomain = WorldDomain(
        EXPIRED_ZONE,
        ((10, MX_HOSTS.expired.name),),
        "every answer bogus (signatures expired): SERVFAIL, CD answers",
        DaneState.BOGUS,
    )

    # --- MTA-STS (RFC 8461) ------------------------------------------------------------------
    sts_enforce: WorldDomain = WorldDomain(
        _secure("sts-enforce"),
        _ON_FLEET_HOST,
        "enforce, the MX covered, its certificate valid for its name; TLS-RPT by mail",
        DaneState.VALID,
        mta_sts=_sts(Serving.POLICY, _ENFORCE_MODERN, MtaStsFetch.OK, MtaStsState.ENFORCED),
        tls_rpt=_tlsrpt(f"v=TLSRPTv1; rua={_REPORTS_MAILTO}", valid=True, rua=(_REPORTS_MAILTO,)),
    )
    sts_wildcard: WorldDomain = WorldDomain(
        _secure("sts-wildcard"),
        ((10, FLEET_MODERN_HOST), (20, FLEET_TLS12_HOST)),
        "enforce with the pattern *.mailtls.test covering both MX hosts",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            policy_text("enforce", "*.mailtls.test"),
            MtaStsFetch.OK,
            MtaStsState.ENFORCED,
        ),
    )
    sts_testing: WorldDomain = WorldDomain(
        _secure("sts-testing"),
        _ON_FLEET_HOST,
        "testing mode: failures are only reported",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            policy_text("testing", FLEET_MODERN_HOST),
            MtaStsFetch.OK,
            MtaStsState.TESTING,
        ),
    )
    sts_none: WorldDomain = WorldDomain(
        _secure("sts-none"),
        _ON_FLEET_HOST,
        "mode none: the domain withdraws its policy",
        DaneState.VALID,
        mta_sts=_sts(Serving.POLICY, policy_text("none"), MtaStsFetch.OK, MtaStsState.NONE),
    )
    sts_uncovered: WorldDomain = WorldDomain(
        _secure("sts-uncovered"),
        ((10, FLEET_MODERN_HOST), (20, FLEET_TLS12_HOST)),
        "enforce, but the policy names only the first MX host",
        DaneState.VALID,
        mta_sts=_sts(Serving.POLICY, _ENFORCE_MODERN, MtaStsFetch.OK, MtaStsState.FAILING),
    )
    sts_certificate_name: WorldDomain = WorldDomain(
        _secure("sts-badcert"),
        ((10, MX_HOSTS.ee_spki.name),),
        "enforce covers the MX host, whose certificate names mx-modern.mailtls.test instead",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            policy_text("enforce", MX_HOSTS.ee_spki.name),
            MtaStsFetch.OK,
            MtaStsState.FAILING,
        ),
    )
    sts_short_max_age: WorldDomain = WorldDomain(
        _secure("sts-short"),
        _ON_FLEET_HOST,
        f"enforce and valid, but max_age is only {SHORT_MAX_AGE} seconds",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            policy_text("enforce", FLEET_MODERN_HOST, max_age=SHORT_MAX_AGE),
            MtaStsFetch.OK,
            MtaStsState.ENFORCED,
        ),
    )
    sts_policy_invalid: WorldDomain = WorldDomain(
        _secure("sts-badpolicy"),
        _ON_FLEET_HOST,
        "the policy file says mode: strict and has no max_age",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            f"version: STSv1\r\nmode: strict\r\nmx: {FLEET_MODERN_HOST}\r\n",
            MtaStsFetch.OK,
            MtaStsState.INVALID,
        ),
    )
    sts_not_found: WorldDomain = WorldDomain(
        _secure("sts-notfound"),
        _ON_FLEET_HOST,
        "valid TXT record, the policy URL answers 404",
        DaneState.VALID,
        mta_sts=_sts(Serving.NOT_FOUND, "", MtaStsFetch.NOT_FOUND, _UNREACHABLE),
    )
    sts_redirect: WorldDomain = WorldDomain(
        _secure("sts-redirect"),
        _ON_FLEET_HOST,
        "the policy URL answers 301 to sts-enforce's valid policy; redirects must not be "
        "followed (RFC 8461 3.3)",
        DaneState.VALID,
        mta_sts=_sts(Serving.REDIRECT, "", MtaStsFetch.HTTP_ERROR, _UNREACHABLE),
    )
    sts_huge: WorldDomain = WorldDomain(
        _secure("sts-huge"),
        _ON_FLEET_HOST,
        f"a valid policy padded to {HUGE_POLICY_BYTES} bytes",
        DaneState.VALID,
        mta_sts=_sts(Serving.HUGE, _ENFORCE_MODERN, MtaStsFetch.TOO_LARGE, _UNREACHABLE),
    )
    sts_slow: WorldDomain = WorldDomain(
        _secure("sts-slow"),
        _ON_FLEET_HOST,
        f"headers at once, then the body at {SLOW_RATE_BYTES_PER_SECOND} byte a second",
        DaneState.VALID,
        mta_sts=_sts(Serving.SLOW, _ENFORCE_MODERN, MtaStsFetch.TIMEOUT, _UNREACHABLE),
    )
    sts_hangs: WorldDomain = WorldDomain(
        _secure("sts-hang"),
        _ON_FLEET_HOST,
        "the policy host accepts TCP connections and never says a word",
        DaneState.VALID,
        mta_sts=_sts(Serving.HANGS, "", MtaStsFetch.TIMEOUT, _UNREACHABLE),
    )
    sts_wrong_type: WorldDomain = WorldDomain(
        _secure("sts-wrongtype"),
        _ON_FLEET_HOST,
        "a valid policy served as text/html (RFC 8461 3.2 wants text/plain)",
        DaneState.VALID,
        mta_sts=_sts(Serving.WRONG_TYPE, _ENFORCE_MODERN, MtaStsFetch.WRONG_TYPE, _UNREACHABLE),
    )
    sts_certificate_other_name: WorldDomain = WorldDomain(
        _secure("sts-wrongcert"),
        _ON_FLEET_HOST,
        f"the policy host's certificate names {OTHER_HTTPS_NAME} only",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.WRONG_NAME_CERTIFICATE, _ENFORCE_MODERN, MtaStsFetch.TLS_ERROR, _UNREACHABLE
        ),
    )
    sts_certificate_untrusted: WorldDomain = WorldDomain(
        _secure("sts-selfsigned"),
        _ON_FLEET_HOST,
        "the policy host's certificate names it but is self-signed",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.UNTRUSTED_CERTIFICATE, _ENFORCE_MODERN, MtaStsFetch.TLS_ERROR, _UNREACHABLE
        ),
    )
    sts_no_policy_host: WorldDomain = WorldDomain(
        _secure("sts-nohost"),
        _ON_FLEET_HOST,
        "valid TXT record, but mta-sts.<domain> has no address: no policy to fetch",
        DaneState.VALID,
        mta_sts=_sts(Serving.NO_ADDRESS, "", MtaStsFetch.CONNECT_FAILED, _UNREACHABLE),
    )
    sts_record_invalid: WorldDomain = WorldDomain(
        _secure("sts-badrecord"),
        _ON_FLEET_HOST,
        "the TXT record's id is not 1-32 letters and digits; a valid policy is served anyway",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            _ENFORCE_MODERN,
            MtaStsFetch.NOT_FETCHED,
            MtaStsState.INVALID,
            txt=("v=STSv1; id=not-valid!;",),
        ),
    )
    sts_record_huge: WorldDomain = WorldDomain(
        _secure("sts-hugerecord"),
        _ON_FLEET_HOST,
        "a 3000-character id in a TXT record of twelve strings (answer over UDP is truncated)",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            _ENFORCE_MODERN,
            MtaStsFetch.NOT_FETCHED,
            MtaStsState.INVALID,
            txt=(f"v=STSv1; id={'a' * 3000};",),
        ),
    )
    sts_records_several: WorldDomain = WorldDomain(
        _secure("sts-multiple"),
        _ON_FLEET_HOST,
        "two v=STSv1 records (and an SPF record): not exactly one, so no policy (RFC 8461 3.1)",
        DaneState.VALID,
        mta_sts=_sts(
            Serving.POLICY,
            _ENFORCE_MODERN,
            MtaStsFetch.NOT_FETCHED,
            MtaStsState.INVALID,
            txt=(STS_RECORD, "v=STSv1; id=20261102T000000;", "v=spf1 -all"),
        ),
    )

    # --- TLS-RPT (RFC 8460) ------------------------------------------------------------------
    tlsrpt_https: WorldDomain = WorldDomain(
        _secure("tlsrpt-https"),
        _ON_FLEET_HOST,
        "a TLS-RPT record with an https: destination",
        DaneState.VALID,
        tls_rpt=_tlsrpt(f"v=TLSRPTv1; rua={_REPORTS_HTTPS}", valid=True, rua=(_REPORTS_HTTPS,)),
    )
    tlsrpt_both: WorldDomain = WorldDomain(
        _secure("tlsrpt-both"),
        _ON_FLEET_HOST,
        "a TLS-RPT record with a mailto: and an https: destination",
        DaneState.VALID,
        tls_rpt=_tlsrpt(
            f"v=TLSRPTv1; rua={_REPORTS_MAILTO},{_REPORTS_HTTPS}",
            valid=True,
            rua=(_REPORTS_MAILTO, _REPORTS_HTTPS),
        ),
    )
    tlsrpt_bad_scheme: WorldDomain = WorldDomain(
        _secure("tlsrpt-ftp"),
        _ON_FLEET_HOST,
        "a TLS-RPT record whose only destination is an ftp: URI",
        DaneState.VALID,
        tls_rpt=_tlsrpt(f"v=TLSRPTv1; rua=ftp://reports.{SECURE_ZONE}/tlsrpt", valid=False),
    )
    tlsrpt_no_rua: WorldDomain = WorldDomain(
        _secure("tlsrpt-norua"),
        _ON_FLEET_HOST,
        "a TLS-RPT record without rua",
        DaneState.VALID,
        tls_rpt=_tlsrpt("v=TLSRPTv1;", valid=False),
    )
    tlsrpt_several: WorldDomain = WorldDomain(
        _secure("tlsrpt-multiple"),
        _ON_FLEET_HOST,
        "two v=TLSRPTv1 records: not exactly one, so none counts (RFC 8460 3)",
        DaneState.VALID,
        tls_rpt=_tlsrpt(
            f"v=TLSRPTv1; rua={_REPORTS_MAILTO}",
            f"v=TLSRPTv1; rua={_REPORTS_HTTPS}",
            valid=False,
        ),
    )

    def all(self) -> tuple[WorldDomain, ...]:
        return tuple(getattr(self, item.name) for item in dataclasses.fields(self))

    def named(self, name: str) -> WorldDomain:
        return next(domain for domain in self.all() if domain.name == name)


DOMAINS = WorldDomains()


# --- The running world -------------------------------------------------------------------------


@dataclass(frozen=True)
class SecureWorld:
    """A running world: where its servers listen and what they serve.

    ``ip``/``port`` is the validating resolver (unbound): give it to ``--nameserver``
    (``nameserver`` has it as IP:PORT). ``ca_file`` holds the world's HTTPS root and the
    fleet's root, so one ``--ca-file`` validates both the policy hosts and the MX hosts;
    ``https_ca_file`` holds the HTTPS root alone. ``trust_anchor`` is the DS record of
    ``test.`` the resolver trusts.
    """

    slot: Slot
    ip: str
    port: int
    authoritative_ip: str
    authoritative_port: int
    https_ip: str
    https_port: int
    hanging_ip: str
    ca_file: Path
    https_ca_file: Path
    trust_anchor: str
    state_dir: Path
    resolver_log: Path
    nsd_log: Path
    nginx_error_log: Path
    nginx_access_log: Path
    zones: tuple[Zone, ...] = ZONES
    domains: WorldDomains = field(default_factory=WorldDomains)
    hosts: MxHosts = field(default_factory=MxHosts)

    @property
    def nameserver(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def mx_hosts(self) -> tuple[MxHost, ...]:
        return self.hosts.all()

    def mx_host(self, name: str) -> MxHost:
        return next(host for host in self.mx_hosts if host.name == name)

    def zone(self, name: str) -> Zone:
        return next(zone for zone in self.zones if zone.name == name)

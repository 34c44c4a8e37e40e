"""The world's zone files, unsigned, rendered from the layout (pure).

Every record is listed once with its owner name and lands in the zone that owner belongs to;
a delegation (NS, and DS where the child is signed) lands in the parent. All zones are served
by one nsd, named ``ns.test.``, whose address is the slot's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .layout import (
    DOMAINS,
    MX_HOSTS,
    NAMESERVER_HOST,
    ROOT_ZONE,
    ZONES,
    Serving,
    Signing,
    Slot,
    WorldDomains,
    Zone,
    zone_of,
)

TTL = 300
_TXT_CHUNK = 255  # one character-string of a TXT record holds at most 255 octets


@dataclass(frozen=True)
class Record:
    owner: str  # without the final dot
    rdtype: str
    rdata: str

    def line(self) -> str:
        return f"{self.owner}. {TTL} IN {self.rdtype} {self.rdata}"


def txt_rdata(text: str) -> str:
    """A TXT value as zone file strings: quoted, escaped, cut into 255-octet pieces."""
    raw = text.encode("ascii")
    pieces = [raw[start : start + _TXT_CHUNK] for start in range(0, len(raw), _TXT_CHUNK)] or [b""]
    quoted = []
    for piece in pieces:
        escaped = piece.decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
        quoted.append(f'"{escaped}"')
    return " ".join(quoted)


def mismatching_ds(ds_rdata: str) -> str:
    """The same key tag and algorithms, with a digest of no key: the child looks signed, its
    signatures cannot be trusted."""
    key_tag, algorithm, digest_type, digest = ds_rdata.split(maxsplit=3)
    wrong = hashlib.sha256(f"no key has this digest: {digest}".encode()).hexdigest()
    return f"{key_tag} {algorithm} {digest_type} {wrong}"


def _apex(zone: Zone) -> list[Record]:
    soa = f"{NAMESERVER_HOST}. hostmaster.{ROOT_ZONE}. 1 3600 600 86400 {TTL}"
    return [Record(zone.name, "SOA", soa), Record(zone.name, "NS", f"{NAMESERVER_HOST}.")]


def _delegations(ds_by_zone: Mapping[str, str]) -> list[Record]:
    """NS and DS records of every child zone, published in the root zone."""
    records: list[Record] = []
    for zone in ZONES:
        if zone.name == ROOT_ZONE:
            continue
        records.append(Record(zone.name, "NS", f"{NAMESERVER_HOST}."))
        if zone.signing is Signing.WRONG_DS:
            records.append(Record(zone.name, "DS", mismatching_ds(ds_by_zone[zone.name])))
        elif zone.signing is not Signing.UNSIGNED:
            records.append(Record(zone.name, "DS", ds_by_zone[zone.name]))
    return records


def _hosts(tlsa_by_host: Mapping[str, list[str]]) -> list[Record]:
    records: list[Record] = []
    for host in MX_HOSTS.all():
        records.append(Record(host.name, "A", host.ip))
        records.extend(Record(host.tlsa_name, "TLSA", rdata) for rdata in tlsa_by_host[host.name])
    return records


def _domains(slot: Slot, domains: WorldDomains) -> list[Record]:
    records: list[Record] = []
    for domain in domains.all():
        records.extend(Record(domain.name, "MX", f"{pref} {host}.") for pref, host in domain.mx)
        if domain.mta_sts is not None:
            records.extend(
                Record(f"_mta-sts.{domain.name}", "TXT", txt_rdata(text))
                for text in domain.mta_sts.txt
            )
            if domain.mta_sts.serving is Serving.HANGS:
                records.append(Record(domain.policy_host, "A", slot.hanging))
            elif domain.mta_sts.has_address:
                records.append(Record(domain.policy_host, "A", slot.https))
        if domain.tls_rpt is not None:
            records.extend(
                Record(f"_smtp._tls.{domain.name}", "TXT", txt_rdata(text))
                for text in domain.tls_rpt.txt
            )
    return records


def _zone_text(records: Iterable[Record]) -> str:
    return "\n".join(record.line() for record in records) + "\n"


def zone_texts(
    slot: Slot,
    tlsa_by_host: Mapping[str, list[str]],
    ds_by_zone: Mapping[str, str],
    domains: WorldDomains = DOMAINS,
) -> dict[str, str]:
    """Zone name -> unsigned zone file. ``ds_by_zone``: the DS record data of each signed
    child zone's key; ``tlsa_by_host``: the TLSA record data of each MX host."""
    by_zone: dict[str, list[Record]] = {zone.name: _apex(zone) for zone in ZONES}
    by_zone[ROOT_ZONE].append(Record(NAMESERVER_HOST, "A", slot.authoritative))
    by_zone[ROOT_ZONE].extend(_delegations(ds_by_zone))
    for record in (*_hosts(tlsa_by_host), *_domains(slot, domains)):
        by_zone[zone_of(record.owner).name].append(record)
    return {name: _zone_text(records) for name, records in by_zone.items()}

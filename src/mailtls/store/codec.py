"""Reports and observations as the compressed JSON the store keeps, and back."""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import TypeVar

from mailtls.models import AddressReport, DomainReport, MxHostReport, ProbeResult
from mailtls.render.jsonin import from_jsonable
from mailtls.render.jsonout import to_jsonable

T = TypeVar("T")

# Level 6 (zlib's default) gets most of the gain; reports compress about 8 to 1.
_LEVEL = 6


def pack(value: object) -> bytes:
    """A model value as zlib-compressed compact JSON."""
    text = json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=True)
    return zlib.compress(text.encode("ascii"), _LEVEL)


def unpack(cls: type[T], blob: bytes) -> T:
    """The value ``pack`` stored; ``ValueError`` if the blob is damaged or does not fit ``cls``."""
    try:
        text = zlib.decompress(blob)
        data = json.loads(text)
    except (zlib.error, ValueError) as error:
        raise ValueError(f"a stored {cls.__name__} cannot be read: {error}") from None
    return from_jsonable(cls, data)


def without_chains(report: DomainReport) -> DomainReport:
    """The report without the certificate chains of each probe.

    A run keeps each endpoint's chains once, with its observation; repeating them in every
    domain that uses the endpoint would make the store grow by kilobytes per domain. The
    judged certificate (``AddressReport.certificate``) stays.
    """
    return dataclasses.replace(
        report, mx_hosts=tuple(_mx_host_without_chains(host) for host in report.mx_hosts)
    )


def _mx_host_without_chains(host: MxHostReport) -> MxHostReport:
    return dataclasses.replace(
        host, addresses=tuple(_address_without_chains(address) for address in host.addresses)
    )


def _address_without_chains(address: AddressReport) -> AddressReport:
    return dataclasses.replace(
        address, probes=tuple(_probe_without_chain(p) for p in address.probes)
    )


def _probe_without_chain(probe: ProbeResult) -> ProbeResult:
    return dataclasses.replace(probe, chain_der=()) if probe.chain_der else probe

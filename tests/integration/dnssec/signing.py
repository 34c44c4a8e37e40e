"""Keys and signatures for the world's zones, made at start with ldnsutils.

Each signed zone has one key with the SEP flag (``ldns-keygen -k``) that signs everything, keys
and data alike: a combined signing key, as many real zones have. ``ldns-keygen`` writes the
key's DS record beside it, which goes into the parent zone, or for the root of the world into
the resolver's trust anchor.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

LDNS_KEYGEN = "/usr/bin/ldns-keygen"
LDNS_SIGNZONE = "/usr/bin/ldns-signzone"
# ECDSA P-256 with SHA-256 (algorithm 13): small keys and signatures, and made in milliseconds.
ALGORITHM = "ECDSAP256SHA256"


class SigningError(RuntimeError):
    pass


@dataclass(frozen=True)
class ZoneKey:
    zone: str
    base: Path  # K<zone>.+013+<key tag>, the name ldns-signzone takes, without extension
    ds: str  # the DS record data: key tag, algorithm, digest type, digest


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SigningError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def make_key(zone: str, folder: Path) -> ZoneKey:
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / _run([LDNS_KEYGEN, "-a", ALGORITHM, "-k", f"{zone}."], folder).strip()
    # "test.<TAB>IN<TAB>DS<TAB>1441 13 2 7cf7...": the data is everything after "DS".
    fields = base.with_name(base.name + ".ds").read_text().split()
    ds = " ".join(fields[fields.index("DS") + 1 :])
    return ZoneKey(zone=zone, base=base, ds=ds)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")  # ldns-signzone reads YYYYMMDDhhmmss, UTC


def sign(
    zone: str,
    unsigned: Path,
    key: ZoneKey,
    signed: Path,
    *,
    inception: datetime,
    expiration: datetime,
) -> None:
    """Sign ``unsigned`` into ``signed`` (the key's DNSKEY is added, NSEC records made)."""
    _run(
        [
            LDNS_SIGNZONE,
            "-f",
            str(signed),
            "-o",
            f"{zone}.",
            "-i",
            _stamp(inception),
            "-e",
            _stamp(expiration),
            str(unsigned),
            str(key.base),
        ],
        unsigned.parent,
    )


def break_signature(signed_zone: str, owner: str, covered_type: str) -> str:
    """The signed zone text with the RRSIG over ``owner``/``covered_type`` corrupted.

    One bit of the signature flips: the record still parses and nsd serves it, but no
    validator accepts it. Raises if there is no such RRSIG.
    """
    lines = signed_zone.splitlines()
    for index, line in enumerate(lines):
        fields = line.split()
        # owner TTL IN RRSIG covered algorithm labels original-TTL expiration inception
        # key-tag signer signature...
        if len(fields) > 12 and fields[0] == f"{owner}." and fields[3:5] == ["RRSIG", covered_type]:
            signature = bytearray(base64.b64decode("".join(fields[12:])))
            signature[0] ^= 0x01
            fields[12:] = [base64.b64encode(bytes(signature)).decode("ascii")]
            lines[index] = "\t".join(fields)
            return "\n".join(lines) + "\n"
    raise SigningError(f"no RRSIG over {owner} {covered_type} in the signed zone")

"""The generated domains `scan_throughput` scans, their zone, and how their addresses are reached.

Pure: names, MX hosts, addresses and the nftables rules that bring many addresses to a few real
listeners are computed here; serving them (nsd, nftables, Postfix) is `scan_throughput`'s job.

Two lists, both in the integration tests' zone ``scan.test``:

* **shared**: domains over a handful of MX hosts, as in real lists where most domains use one
  of a few providers. A fixed pattern of 100 domains (shuffled once, seed 1) repeats, so every
  prefix of the list (2 500, 10 000, 40 000 domains) has the same mix: multi-MX domains, several
  MX names for one address, a few names that do not exist (NXDOMAIN).
* **distinct**: every domain has an MX host of its own with an address of its own in
  127.(1+k).0.0/16, where k picks one of the fleet's listeners; nftables rewrites connections to
  port 25 of each /16 to that listener (DNAT in the output hook, in the benchmark's private
  network namespace). Every address is probed, which is the expensive case.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from tests.integration.fleet import Posture
from tests.integration.scan.zone import ZONE, ScanDomain

PATTERN_SEED = 1
SMTP_PORT = 25


@dataclass(frozen=True)
class MxHost:
    name: str
    posture: Posture  # the fleet listener its address is


# A handful of providers. Two names of the big provider share one address, as MX names of large
# providers do; the scan probes that address once for both.
BIG_1 = MxHost(f"mx1.bigmail.{ZONE}", Posture.MODERN)
BIG_2 = MxHost(f"mx2.bigmail.{ZONE}", Posture.MODERN)
HOSTER = MxHost(f"mx.hoster.{ZONE}", Posture.TLS12_ONLY)
OLDCORP = MxHost(f"mx.oldcorp.{ZONE}", Posture.LEGACY)
PLAIN = MxHost(f"mx.plain.{ZONE}", Posture.NO_STARTTLS)
EVERYTHING = MxHost(f"mx.everything.{ZONE}", Posture.ALL_VERSIONS)
EXPIRED = MxHost(f"mx.expired.{ZONE}", Posture.EXPIRED)
SELF_SIGNED = MxHost(f"mx.selfsigned.{ZONE}", Posture.SELF_SIGNED)
SHARED_HOSTS = (BIG_1, BIG_2, HOSTER, OLDCORP, PLAIN, EVERYTHING, EXPIRED, SELF_SIGNED)

# How 100 consecutive domains of the shared list are spread (count, MX hosts in preference
# order). No MX host: listed, but absent from the zone (NXDOMAIN).
SHARED_MIX: tuple[tuple[int, tuple[MxHost, ...]], ...] = (
    (30, (BIG_1, BIG_2)),
    (10, (BIG_1,)),
    (20, (HOSTER,)),
    (10, (OLDCORP,)),
    (5, (PLAIN,)),
    (10, (EVERYTHING,)),
    (5, (EXPIRED,)),
    (5, (SELF_SIGNED,)),
    (4, (HOSTER, OLDCORP)),  # a backup MX at another provider
    (1, ()),
)
PATTERN_LENGTH = sum(count for count, _ in SHARED_MIX)

# The listeners distinct addresses lead to, one /16 each: 127.(1+k).0.0/16 -> DISTINCT_POSTURES[k].
DISTINCT_POSTURES: tuple[Posture, ...] = (
    Posture.MODERN,
    Posture.TLS12_ONLY,
    Posture.LEGACY,
    Posture.NO_STARTTLS,
    Posture.ALL_VERSIONS,
)
_ADDRESSES_PER_BLOCK = 250 * 250  # third and fourth octets 0..249 and 1..250


def _shared_pattern() -> list[tuple[str, ...]]:
    expanded = [
        tuple(host.name for host in hosts) for count, hosts in SHARED_MIX for _ in range(count)
    ]
    random.Random(PATTERN_SEED).shuffle(expanded)
    return expanded


def shared_domains(count: int) -> list[ScanDomain]:
    """The first ``count`` domains of the shared list (any prefix has the same mix)."""
    pattern = _shared_pattern()
    return [
        ScanDomain(f"s{number:06d}.{ZONE}", pattern[number % PATTERN_LENGTH])
        for number in range(count)
    ]


def shared_host_addresses(listener_ips: Mapping[Posture, str]) -> dict[str, str]:
    """MX host name -> IP, for the zone."""
    return {host.name: listener_ips[host.posture] for host in SHARED_HOSTS}


def shared_posture_of(host_name: str) -> Posture:
    return next(host.posture for host in SHARED_HOSTS if host.name == host_name)


@dataclass(frozen=True)
class DistinctDomain:
    domain: ScanDomain
    mx_host: str
    ip: str
    posture: Posture


def distinct_ip(number: int) -> str:
    block = number % len(DISTINCT_POSTURES)
    index = number // len(DISTINCT_POSTURES)
    if index >= _ADDRESSES_PER_BLOCK:
        raise ValueError(f"at most {_ADDRESSES_PER_BLOCK * len(DISTINCT_POSTURES)} domains")
    return f"127.{1 + block}.{index // 250}.{index % 250 + 1}"


def distinct_domains(count: int) -> list[DistinctDomain]:
    """Domains that each have an MX host and an address of their own."""
    domains = []
    for number in range(count):
        host = f"mx.u{number:06d}.{ZONE}"
        domains.append(
            DistinctDomain(
                domain=ScanDomain(f"u{number:06d}.{ZONE}", (host,)),
                mx_host=host,
                ip=distinct_ip(number),
                posture=DISTINCT_POSTURES[number % len(DISTINCT_POSTURES)],
            )
        )
    return domains


NFT_TABLE = "mailtls_bench_scan"


def nat_ruleset(listener_ips: Mapping[Posture, str]) -> str:
    """nftables rules: port 25 of each 127.(1+k).0.0/16 leads to listener k (``nft -f -``).

    The output hook sees connections this host makes, which is all of them: the scan runs on
    the same (private) loopback as the listeners.
    """
    rules = [
        f"    ip daddr 127.{1 + block}.0.0/16 tcp dport {SMTP_PORT} "
        f"dnat to {listener_ips[posture]}:{SMTP_PORT}"
        for block, posture in enumerate(DISTINCT_POSTURES)
    ]
    return (
        f"table ip {NFT_TABLE} {{\n"
        "  chain output {\n"
        "    type nat hook output priority -100; policy accept;\n" + "\n".join(rules) + "\n  }\n}\n"
    )


def list_text(names: Sequence[str]) -> str:
    return "# generated by bench/scan_throughput.py\n" + "".join(f"{name}\n" for name in names)


def testssl_lines(addresses: Sequence[str]) -> str:
    """A ``testssl.sh --file`` list: one command line per address, protocols only (``-p``)."""
    return "".join(f"--starttls smtp -p --nodns none {ip}:{SMTP_PORT}\n" for ip in addresses)


def zone_hosts(
    shared_count: int, distinct: Sequence[DistinctDomain], listener_ips: Mapping[Posture, str]
) -> tuple[list[ScanDomain], dict[str, str]]:
    """Every domain the zone serves (NXDOMAIN ones left out) and every MX host's address."""
    hosts = shared_host_addresses(listener_ips)
    hosts.update((item.mx_host, item.ip) for item in distinct)
    served = [domain for domain in shared_domains(shared_count) if domain.mx_hosts]
    served.extend(item.domain for item in distinct)
    return served, hosts


def mix_counts(domains: Sequence[ScanDomain]) -> dict[str, int]:
    """How a list is made up: domains, multi-MX, NXDOMAIN, distinct MX addresses reached."""
    return {
        "domains": len(domains),
        "multi_mx": sum(1 for d in domains if len(d.mx_hosts) > 1),
        "nxdomain": sum(1 for d in domains if not d.mx_hosts),
        "mx_host_names": len({h for d in domains for h in d.mx_hosts}),
    }


def iter_names(domains: Sequence[ScanDomain]) -> Iterator[str]:
    return (domain.name for domain in domains)

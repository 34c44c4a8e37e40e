"""The probe plan: which connection to open next, and what the finished ones prove.

Pure functions over the results so far. The plan is small and fixed — one connection with client
defaults, one per TLS version, one with Exchange Online's suites — and skips every probe whose
answer is already known, so a modern server costs four connections and none costs more than six.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy
from mailtls.models import (
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    TlsVersion,
    VersionSupport,
)
from mailtls.tls.contexts import PROBE_FOR_VERSION, probed_version

# Newest first: the versions that matter most are learnt before a server starts refusing us.
VERSION_ORDER = (TlsVersion.TLS1_3, TlsVersion.TLS1_2, TlsVersion.TLS1_1, TlsVersion.TLS1_0)

MAX_CONNECTIONS = 1 + len(VERSION_ORDER) + 1

# Outcomes that answer the question a probe asked. Anything else (busy, timeout, closed, garbage)
# means the address stopped cooperating: the plan ends there, politely, instead of retrying.
_ANSWERED = frozenset({ProbeOutcome.NEGOTIATED, ProbeOutcome.HANDSHAKE_FAILED})


@dataclass(frozen=True)
class TlsKnowledge:
    versions: dict[TlsVersion, VersionSupport]
    exo_ciphers: VersionSupport


def infer(results: Sequence[ProbeResult], exchange_online: ExchangeOnlinePolicy) -> TlsKnowledge:
    """What the finished probes prove about versions and Exchange Online's suites."""
    versions = dict.fromkeys(VERSION_ORDER, VersionSupport.NOT_TESTED)
    exo = VersionSupport.NOT_TESTED
    for result in results:
        handshake = result.handshake
        if result.outcome is ProbeOutcome.NEGOTIATED and handshake is not None:
            versions[handshake.version] = VersionSupport.SUPPORTED
            if handshake.version is TlsVersion.TLS1_2 and exchange_online.accepts_cipher(
                handshake.cipher
            ):
                # The server chose one of Exchange Online's suites from a wider offer, so from
                # Exchange Online's narrower offer (which contains it) it can choose one too.
                exo = VersionSupport.SUPPORTED
            if result.kind is ProbeKind.DEFAULT and handshake.version is TlsVersion.TLS1_2:
                # The default offer includes TLS 1.3; a server that has it must pick it (RFC 8446
                # 4.1.1), so settling for 1.2 proves it has no 1.3.
                versions[TlsVersion.TLS1_3] = VersionSupport.UNSUPPORTED
        elif result.outcome is ProbeOutcome.HANDSHAKE_FAILED:
            version = probed_version(result.kind)
            if version is not None:
                versions[version] = VersionSupport.UNSUPPORTED
            elif result.kind is ProbeKind.EXO_CIPHERS:
                exo = VersionSupport.UNSUPPORTED
    if (
        exo is VersionSupport.NOT_TESTED
        and versions[TlsVersion.TLS1_2] is VersionSupport.UNSUPPORTED
    ):
        exo = VersionSupport.UNSUPPORTED  # Exchange Online's suites are TLS 1.2 suites
    return TlsKnowledge(versions=versions, exo_ciphers=exo)


def _plan_stopped(results: Sequence[ProbeResult]) -> bool:
    if not results:
        return False
    first = results[0]
    if first.outcome not in _ANSWERED:
        return True  # no STARTTLS, refused, busy, unreachable: nothing more to learn over TLS
    return any(result.outcome not in _ANSWERED for result in results[1:])


def remaining_probes(
    results: Sequence[ProbeResult], exchange_online: ExchangeOnlinePolicy
) -> tuple[ProbeKind, ...]:
    """The probes still worth a connection, in the order to run them; empty when done."""
    if not results:
        return (ProbeKind.DEFAULT,)
    if _plan_stopped(results):
        return ()
    knowledge = infer(results, exchange_online)
    done = {result.kind for result in results}
    plan = [
        PROBE_FOR_VERSION[version]
        for version in VERSION_ORDER
        if knowledge.versions[version] is VersionSupport.NOT_TESTED
        and PROBE_FOR_VERSION[version] not in done
    ]
    if knowledge.exo_ciphers is VersionSupport.NOT_TESTED and ProbeKind.EXO_CIPHERS not in done:
        plan.append(ProbeKind.EXO_CIPHERS)
    return tuple(plan)

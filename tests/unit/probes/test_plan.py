from __future__ import annotations

import pytest

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import (
    ProbeKind,
    ProbeOutcome,
    ProbeResult,
    TlsHandshake,
    TlsVersion,
    VersionSupport,
)
from mailtls.probes.plan import MAX_CONNECTIONS, infer, remaining_probes

EXO = load_exchange_online_policy()
K = ProbeKind
S, U, N = VersionSupport.SUPPORTED, VersionSupport.UNSUPPORTED, VersionSupport.NOT_TESTED


def ok(
    kind: ProbeKind, version: TlsVersion, cipher: str = "ECDHE-RSA-AES256-GCM-SHA384"
) -> ProbeResult:
    return ProbeResult(kind, ProbeOutcome.NEGOTIATED, TlsHandshake(version, cipher, 256, None))


def refused(kind: ProbeKind) -> ProbeResult:
    return ProbeResult(kind, ProbeOutcome.HANDSHAKE_FAILED, reason="alert protocol version")


def other(kind: ProbeKind, outcome: ProbeOutcome) -> ProbeResult:
    return ProbeResult(kind, outcome)


def run_plan(answers: dict[ProbeKind, ProbeResult]) -> list[ProbeResult]:
    """Play the plan against a server described by its answer to each probe."""
    results: list[ProbeResult] = []
    while plan := remaining_probes(results, EXO):
        results.append(answers[plan[0]])
        assert len(results) <= MAX_CONNECTIONS
    return results


MODERN = {
    K.DEFAULT: ok(K.DEFAULT, TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"),
    K.TLS1_3: ok(K.TLS1_3, TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"),
    K.TLS1_2: ok(K.TLS1_2, TlsVersion.TLS1_2),
    K.TLS1_1: refused(K.TLS1_1),
    K.TLS1_0: refused(K.TLS1_0),
    K.EXO_CIPHERS: ok(K.EXO_CIPHERS, TlsVersion.TLS1_2),
}
TLS12_ONLY = {
    K.DEFAULT: ok(K.DEFAULT, TlsVersion.TLS1_2),
    K.TLS1_3: refused(K.TLS1_3),
    K.TLS1_2: ok(K.TLS1_2, TlsVersion.TLS1_2),
    K.TLS1_1: refused(K.TLS1_1),
    K.TLS1_0: refused(K.TLS1_0),
    K.EXO_CIPHERS: ok(K.EXO_CIPHERS, TlsVersion.TLS1_2),
}
LEGACY = {
    K.DEFAULT: refused(K.DEFAULT),
    K.TLS1_3: refused(K.TLS1_3),
    K.TLS1_2: refused(K.TLS1_2),
    K.TLS1_1: ok(K.TLS1_1, TlsVersion.TLS1_1, "ECDHE-RSA-AES256-SHA"),
    K.TLS1_0: ok(K.TLS1_0, TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA"),
    K.EXO_CIPHERS: refused(K.EXO_CIPHERS),
}
CHACHA_ONLY = {
    K.DEFAULT: ok(K.DEFAULT, TlsVersion.TLS1_2, "ECDHE-RSA-CHACHA20-POLY1305"),
    K.TLS1_3: refused(K.TLS1_3),
    K.TLS1_2: ok(K.TLS1_2, TlsVersion.TLS1_2, "ECDHE-RSA-CHACHA20-POLY1305"),
    K.TLS1_1: refused(K.TLS1_1),
    K.TLS1_0: refused(K.TLS1_0),
    K.EXO_CIPHERS: refused(K.EXO_CIPHERS),
}


@pytest.mark.parametrize(
    ("server", "kinds", "versions", "exo"),
    [
        # 1.3 by default; 1.2 learnt with an Exchange Online suite, so no separate suite probe
        (MODERN, [K.DEFAULT, K.TLS1_2, K.TLS1_1, K.TLS1_0], [U, U, S, S], S),
        # settling for 1.2 under the default offer proves there is no 1.3: no 1.3 probe
        (TLS12_ONLY, [K.DEFAULT, K.TLS1_1, K.TLS1_0], [U, U, S, U], S),
        # the default handshake fails: every version is asked; no 1.2 means no Exchange Online
        (LEGACY, [K.DEFAULT, K.TLS1_3, K.TLS1_2, K.TLS1_1, K.TLS1_0], [S, S, U, U], U),
        (CHACHA_ONLY, [K.DEFAULT, K.TLS1_1, K.TLS1_0, K.EXO_CIPHERS], [U, U, S, U], U),
    ],
)
def test_plan_skips_what_is_known_and_infers_the_rest(
    server: dict[ProbeKind, ProbeResult],
    kinds: list[ProbeKind],
    versions: list[VersionSupport],
    exo: VersionSupport,
) -> None:
    results = run_plan(server)
    assert [r.kind for r in results] == kinds
    knowledge = infer(results, EXO)
    order = [TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3]
    assert [knowledge.versions[v] for v in order] == versions
    assert knowledge.exo_ciphers is exo


@pytest.mark.parametrize(
    "outcome",
    [
        ProbeOutcome.NO_STARTTLS,
        ProbeOutcome.SMTP_FAILURE,
        ProbeOutcome.CONNECT_FAILED,
        ProbeOutcome.TIMEOUT,
        ProbeOutcome.PROTOCOL_ERROR,
        ProbeOutcome.CLOSED,
        ProbeOutcome.STARTTLS_REFUSED,
    ],
)
def test_plan_ends_after_one_connection_when_the_first_says_nothing_about_tls(
    outcome: ProbeOutcome,
) -> None:
    results = [other(K.DEFAULT, outcome)]
    assert remaining_probes(results, EXO) == ()
    assert all(v is N for v in infer(results, EXO).versions.values())


def test_plan_stops_politely_when_a_later_probe_is_rate_limited() -> None:
    results = [ok(K.DEFAULT, TlsVersion.TLS1_3), other(K.TLS1_2, ProbeOutcome.SMTP_FAILURE)]
    assert remaining_probes(results, EXO) == ()
    knowledge = infer(results, EXO)
    assert knowledge.versions[TlsVersion.TLS1_2] is N  # busy is not "unsupported"
    assert knowledge.exo_ciphers is N


def test_first_plan_is_the_default_probe() -> None:
    assert remaining_probes([], EXO) == (K.DEFAULT,)


def test_an_exchange_online_suite_on_a_version_probe_proves_support() -> None:
    results = [refused(K.DEFAULT), ok(K.TLS1_2, TlsVersion.TLS1_2, "AES128-GCM-SHA256")]
    assert infer(results, EXO).exo_ciphers is S


def test_a_failed_suite_probe_does_not_mean_no_tls12() -> None:
    results = [ok(K.DEFAULT, TlsVersion.TLS1_3), refused(K.EXO_CIPHERS)]
    knowledge = infer(results, EXO)
    assert knowledge.versions[TlsVersion.TLS1_2] is N
    assert knowledge.exo_ciphers is U

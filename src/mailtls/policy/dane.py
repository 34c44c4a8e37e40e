"""DANE verdicts for an MX host and for a domain (RFC 7672), from DNS answers and presented chains.

When a sender uses an MX host's TLSA records:

* The TLSA answer must be DNSSEC-secure; insecure records are ignored (RFC 7672 2.2.3).
* The host's address records must be secure: a sender skips the TLSA lookup otherwise
  (RFC 7672 2.2.2; Postfix does not look them up).
* The domain's MX records should be secure (RFC 7672 2.2.1). Exchange Online asks for TLSA records
  only after the MX and address records validated; Postfix, by default since 3.6.17, 3.7.13,
  3.8.8, 3.9.2 and 3.10.0 (``smtp_tls_dane_insecure_mx_policy = dane``), still authenticates an MX
  host with secure TLSA records that an insecure MX lookup named. So an insecure MX makes DANE
  ``not_secure`` (DANE_MX_NOT_SECURE), but a mismatch then still stops Postfix: ``mismatch``.
* A bogus answer, or a TLSA lookup that fails, makes the host unreachable for DANE senders
  (RFC 7672 2.1.2): DNSSEC_BOGUS for a bogus TLSA answer here; bogus MX and address answers are
  ``mailtls.policy.dnssec``'s to report, once per domain.

``None`` for a DNSSEC status means "not judged". For ``mx_dnssec`` it means no MX answer led to
this host (a host given directly, or the implicit MX of a domain without MX records: RFC 7672
2.2.2 then applies, where only the address and TLSA answers count), so the MX condition does not
apply. For the address and TLSA answers it means the precondition cannot be confirmed, like an
answer from a resolver that does not validate (``unvalidated``) or no answer (``indeterminate``):
the host's state is ``not_tested`` and no DANE finding rests on it.

An address's :class:`DaneAddressResult` says whether the chain it presented matches the usable
records (``valid``, ``mismatch``, ``unusable`` when there are none, ``not_tested`` without a
chain), whatever the DNSSEC verdict; whether senders use the records at all is the host's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailtls.dane.tlsa import (
    DANE_EE,
    association_data,
    match_tlsa,
    parse_tlsa,
    record_text,
    superseded_records,
    unusable_reason,
)
from mailtls.models import (
    DaneAddressResult,
    DaneReport,
    DaneState,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    Endpoint,
    Finding,
    FindingCode,
    MxHostReport,
    TlsaRecord,
)
from mailtls.policy.codes import finding

_LOOKUP_FAILURE_CODE = {
    DnsStatus.SERVFAIL: FindingCode.DNS_SERVFAIL,
    DnsStatus.TIMEOUT: FindingCode.DNS_TIMEOUT,
    DnsStatus.ERROR: FindingCode.DNS_ERROR,
}
_UNJUDGED = frozenset({DnssecStatus.UNVALIDATED, DnssecStatus.INDETERMINATE})
_NO_CHAIN = (
    "no certificate chain to compare: the address offered no STARTTLS, completed no TLS "
    "handshake, or could not be tested"
)
# The leaf's own association data is shown in these forms when no DANE-EE record says which.
_DEFAULT_LEAF_FORMS = ((1, 1),)


def judge_dane_host(
    host: str,
    tlsa: DnsOutcome,
    *,
    mx_dnssec: DnssecStatus | None,
    host_dnssec: DnssecStatus | None,
    chains: Mapping[Endpoint, tuple[bytes, ...]],
    next_hop: str | None = None,
    now: datetime | None = None,
) -> tuple[DaneReport, list[Finding]]:
    """DANE for one MX host: the TLSA answer at ``_25._tcp.<host>`` against every address's chain.

    ``chains`` holds every tested address with the chain it presented (leaf first; an empty tuple
    when there was none). ``next_hop`` is the mail domain whose MX named the host: a DANE-TA
    certificate may carry that name instead of the host's when the MX answer was secure (RFC 7672
    3.2.2). ``now`` is when DANE-TA paths must be valid (default: the current time).
    """
    records, malformed = _parse_records(tlsa.records)

    def report(state: DaneState, addresses: tuple[DaneAddressResult, ...] = ()) -> DaneReport:
        return DaneReport(
            tlsa=tlsa, host_dnssec=host_dnssec, records=records, addresses=addresses, state=state
        )

    if tlsa.dnssec is DnssecStatus.BOGUS:
        return report(DaneState.BOGUS), [
            finding(
                FindingCode.DNSSEC_BOGUS,
                f"TLSA {tlsa.name}: DNSSEC validation fails, so validating resolvers answer "
                f"SERVFAIL; DANE senders cannot tell whether {host} has TLSA records and do not "
                "deliver to it (RFC 7672 2.1.2; Exchange Online: 4.7.324 dnssec-invalid)",
            )
        ]
    if tlsa.status in (DnsStatus.NXDOMAIN, DnsStatus.NO_DATA) or (
        tlsa.status is DnsStatus.OK and not tlsa.records
    ):
        return report(DaneState.NOT_CONFIGURED), []
    if tlsa.status is not DnsStatus.OK:
        return report(DaneState.NOT_TESTED), _lookup_failure(host, tlsa, host_dnssec)

    reference_names = [host]
    if next_hop and mx_dnssec is DnssecStatus.SECURE:
        reference_names.append(next_hop)  # only a secure MX lookup vouches for the pair
    comparison = _compare(records, chains, reference_names, now)
    findings: list[Finding] = []
    if tlsa.dnssec is DnssecStatus.SECURE and (malformed or comparison.unusable):
        findings.append(_unusable_finding(host, tlsa.name, records, malformed, comparison))

    statuses = {"MX": mx_dnssec, "address": host_dnssec}
    if DnssecStatus.BOGUS in statuses.values():
        # The MX or address answer is bogus: mail is deferred before TLSA matters, and
        # mailtls.policy.dnssec reports it for the domain.
        return report(DaneState.BOGUS, comparison.results), findings
    if (
        tlsa.dnssec is None
        or tlsa.dnssec in _UNJUDGED
        or host_dnssec is None
        or any(status in _UNJUDGED for status in statuses.values())
    ):
        return report(DaneState.NOT_TESTED, comparison.results), findings
    if tlsa.dnssec is DnssecStatus.INSECURE:
        findings.append(_not_secure_finding(host, tlsa, comparison))
        return report(DaneState.NOT_SECURE, comparison.results), findings
    if host_dnssec is DnssecStatus.INSECURE:
        findings.append(
            finding(
                FindingCode.DANE_MX_NOT_SECURE,
                f"{tlsa.name} has DNSSEC-secure TLSA records, but the address records of "
                f"{host} are not secure: senders skip the TLSA lookup for such a host "
                "(RFC 7672 2.2.2), so DANE does not apply",
            )
        )
        return report(DaneState.NOT_SECURE, comparison.results), findings

    mx_insecure = mx_dnssec is DnssecStatus.INSECURE
    if mx_insecure:
        findings.append(
            finding(
                FindingCode.DANE_MX_NOT_SECURE,
                f"{tlsa.name} has DNSSEC-secure TLSA records, but the domain's MX records are "
                f"not secure: Exchange Online and senders that follow RFC 7672 2.2.1 do not use "
                f"DANE for {host}; Postfix (smtp_tls_dane_insecure_mx_policy = dane, its "
                "default since 3.6.17) still does",
            )
        )
    state = comparison.host_state()
    if state is DaneState.MISMATCH:
        findings.append(_mismatch_finding(host, tlsa.name, records, comparison, mx_insecure))
    elif mx_insecure:
        state = DaneState.NOT_SECURE
    elif state is DaneState.VALID:
        findings.append(_valid_finding(host, records, comparison))
    return report(state, comparison.results), findings


def judge_dane_domain(hosts: Sequence[MxHostReport]) -> tuple[DaneState | None, list[Finding]]:
    """The domain's DANE from its MX hosts'; ``None`` when no host was looked at for DANE.

    The worst state that matters wins: a bogus answer, then a mismatch; otherwise ``valid`` as
    soon as one host validates. DANE_PARTIAL says when some hosts have DNSSEC-secure TLSA records
    in use and others none: a sender then authenticates only some deliveries, and an attacker
    who blocks the DANE hosts steers mail to the others (RFC 7672 2.2.1: domains "need to ensure
    that all their SMTP servers and MX records are configured accordingly").
    """
    judged = [(mx.host, mx.dane) for mx in hosts if mx.dane is not None]
    if not judged:
        return None, []
    states = {dane.state for _, dane in judged}
    in_use = [host for host, dane in judged if dane.state in _DANE_IN_USE]
    without = [host for host, dane in judged if dane.state in _NO_DANE]
    findings: list[Finding] = []
    if in_use and without:
        findings.append(
            finding(
                FindingCode.DANE_PARTIAL,
                f"{', '.join(in_use)} {'has' if len(in_use) == 1 else 'have'} DNSSEC-secure TLSA "
                f"records, {', '.join(without)} {'has' if len(without) == 1 else 'have'} none "
                "that senders use: mail that goes there is not authenticated",
            )
        )
    for state in _DOMAIN_PRECEDENCE:
        if state in states:
            return state, findings
    return DaneState.NOT_CONFIGURED, findings


_DANE_IN_USE = frozenset({DaneState.VALID, DaneState.MISMATCH, DaneState.UNUSABLE})
_NO_DANE = frozenset({DaneState.NOT_CONFIGURED, DaneState.NOT_SECURE})
_DOMAIN_PRECEDENCE = (
    DaneState.BOGUS,
    DaneState.MISMATCH,
    DaneState.VALID,
    DaneState.UNUSABLE,
    DaneState.NOT_SECURE,
    DaneState.NOT_TESTED,
    DaneState.NOT_CONFIGURED,
)


# --- comparing records and chains ----------------------------------------------------------------


@dataclass(frozen=True)
class _AddressComparison:
    endpoint: Endpoint
    chain: tuple[bytes, ...]
    matched: tuple[int, ...]  # usable, not superseded records that match
    superseded_matches: tuple[int, ...]  # records that match but digest-agile senders ignore
    reasons: tuple[tuple[int, str], ...]  # why a usable DANE-TA record did not match


@dataclass(frozen=True)
class _Comparison:
    records: tuple[TlsaRecord, ...]
    usable: tuple[int, ...]
    unusable: tuple[tuple[int, str], ...]
    results: tuple[DaneAddressResult, ...]

    def host_state(self) -> DaneState:
        """The host's state when senders use the records."""
        if not self.usable:
            return DaneState.UNUSABLE
        states = {result.state for result in self.results}
        if DaneState.MISMATCH in states:
            return DaneState.MISMATCH
        if DaneState.VALID in states:
            return DaneState.VALID
        return DaneState.NOT_TESTED


def _compare(
    records: tuple[TlsaRecord, ...],
    chains: Mapping[Endpoint, tuple[bytes, ...]],
    reference_names: Sequence[str],
    now: datetime | None,
) -> _Comparison:
    reasons = {position: unusable_reason(record) for position, record in enumerate(records)}
    usable = tuple(position for position, reason in reasons.items() if reason is None)
    unusable = tuple((p, reason) for p, reason in reasons.items() if reason is not None)
    superseded = superseded_records(records)
    results = []
    for endpoint, chain in chains.items():
        matched: list[int] = []
        superseded_matches: list[int] = []
        failures: list[tuple[int, str]] = []
        for position in usable if chain else ():
            found = match_tlsa(records[position], chain, reference_names=reference_names, now=now)
            if found.matched:
                (superseded_matches if position in superseded else matched).append(position)
            elif records[position].usage != DANE_EE and found.reason:
                failures.append((position, found.reason))
        address = _AddressComparison(
            endpoint, chain, tuple(matched), tuple(superseded_matches), tuple(failures)
        )
        results.append(_address_result(records, usable, address))
    return _Comparison(records, usable, unusable, tuple(results))


def _address_result(
    records: tuple[TlsaRecord, ...], usable: tuple[int, ...], address: _AddressComparison
) -> DaneAddressResult:
    if not address.chain:
        return DaneAddressResult(address.endpoint, DaneState.NOT_TESTED, (), _NO_CHAIN)
    if not usable:
        return DaneAddressResult(
            address.endpoint,
            DaneState.UNUSABLE,
            (),
            "no TLSA record is usable for SMTP: senders require TLS but authenticate nothing",
        )
    if address.matched:
        shown = ", ".join(record_text(records[p]) for p in address.matched)
        return DaneAddressResult(
            address.endpoint, DaneState.VALID, address.matched, f"matched by {shown}"
        )
    parts = [f"presented leaf: {_leaf_values(records, usable, address.chain)}"]
    parts.extend(f"{record_text(records[p])}: {reason}" for p, reason in address.reasons)
    parts.extend(
        f"{record_text(records[p])} matches, but a SHA2-512 record of the same usage and "
        "selector is published, and senders that support SHA-512 use only that one "
        "(RFC 7671 9)"
        for p in address.superseded_matches
    )
    return DaneAddressResult(address.endpoint, DaneState.MISMATCH, (), "; ".join(parts))


def _leaf_values(
    records: tuple[TlsaRecord, ...], usable: tuple[int, ...], chain: tuple[bytes, ...]
) -> str:
    """What DANE-EE records of the kinds published would hold for this leaf, to compare by eye."""
    forms = sorted(
        {
            (records[p].selector, records[p].matching_type)
            for p in usable
            if records[p].usage == DANE_EE
        }
    ) or list(_DEFAULT_LEAF_FORMS)
    values = []
    for selector, matching_type in forms:
        value = association_data(chain[0], selector, matching_type)
        if value is None:
            values.append(f"3 {selector} {matching_type} (the public key cannot be read)")
        else:
            values.append(record_text(TlsaRecord(DANE_EE, selector, matching_type, value.hex())))
    return ", ".join(values)


def _parse_records(texts: Sequence[str]) -> tuple[tuple[TlsaRecord, ...], list[tuple[str, str]]]:
    records: list[TlsaRecord] = []
    malformed: list[tuple[str, str]] = []
    for text in texts:
        try:
            records.append(parse_tlsa(text))
        except ValueError as error:
            malformed.append((text, str(error)))
    return tuple(records), malformed


# --- findings ----------------------------------------------------------------------------------


def _lookup_failure(host: str, tlsa: DnsOutcome, host_dnssec: DnssecStatus | None) -> list[Finding]:
    if host_dnssec is DnssecStatus.INSECURE:
        return []  # senders do not ask for TLSA records of a host in an unsigned zone
    code = _LOOKUP_FAILURE_CODE.get(tlsa.status, FindingCode.DNS_ERROR)
    detail = f" ({tlsa.detail})" if tlsa.detail else ""
    return [
        finding(
            code,
            f"TLSA {tlsa.name}: {tlsa.status}{detail}; while this lookup fails, DANE senders "
            f"treat {host} as unreachable (RFC 7672 2.1.2)",
        )
    ]


def _unusable_finding(
    host: str,
    name: str,
    records: tuple[TlsaRecord, ...],
    malformed: list[tuple[str, str]],
    comparison: _Comparison,
) -> Finding:
    listed = [f"{record_text(records[p])}: {reason}" for p, reason in comparison.unusable]
    listed.extend(f"{text[:80]!r}: {error}" for text, error in malformed)
    if comparison.usable:
        effect = "senders ignore them; the usable records decide"
    else:
        effect = (
            f"no record is usable, so DANE senders insist on TLS with {host} but authenticate "
            "nothing (RFC 7672 2.2; Postfix: encrypt; Exchange Online: TLS required)"
        )
    return finding(
        FindingCode.DANE_UNUSABLE_RECORDS,
        f"{name} holds TLSA records SMTP cannot use ({'; '.join(listed)}): {effect}",
    )


def _not_secure_finding(host: str, tlsa: DnsOutcome, comparison: _Comparison) -> Finding:
    matching = sum(1 for result in comparison.results if result.state is DaneState.VALID)
    tested = sum(1 for result in comparison.results if result.state is not DaneState.NOT_TESTED)
    outcome = f"; they match {matching} of {tested} tested address(es)" if tested else ""
    return finding(
        FindingCode.DANE_NOT_SECURE,
        f"{tlsa.name} has TLSA records, but the answer is not DNSSEC-secure (the zone is not "
        f"signed, or no DS record links it to its parent): senders ignore them and use "
        f"opportunistic TLS with {host}{outcome}",
    )


def _mismatch_finding(
    host: str,
    name: str,
    records: tuple[TlsaRecord, ...],
    comparison: _Comparison,
    mx_insecure: bool,
) -> Finding:
    failing = [r for r in comparison.results if r.state is DaneState.MISMATCH]
    addresses = ", ".join(str(result.endpoint) for result in failing)
    published = ", ".join(record_text(records[p]) for p in comparison.usable)
    details = "; ".join(f"{result.endpoint}: {result.detail}" for result in failing)
    who = (
        "Postfix, which uses secure TLSA records even when the MX lookup was insecure, does not "
        "deliver to it"
        if mx_insecure
        else "DANE senders, Exchange Online among them (4.7.323 tlsa-invalid), do not deliver to it"
    )
    return finding(
        FindingCode.DANE_MISMATCH,
        f"no usable TLSA record at {name} matches the certificate {host} presents on "
        f"{addresses}: {who}. Published: {published}. {details}",
    )


def _valid_finding(host: str, records: tuple[TlsaRecord, ...], comparison: _Comparison) -> Finding:
    valid = [r for r in comparison.results if r.state is DaneState.VALID]
    matched = sorted({p for result in valid for p in result.matched})
    shown = ", ".join(record_text(records[p]) for p in matched)
    untested = [r for r in comparison.results if r.state is DaneState.NOT_TESTED]
    note = (
        f" ({', '.join(str(r.endpoint) for r in untested)} not tested: no certificate chain)"
        if untested
        else ""
    )
    return finding(
        FindingCode.DANE_VALID,
        f"{host}: {shown} {'matches' if len(matched) == 1 else 'match'} the certificate on "
        f"{len(valid)} address(es){note}",
    )

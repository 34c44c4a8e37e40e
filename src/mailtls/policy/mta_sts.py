"""The MTA-STS verdict for a domain (RFC 8461), from its TXT record, its policy and its MX hosts.

A sender that supports MTA-STS (Exchange Online does, always) reads ``_mta-sts.<domain>``, fetches
the policy over HTTPS, and in enforce mode delivers only to MX hosts that a policy ``mx`` pattern
covers and that present, on STARTTLS, a certificate that is trusted, unexpired and names the
host (RFC 8461 4.1, 4.2). In testing mode it reports such failures (TLS-RPT) and delivers anyway.

An MX host's certificate is judged on the addresses that were tested (status ``ok`` or
``tls_failed``): valid when each presented a certificate that is trusted, names the host and is
within its dates; an address without STARTTLS or without a TLS handshake fails MTA-STS as well.
``None`` when no address of the host was tested.

A TXT lookup that fails (SERVFAIL, timeout, a bogus DNSSEC answer) leaves senders without a
cached policy acting as if there were none: it is reported as an unusable record.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailtls.models import (
    AddressReport,
    AddressStatus,
    DnsOutcome,
    DnssecStatus,
    DnsStatus,
    Finding,
    FindingCode,
    MtaStsFetch,
    MtaStsMode,
    MtaStsMxCheck,
    MtaStsPolicy,
    MtaStsReport,
    MtaStsState,
    MxHostReport,
)
from mailtls.mtasts.policy_file import RECOMMENDED_MIN_MAX_AGE, mx_pattern_matches, parse_policy
from mailtls.mtasts.record import select_sts_record
from mailtls.policy.codes import finding
from mailtls.tls.certificates import issued_certificates, outside_validity

F = FindingCode
_TESTED = frozenset({AddressStatus.OK, AddressStatus.TLS_FAILED})
_NO_POLICY = "senders without a cached policy act as if there were none"


def policy_url(domain: str) -> str:
    """Where senders fetch a domain's policy (RFC 8461 3.3)."""
    return f"https://mta-sts.{domain.strip().rstrip('.').lower()}/.well-known/mta-sts.txt"


def judge_mta_sts(
    domain: str,
    txt: DnsOutcome,
    *,
    fetch: MtaStsFetch,
    fetch_detail: str | None,
    body: str | None,
    mx_hosts: Sequence[MxHostReport],
) -> tuple[MtaStsReport, list[Finding]]:
    """MTA-STS for ``domain``: ``txt`` is the ``_mta-sts.<domain>`` TXT answer, ``fetch``,
    ``fetch_detail`` and ``body`` how fetching the policy went, ``mx_hosts`` the domain's MX
    hosts as probed."""
    url = policy_url(domain)
    record_id, record_problem = _record(txt)
    fetched = fetch is MtaStsFetch.OK and body is not None  # an error page is no policy
    policy, policy_problems = parse_policy(body) if fetched and body is not None else (None, ())

    def report(state: MtaStsState, checks: tuple[MtaStsMxCheck, ...] = ()) -> MtaStsReport:
        return MtaStsReport(
            txt=txt,
            record_id=record_id,
            record_problem=record_problem,
            policy_url=url,
            fetch=fetch,
            fetch_detail=fetch_detail,
            policy=policy,
            policy_problems=policy_problems,
            mx=checks,
            state=state,
        )

    if record_problem is not None:
        return report(MtaStsState.INVALID), [
            finding(
                F.MTA_STS_RECORD_INVALID,
                f"_mta-sts.{domain}: {record_problem}",
            )
        ]
    if record_id is None:
        return report(MtaStsState.NOT_CONFIGURED), []
    if not fetched:
        how = fetch.value.replace("_", " ") if fetch is not MtaStsFetch.OK else "no policy text"
        detail = f": {fetch_detail}" if fetch_detail else ""
        return report(MtaStsState.UNREACHABLE), [
            finding(
                F.MTA_STS_POLICY_UNREACHABLE,
                f"_mta-sts.{domain} announces a policy (id {record_id}), but {url} cannot be "
                f"fetched ({how}{detail}): {_NO_POLICY}; those with one keep it until its "
                "max_age runs out",
            )
        ]
    if policy is None:
        return report(MtaStsState.INVALID), [
            finding(
                F.MTA_STS_POLICY_INVALID,
                f"{url}: {'; '.join(policy_problems)}: {_NO_POLICY}",
            )
        ]

    hosts = [mx for mx in mx_hosts if mx.host]  # not the null MX "."
    problems = {mx.host: _certificate_problems(mx) for mx in hosts}
    checks = tuple(_check_host(policy, mx, problems[mx.host]) for mx in hosts)
    state, findings = _judge_mode(domain, record_id, policy, checks, problems)
    if policy.mode is not MtaStsMode.NONE and policy.max_age < RECOMMENDED_MIN_MAX_AGE:
        findings.append(
            finding(
                F.MTA_STS_MAX_AGE_SMALL,
                f"{url}: max_age {policy.max_age} s is under a day: senders forget the policy "
                "that soon, and an attacker who blocks the next fetch strips it; RFC 8461 3.2 "
                "expects weeks or more (604800 is one week)",
            )
        )
    return report(state, checks), findings


def _record(txt: DnsOutcome) -> tuple[str | None, str | None]:
    """(id, problem) of the TXT answer: the id of a usable record, or why there is none."""
    if txt.status in (DnsStatus.NXDOMAIN, DnsStatus.NO_DATA):
        return None, None
    if txt.status is not DnsStatus.OK:
        bogus = " (DNSSEC validation fails)" if txt.dnssec is DnssecStatus.BOGUS else ""
        detail = f": {txt.detail}" if txt.detail else ""
        return None, f"the TXT lookup failed{bogus} ({txt.status}{detail}); {_NO_POLICY}"
    found = select_sts_record(txt.records)
    if found.record is not None:
        return found.record.id, None
    return None, found.problem


def _check_host(policy: MtaStsPolicy, mx: MxHostReport, problems: list[str]) -> MtaStsMxCheck:
    covered = any(mx_pattern_matches(pattern, mx.host) for pattern in policy.mx)
    tested = any(address.status in _TESTED for address in mx.addresses)
    return MtaStsMxCheck(
        host=mx.host, covered=covered, certificate_valid=None if not tested else not problems
    )


def _certificate_problems(mx: MxHostReport) -> list[str]:
    """What an MTA-STS sender would refuse on each tested address of the host."""
    problems = []
    for address in mx.addresses:
        if address.status not in _TESTED:
            continue
        problem = _address_problem(address, mx.host)
        if problem is not None:
            problems.append(f"{address.endpoint}: {problem}")
    return problems


def _address_problem(address: AddressReport, host: str) -> str | None:
    report = address.certificate
    if report is None:
        if address.starttls is False:
            return "no STARTTLS"
        return "no TLS handshake, so no certificate"
    if not report.trusted:
        return f"the certificate is not trusted ({report.trust_error or 'no reason given'})"
    if report.name_matches is not True:
        names = ", ".join(report.leaf.dns_names) or report.leaf.subject
        return f"the certificate is for {names}, not {host}"
    stale = [
        info for info in issued_certificates(report) if outside_validity(info, report.checked_at)
    ]
    if stale:
        return "; ".join(
            f"{info.subject} expired on {info.not_after:%Y-%m-%d}"
            if report.checked_at > info.not_after
            else f"{info.subject} is valid only from {info.not_before:%Y-%m-%d}"
            for info in stale
        )
    return None


def _judge_mode(
    domain: str,
    record_id: str,
    policy: MtaStsPolicy,
    checks: tuple[MtaStsMxCheck, ...],
    problems: dict[str, list[str]],
) -> tuple[MtaStsState, list[Finding]]:
    uncovered = [check.host for check in checks if not check.covered]
    bad_certificates = [check.host for check in checks if check.certificate_valid is False]
    patterns = ", ".join(policy.mx)
    if policy.mode is MtaStsMode.NONE:
        return MtaStsState.NONE, []
    if policy.mode is MtaStsMode.TESTING:
        would_fail = [f"{host} is not covered by {patterns}" for host in uncovered]
        would_fail.extend(f"{host}: {'; '.join(problems[host])}" for host in bad_certificates)
        outcome = (
            f"in enforce mode senders would not deliver where {'; '.join(would_fail)}"
            if would_fail
            else "switching to enforce would stop nothing seen here"
        )
        return MtaStsState.TESTING, [
            finding(
                F.MTA_STS_TESTING,
                f"{domain} publishes an MTA-STS policy in testing mode (id {record_id}): senders "
                f"report failures (TLS-RPT) but deliver anyway; {outcome}",
            )
        ]
    findings = [
        finding(
            F.MTA_STS_MX_NOT_COVERED,
            f"{host} is an MX host of {domain}, but no mx pattern of its enforced MTA-STS policy "
            f"({patterns}) covers it: MTA-STS senders do not deliver to it (Exchange Online: "
            f"4.4.8 'MX hosts of {domain} failed MTA-STS validation')",
        )
        for host in uncovered
    ]
    findings.extend(
        finding(
            F.MTA_STS_CERT_INVALID,
            f"{host}: {'; '.join(problems[host])}: under the enforced MTA-STS policy of {domain} "
            "senders do not deliver to it (Exchange Online: 4.7.5 'Remote certificate failed "
            "MTA-STS validation')",
        )
        for host in bad_certificates
    )
    if findings:
        return MtaStsState.FAILING, findings
    untested = [check.host for check in checks if check.certificate_valid is None]
    note = f"; the certificate of {', '.join(untested)} was not tested" if untested else ""
    hosts = ", ".join(check.host for check in checks) or "no MX host"
    return MtaStsState.ENFORCED, [
        finding(
            F.MTA_STS_ENFORCED,
            f"{domain} enforces MTA-STS (id {record_id}, max_age {policy.max_age} s): "
            f"{hosts} covered by {patterns} with valid certificates{note}",
        )
    ]

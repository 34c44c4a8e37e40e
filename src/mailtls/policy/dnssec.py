"""DNSSEC findings for a domain's answers that matter for mail: bogus ones, and a resolver that
does not validate.

A bogus answer is one a validating resolver refuses (SERVFAIL) while the data is there: expired
signatures, a DS record that matches no key. Senders that validate, Exchange Online among them,
then cannot resolve the name and defer mail (RFC 7672 2.1.2). Answers that came with signatures
but without the AD bit tell that the resolver given does not validate: mailtls then cannot tell a
secure answer from a forged one, and gives no DANE verdict.

The caller passes the domain's MX answers and its hosts' address answers; a bogus TLSA answer is
reported with the host's DANE verdict (``mailtls.policy.dane``), so it is not passed here twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailtls.models import DnsOutcome, DnssecStatus, Finding, FindingCode
from mailtls.policy.codes import finding

_MAX_NAMED = 10  # names listed in one message; the rest are counted


def dnssec_findings(outcomes: Iterable[DnsOutcome]) -> list[Finding]:
    """One DNSSEC_BOGUS naming every bogus answer, and RESOLVER_NOT_VALIDATING once."""
    bogus: list[str] = []
    unvalidated: list[str] = []
    for outcome in outcomes:
        label = f"{outcome.rdtype} {outcome.name}"
        if outcome.dnssec is DnssecStatus.BOGUS and label not in bogus:
            bogus.append(label)
        elif outcome.dnssec is DnssecStatus.UNVALIDATED and label not in unvalidated:
            unvalidated.append(label)
    findings = []
    if bogus:
        findings.append(
            finding(
                FindingCode.DNSSEC_BOGUS,
                f"DNSSEC validation fails for {_listed(bogus)}: validating resolvers answer "
                "SERVFAIL, so senders that validate (Exchange Online among them: 4.7.324 "
                "dnssec-invalid) cannot use these answers and defer the mail (RFC 7672 2.1.2)",
            )
        )
    if unvalidated:
        findings.append(
            finding(
                FindingCode.RESOLVER_NOT_VALIDATING,
                f"the answers for {_listed(unvalidated)} came with DNSSEC signatures but without "
                "the AD bit: the resolver does not validate DNSSEC, so no DANE verdict can rest "
                "on it; give a validating resolver with --nameserver",
            )
        )
    return findings


def _listed(labels: list[str]) -> str:
    shown = ", ".join(labels[:_MAX_NAMED])
    more = len(labels) - _MAX_NAMED
    return f"{shown} and {more} more" if more > 0 else shown

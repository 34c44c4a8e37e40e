"""The TLS reporting record of a domain (RFC 8460 3): where senders report TLS failures to.

The grammar, as senders apply it::

    tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
    field-delim      = *WSP ";" *WSP
    tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
    tlsrpt-version   = %s"v=TLSRPTv1"
    tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)   ; required
    tlsrpt-uri       = URI   ; "," "!" and ";" percent-encoded; mailto: or https:
    tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
    tlsrpt-ext-name  = (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".")
    tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)

Of several TXT records at ``_smtp._tls.<domain>``, senders discard those that do not begin with
the version; if not exactly one remains, the domain has no TLS reporting for them. A ``rua``
given twice counts once, the first. A record is valid when its syntax is, and every destination
is a well-formed ``mailto:`` or ``https:`` URI: RFC 8460 defines no other kind, so a destination
of another scheme gets no reports (senders still report to the others, which ``rua`` lists).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from mailtls.models import DnsOutcome, DnsStatus, Finding, FindingCode, TlsRptReport
from mailtls.policy.codes import finding
from mailtls.txt_record import WSP, announces, named_fields, shown, split_fields

TLSRPT_VERSION: Final = "v=TLSRPTv1"

_URI = re.compile(r"[\x21-\x7e]+")  # no spaces, no controls, ASCII only


def judge_tls_rpt(txt: DnsOutcome) -> tuple[TlsRptReport, list[Finding]]:
    """The TLS-RPT record from the ``_smtp._tls.<domain>`` TXT answer."""

    def report(
        record: str | None = None,
        valid: bool = False,
        rua: tuple[str, ...] = (),
        problem: str | None = None,
    ) -> TlsRptReport:
        return TlsRptReport(txt=txt, record=record, valid=valid, rua=rua, problem=problem)

    missing = finding(
        FindingCode.TLSRPT_MISSING,
        f"{txt.name} has no TLS-RPT record: senders that report (Exchange Online among them) "
        "have nowhere to tell you about failed TLS, DANE or MTA-STS deliveries",
    )
    if txt.status in (DnsStatus.NXDOMAIN, DnsStatus.NO_DATA):
        return report(problem="no TLS-RPT record"), [missing]
    if txt.status is not DnsStatus.OK:
        detail = f": {txt.detail}" if txt.detail else ""
        return report(problem=f"the TXT lookup failed ({txt.status}{detail})"), []
    candidates = [text for text in txt.records if announces(text, TLSRPT_VERSION)]
    near_misses = [
        text
        for text in txt.records
        if not announces(text, TLSRPT_VERSION)
        and text[: len(TLSRPT_VERSION)].lower() == TLSRPT_VERSION.lower()
    ]
    if not candidates and not near_misses:
        return report(problem="no TLS-RPT record"), [missing]
    problem: str | None
    if len(candidates) > 1:
        problem = (
            f"{len(candidates)} TXT records begin with {TLSRPT_VERSION!r}: senders use none "
            "of them (RFC 8460 3)"
        )
        return report(problem=problem), [_invalid(txt, problem)]
    if not candidates:
        problem = (
            f"{shown(near_misses[0])!r} does not begin with {TLSRPT_VERSION!r} followed by "
            "';' (the version is case-sensitive): senders discard it"
        )
        return report(problem=problem), [_invalid(txt, problem)]
    record = candidates[0]
    try:
        destinations = _destinations(record)
    except ValueError as error:
        return report(record, problem=str(error)), [_invalid(txt, str(error))]
    usable = tuple(uri for uri, reason in destinations if reason is None)
    bad = [f"{shown(uri)!r}: {reason}" for uri, reason in destinations if reason is not None]
    if not bad:
        return report(record, valid=True, rua=usable), []
    consequence = (
        "senders report to the other destinations only"
        if usable
        else "senders have no destination to report to"
    )
    problem = f"rua destination(s) senders cannot use: {'; '.join(bad)}; {consequence}"
    return report(record, rua=usable, problem=problem), [_invalid(txt, problem)]


def _invalid(txt: DnsOutcome, problem: str) -> Finding:
    return finding(FindingCode.TLSRPT_INVALID, f"{txt.name}: {problem}")


def _destinations(record: str) -> list[tuple[str, str | None]]:
    """The ``rua`` URIs of a record, each with why senders cannot use it (``None``: usable).

    ``ValueError`` when the record breaks the grammar or has no ``rua``.
    """
    _, fields = split_fields(record[len(TLSRPT_VERSION) :])
    rua: str | None = None
    for name, value in named_fields(fields, own=frozenset({"rua"})):
        if name == "rua":
            rua = value if rua is None else rua
    if rua is None:
        spelled = any(raw.strip(WSP).lower().startswith("rua=") for raw in fields)
        hint = " (field names are case-sensitive: 'rua')" if spelled else ""
        raise ValueError(f"the record has no rua field, which names where reports go{hint}")
    uris = [uri.strip(WSP) for uri in rua.split(",")]
    if any(not uri for uri in uris):
        raise ValueError(f"rua holds an empty destination: {shown(rua)!r}")
    return [(uri, _destination_problem(uri)) for uri in uris]


def _destination_problem(uri: str) -> str | None:
    if not _URI.fullmatch(uri):
        return "not a URI (spaces, control or non-ASCII characters)"
    scheme, colon, rest = uri.partition(":")
    if not colon or not scheme:
        return "no scheme (mailto: or https:)"
    if "!" in uri:
        return "'!' must be percent-encoded (RFC 8460 3)"
    scheme = scheme.lower()
    if scheme == "mailto":
        local, at, domain = rest.partition("?")[0].rpartition("@")
        if not at or not local or "." not in domain or domain.startswith("."):
            return "not a mail address (mailto:reports@example.com)"
        return None
    if scheme == "https":
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 (reading it checks it)
        except ValueError as error:
            return f"not an https URL ({error})"
        if not parts.hostname:
            return "no host in the https URL"
        return None
    return f"scheme {scheme!r} is not one senders report to (mailto: and https: only)"

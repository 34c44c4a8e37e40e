"""DANE for SMTP (RFC 6698, RFC 7671, RFC 7672): TLSA records and how a sender matches them."""

from mailtls.dane.tlsa import (
    TlsaMatch,
    association_data,
    match_tlsa,
    parse_tlsa,
    record_text,
    superseded_records,
    tlsa_matches,
    unusable_reason,
)

__all__ = [
    "TlsaMatch",
    "association_data",
    "match_tlsa",
    "parse_tlsa",
    "record_text",
    "superseded_records",
    "tlsa_matches",
    "unusable_reason",
]

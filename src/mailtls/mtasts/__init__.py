"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the policy file and its MX patterns."""

from mailtls.mtasts.policy_file import MAX_AGE_LIMIT, mx_pattern_matches, parse_policy
from mailtls.mtasts.record import StsRecord, StsRecordLookup, parse_sts_record, select_sts_record

__all__ = [
    "MAX_AGE_LIMIT",
    "StsRecord",
    "StsRecordLookup",
    "mx_pattern_matches",
    "parse_policy",
    "parse_sts_record",
    "select_sts_record",
]

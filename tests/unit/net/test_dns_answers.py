"""How a DNS response's flags and signatures become a DNSSEC status, and TXT text."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from mailtls.models import DnssecStatus
from mailtls.net.dns import MAX_RECORD_CHARACTERS, _presentation, _status_of

SIGNATURE = (
    "MX 13 3 300 20301231000000 20260101000000 12345 secure.test. "
    "kOlNyjpBuNnSIkTRhE9O8Ohf1hGLr2nfaTqn3lh2pd5cTxa9YaHKb2BqbNJNgMPBqLZ3fC/NZzzFAzvwlGbw0Q=="
)


def response(*, ad: bool, signed: bool) -> dns.message.Message:
    query = dns.message.make_query("secure.test", "MX", want_dnssec=True)
    answer = dns.message.make_response(query)
    answer.answer.append(dns.rrset.from_text("secure.test.", 300, "IN", "MX", "10 mx.secure.test."))
    if signed:
        answer.answer.append(dns.rrset.from_text("secure.test.", 300, "IN", "RRSIG", SIGNATURE))
    if ad:
        answer.flags |= dns.flags.AD
    return answer


def test_the_ad_bit_makes_an_answer_secure() -> None:
    assert _status_of(response(ad=True, signed=True)) is DnssecStatus.SECURE


def test_signatures_without_the_ad_bit_mean_the_resolver_did_not_validate() -> None:
    assert _status_of(response(ad=False, signed=True)) is DnssecStatus.UNVALIDATED


def test_no_signatures_and_no_ad_bit_mean_an_unsigned_zone() -> None:
    assert _status_of(response(ad=False, signed=False)) is DnssecStatus.INSECURE


def test_no_response_is_indeterminate() -> None:
    assert _status_of(None) is DnssecStatus.INDETERMINATE


def test_txt_strings_are_joined_unquoted_and_bounded() -> None:
    split = dns.rdata.from_text(
        dns.rdataclass.IN, dns.rdatatype.TXT, '"v=STSv1; " "id=20261128T1;"'
    )
    assert _presentation(split) == "v=STSv1; id=20261128T1;"
    chunks = " ".join(f'"{"x" * 255}"' for _ in range(60))
    huge = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)
    assert len(_presentation(huge)) == MAX_RECORD_CHARACTERS
    mx = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, "10 mx.secure.test.")
    assert _presentation(mx) == "10 mx.secure.test."

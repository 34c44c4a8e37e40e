"""Fingerprinting: realistic greetings and EHLO replies -> product, version, confidence."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls.errors import KnowledgeError
from mailtls.knowledge import fingerprint
from mailtls.knowledge.fingerprint import (
    Confidence,
    guess_from,
    guess_product,
    load_products,
    parse_products,
)

HIGH, MEDIUM, LOW, NONE = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.NONE

# EHLO replies as the probe reports them (first word of each line, upper case).
PLAIN = ("SIZE", "PIPELINING", "8BITMIME", "STARTTLS")
POSTFIX_EHLO = ("PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")  # fmt: skip
EXIM_EHLO = ("SIZE", "8BITMIME", "PIPELINING", "PIPECONNECT", "CHUNKING", "STARTTLS", "HELP")
# Exchange 2013+ front end, as in Microsoft's telnet walkthrough.
EX2013_EHLO = ("SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "X-ANONYMOUSTLS", "AUTH", "X-EXPS", "8BITMIME", "BINARYMIME", "CHUNKING", "XRDST")  # fmt: skip
# Exchange 2013/2016 hub transport (KB 2866822 sample).
EX2013_HUB_EHLO = (*EX2013_EHLO[:-1], "XEXCH50", "XRDST", "XSHADOWREQUEST")
# Exchange 2010 anonymous receive connector.
EX2010_EHLO = ("SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "X-ANONYMOUSTLS", "X-EXPS", "8BITMIME", "BINARYMIME", "CHUNKING", "XEXCH50", "XSHADOW")  # fmt: skip
EX2010_NO_SHADOW_EHLO = ("SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "X-ANONYMOUSTLS", "AUTH", "X-EXPS", "8BITMIME", "BINARYMIME", "CHUNKING", "XEXCH50", "XRDST")  # fmt: skip
EXO_EHLO = ("SIZE", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8")  # fmt: skip
IIS_EHLO = ("TURN", "SIZE", "ETRN", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "8BITMIME", "BINARYMIME", "CHUNKING", "VRFY", "X-EXPS", "AUTH", "X-LINK2STATE", "XEXCH50")  # fmt: skip
GOOGLE_EHLO = ("SIZE", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8")  # fmt: skip

DATE = "Mon, 3 Mar 2025 10:15:02 +0100"

Sample = tuple[
    str | None, tuple[str, ...], str | None, str | None, str | None, str | None, Confidence
]

# (banner, EHLO keywords, certificate subject, MX host) -> (product, version, confidence)
SAMPLES: list[Sample] = [
    # Exchange 2013 and later
    (f"220 mail.contoso.com Microsoft ESMTP MAIL Service ready at {DATE}", EX2013_EHLO, "CN=mail.contoso.com", "mail.contoso.com", "exchange-2013-or-later", None, HIGH),
    (f"220 EX01.corp.contoso.com Microsoft ESMTP MAIL Service ready at {DATE}", EX2013_HUB_EHLO, None, None, "exchange-2013-or-later", None, HIGH),
    ("220 mail.contoso.com SMTP Server Ready", EX2013_EHLO, None, "mail.contoso.com", "exchange-2013-or-later", None, HIGH),  # custom banner, EHLO alone
    ("220 ESMTP Ready", EX2013_EHLO, None, None, "exchange-2013-or-later", None, HIGH),
    (f"220 mail.contoso.com Microsoft ESMTP MAIL Service ready at {DATE}", (), None, None, "exchange", None, HIGH),  # banner only
    (f"220 MAIL.CONTOSO.COM MICROSOFT ESMTP MAIL SERVICE READY AT {DATE}", PLAIN, None, None, "exchange", None, HIGH),
    # Exchange 2010 and older
    (f"220 wedge012.example.se Microsoft ESMTP MAIL Service ready at {DATE}", EX2010_EHLO, None, None, "exchange-2010-or-older", None, HIGH),
    (f"220 mx.example.org Microsoft ESMTP MAIL Service ready at {DATE}", EX2010_NO_SHADOW_EHLO, None, None, "exchange-2010-or-older", None, HIGH),
    ("220 cas01.example.org Microsoft ESMTP MAIL Service Version: 14.3.123.4", (), None, None, "exchange-2010-or-older", "14.3.123.4", MEDIUM),
    ("220 smtp Microsoft ESMTP MAIL Service", EX2010_EHLO, None, None, "exchange-2010-or-older", None, HIGH),
    # Microsoft SMTP Service (IIS)
    (f"220 exchange.example.org Microsoft ESMTP MAIL Service, Version: 6.0.3790.4675 ready at  {DATE}", IIS_EHLO, None, None, "microsoft-smtp-service", "6.0.3790.4675", HIGH),
    (f"220 SVR-CM.local Microsoft ESMTP MAIL Service, Version: 7.5.7601.17514 ready at  {DATE}", (), None, None, "microsoft-smtp-service", "7.5.7601.17514", HIGH),
    # Exchange Online
    (f"220 AM4PEPF00027A6C.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready at {DATE}", EXO_EHLO, "CN=mail.protection.outlook.com,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US", "contoso-com.mail.protection.outlook.com", "exchange-online", None, HIGH),
    (None, (), None, "contoso-com.mail.protection.outlook.com.", "exchange-online", None, HIGH),  # host name only
    (None, (), None, "contoso-com.o-v1.mx.microsoft", "exchange-online", None, HIGH),
    # Postfix
    ("220 mx.example.org ESMTP Postfix", POSTFIX_EHLO, None, None, "postfix", None, HIGH),
    ("220 mx.example.org ESMTP Postfix (Debian/GNU)", POSTFIX_EHLO, None, None, "postfix", None, HIGH),
    ("220 mx.example.org ESMTP Postfix (Ubuntu)", POSTFIX_EHLO, None, None, "postfix", None, HIGH),
    ("220 mx.example.org ESMTP Postfix (3.7.11)", POSTFIX_EHLO, None, None, "postfix", "3.7.11", HIGH),
    ("220 mail.example.org ESMTP mailer (Debian/GNU)", POSTFIX_EHLO, None, None, "postfix", None, MEDIUM),
    ("220 mail.zimbra.example ESMTP Postfix", POSTFIX_EHLO, "CN=mail.zimbra.example", None, "postfix", None, HIGH),  # Zimbra looks like Postfix
    ("220 mail.zimbra.example ESMTP Postfix", POSTFIX_EHLO, "CN=mail.zimbra.example,OU=Zimbra Collaboration Server", None, "zimbra", None, HIGH),
    # Exim
    (f"220 mx.example.org ESMTP Exim 4.97 {DATE}", EXIM_EHLO, None, None, "exim", "4.97", HIGH),
    (f"220-box.example.net ESMTP Exim 4.96.1 #2 {DATE}\r\n220-We do not authorize the use of this system", EXIM_EHLO, None, None, "exim", "4.96.1", HIGH),
    (f"220 mx.example.org ESMTP Exim 4.80_1 {DATE}", EXIM_EHLO, None, None, "exim", "4.80_1", HIGH),
    # Sendmail
    (f"220 mx.example.org ESMTP Sendmail 8.17.1/8.17.1; {DATE}", PLAIN, None, None, "sendmail", "8.17.1", HIGH),
    (f"220 mail.example.org ESMTP Sendmail 8.15.2/8.15.2/Debian-22; {DATE}", PLAIN, None, None, "sendmail", "8.15.2", HIGH),
    (f"220 aix.example.org ESMTP Sendmail AIX7.2/8.14.4; {DATE}", PLAIN, None, None, "sendmail", "8.14.4", HIGH),
    # OpenSMTPD
    ("220 mx.example.org ESMTP OpenSMTPD", PLAIN, None, None, "opensmtpd", None, HIGH),
    # hMailServer
    ("220 WIN-MAIL ESMTP hMailServer 5.6.8", PLAIN, None, None, "hmailserver", "5.6.8", HIGH),
    ("220 (SMTP) hMailServer 5.3.4 - Up since 2025-03-01", PLAIN, None, None, "hmailserver", "5.3.4", HIGH),
    # MDaemon
    (f"220 mail.example.org ESMTP MDaemon 23.5.2; {DATE}", PLAIN, None, None, "mdaemon", "23.5.2", HIGH),
    (f"220 mail.example.org ESMTP MSA MDaemon 21.0.3; {DATE}", PLAIN, None, None, "mdaemon", "21.0.3", HIGH),
    # Domino
    (f"220 notes.example.org ESMTP Service (Lotus Domino Release 8.5.3FP6) ready at {DATE}", PLAIN, None, None, "domino", "8.5.3FP6", HIGH),
    (f"220 domino.example.org ESMTP Service (IBM Domino Release 9.0.1FP10 HF383) ready at {DATE}", PLAIN, None, None, "domino", "9.0.1FP10 HF383", HIGH),
    (f"220 domino.example.org ESMTP Service (HCL Domino Release 12.0.2) ready at {DATE}", PLAIN, None, None, "domino", "12.0.2", HIGH),
    # Kerio
    ("220 mail.example.org Kerio Connect 10.0.2 patch 1 ESMTP ready", PLAIN, None, None, "kerio-connect", "10.0.2 patch 1", HIGH),
    ("220 mail.example.org Kerio MailServer 6.7.3 ESMTP ready", PLAIN, None, None, "kerio-connect", "6.7.3", HIGH),
    # IceWarp
    (f"220 mail.example.org ESMTP IceWarp 13.0.2.2; {DATE}", PLAIN, None, None, "icewarp", "13.0.2.2", HIGH),
    (f"220 mail.example.org ESMTP Merak 8.9.1; {DATE}", PLAIN, None, None, "icewarp", "8.9.1", HIGH),
    # Google
    ("220 mx.google.com ESMTP a640c23a62f3a-abc123.456 - gsmtp", GOOGLE_EHLO, None, "aspmx.l.google.com", "google", None, HIGH),
    (None, (), None, "alt1.aspmx.l.google.com", "google", None, MEDIUM),
    # Barracuda
    ("220 mx.example.org ESMTP (4f9e2c3b1a0d8e7f6a5b4c3d2e1f0a9b)", PLAIN, None, None, "barracuda", None, HIGH),
    (None, (), None, "d123456a.ess.barracudanetworks.com", "barracuda", None, MEDIUM),
    # Gateways known by host name only
    ("220 eu-smtp-inbound-1.mimecast.com ESMTP", PLAIN, None, "eu-smtp-inbound-1.mimecast.com", "mimecast", None, MEDIUM),
    ("220 mx1-us1.ppe-hosted.com ESMTP", PLAIN, None, "mx1-us1.ppe-hosted.com", "proofpoint-essentials", None, MEDIUM),
    # generic and unknown
    ("220 mx.example.com ESMTP", PLAIN, None, "mx.example.com", None, None, NONE),
    ("220 mx.example.com ESMTP ready", (), "CN=mx.example.com", None, None, None, NONE),
    ("220 smtp.example.com ESMTP Sendmailer-like service", PLAIN, None, None, None, None, NONE),
    ("220 not.google.com.example.net ESMTP", PLAIN, None, "aspmx.l.google.com.example.net", None, None, NONE),
    (None, (), None, None, None, None, NONE),
]  # fmt: skip


@pytest.mark.parametrize("sample", SAMPLES)
def test_samples(sample: Sample) -> None:
    banner, ehlo, subject, host, product, version, confidence = sample
    guess = guess_product(banner, ehlo, subject, host)
    assert (guess.product, guess.version, guess.confidence) == (product, version, confidence)
    if product is None:
        assert guess.evidence == ()
        assert guess.name == "unknown"
    else:
        assert guess.evidence
        assert guess.name == next(p.name for p in load_products() if p.id == product)


def test_enough_samples_of_each_kind() -> None:
    assert len(SAMPLES) >= 30
    seen = {sample[4] for sample in SAMPLES}
    for wanted in (
        "exchange-2013-or-later",
        "exchange-2010-or-older",
        "exchange-online",
        "postfix",
        "exim",
        "sendmail",
        "opensmtpd",
        "hmailserver",
        "mdaemon",
        "domino",
        "kerio-connect",
        "icewarp",
        "google",
        "barracuda",
        None,
    ):
        assert wanted in seen


def test_evidence_names_what_was_seen() -> None:
    guess = guess_product("220 mx.example.org ESMTP Postfix (Debian/GNU)", POSTFIX_EHLO, None, None)
    assert guess.evidence == ("banner matches 'ESMTP Postfix'",)
    exchange = guess_product("220 mail.contoso.com SMTP Server Ready", EX2013_EHLO, None, None)
    assert "EHLO offers X-ANONYMOUSTLS" in exchange.evidence
    assert "EHLO offers X-ANONYMOUSTLS, XRDST but not XEXCH50, XSHADOW" in exchange.evidence
    online = guess_product(None, (), None, "contoso-com.mail.protection.outlook.com")
    assert online.evidence == ("host name is under mail.protection.outlook.com",)


def test_whole_ehlo_lines_count_like_keywords() -> None:
    lines = ["mail.contoso.com Hello [192.0.2.1]", "X-ANONYMOUSTLS", "X-EXPS GSSAPI NTLM", "xrdst"]
    assert guess_product(None, lines, None, None).product == "exchange-2013-or-later"


def test_host_suffix_needs_a_label_boundary() -> None:
    assert guess_product(None, (), None, "evilmimecast.com").product is None
    assert guess_product(None, (), None, "MIMECAST.COM").product == "mimecast"


def test_banner_beyond_the_matched_prefix_is_ignored() -> None:
    banner = "220 " + "x" * 600 + " ESMTP Postfix"
    assert guess_product(banner, (), None, None).product is None


def test_version_and_evidence_are_printable_and_bounded() -> None:
    guess = guess_product("220 mx ESMTP Exim 4.97\x1b[31m" + "9" * 300, (), None, None)
    assert guess.product == "exim"
    assert guess.version is not None
    assert all(
        " " <= ch <= "~" or ch == "…" for text in (guess.version, *guess.evidence) for ch in text
    )
    assert len(guess.version) <= 61


@given(
    banner=st.one_of(st.none(), st.text(max_size=5000)),
    ehlo=st.lists(st.text(max_size=300), max_size=50),
    subject=st.one_of(st.none(), st.text(max_size=2000)),
    host=st.one_of(st.none(), st.text(max_size=600)),
)
def test_never_raises(
    banner: str | None, ehlo: list[str], subject: str | None, host: str | None
) -> None:
    guess = guess_product(banner, ehlo, subject, host)
    assert (guess.product is None) == (guess.confidence is NONE)


def test_hostile_banner_is_fast_and_harmless() -> None:
    huge = "220 " + "(" * 100_000 + "\x00\r\n" * 1000
    assert guess_product(huge, ["\x00" * 10_000], "\x00", "." * 10_000).product is None


# --- the data file -----------------------------------------------------------------------------

DATA = Path(fingerprint.__file__).parent / "data" / fingerprint.DATA_FILE


def _raw() -> dict[str, Any]:
    return tomllib.loads(DATA.read_text("utf-8"))


def _minimal(**changes: Any) -> dict[str, Any]:
    product: dict[str, Any] = {
        "id": "postfix",
        "name": "Postfix",
        "source": "https://example.org/postfix",
        "banner": [{"pattern": r"\bESMTP Postfix\b", "weight": 80}],
    }
    product.update(changes)
    return {"schema": 1, "products": [product]}


def test_every_product_in_the_data_file_has_an_https_source() -> None:
    raw = _raw()
    assert raw["products"]
    for entry in raw["products"]:
        assert str(entry.get("source", "")).startswith("https://"), entry["id"]
    assert len(load_products()) == len(raw["products"])


def test_minimal_table_parses_and_guesses() -> None:
    products = parse_products(_minimal())
    assert guess_from(products, "220 mx ESMTP Postfix", (), None, None).product == "postfix"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_minimal(source=None), "no https source"),
        (_minimal(source="http://example.org/insecure"), "no https source"),
        ({**_minimal(), "schema": 2}, "schema"),
        ({"schema": 1, "products": []}, "no [[products]]"),
        (_minimal(banner=[{"pattern": "ESMTP (Postfix", "weight": 80}]), "does not compile"),
        (_minimal(banner=[{"pattern": "(?P<name>x)", "weight": 80}]), "named group"),
        (_minimal(banner=[{"pattern": "x", "weight": 0}]), "weight"),
        (_minimal(banner=[{"pattern": "x", "weight": True}]), "weight"),
        (_minimal(banner=[], ehlo=[{"all": [], "weight": 10}]), "names no keyword"),
        (_minimal(banner=[], ehlo=[{"all": "XRDST", "weight": 10}]), "list of keywords"),
        (_minimal(banner=[], host=[{"suffix": ".", "weight": 10}]), "no suffix"),
        (_minimal(banner=[{"pattern": "x", "weight": 5, "source": "ftp://x"}]), "no https source"),
        (_minimal(banner=[]), "no rule"),
        (_minimal(id="Post Fix"), "slug"),
        (_minimal(parent="nowhere"), "parent 'nowhere' is unknown"),
    ],
)
def test_bad_data_is_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(KnowledgeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_products(raw)


def test_duplicate_ids_are_refused() -> None:
    raw = _minimal()
    raw["products"] = raw["products"] * 2
    with pytest.raises(KnowledgeError, match="defined twice"):
        parse_products(raw)


def test_a_specific_product_needs_evidence_of_its_own() -> None:
    raw = _minimal()
    raw["products"].append(
        {
            "id": "postfix-new",
            "name": "New Postfix",
            "parent": "postfix",
            "source": "https://example.org/new",
            "ehlo": [{"all": ["SMTPUTF8"], "weight": 10}],
        }
    )
    products = parse_products(raw)
    assert guess_from(products, "220 mx ESMTP Postfix", ("SIZE",), None, None).product == "postfix"
    newer = guess_from(products, "220 mx ESMTP Postfix", ("SMTPUTF8",), None, None)
    assert (newer.product, newer.evidence) == (
        "postfix-new",
        ("banner matches 'ESMTP Postfix'", "EHLO offers SMTPUTF8"),
    )

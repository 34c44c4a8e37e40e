"""Remedies: every product x the main finding codes, the generic advice, and the address facts."""

from __future__ import annotations

import re

import pytest

from mailtls.knowledge.mail_servers import Section, load_mail_servers
from mailtls.knowledge.remedies import (
    CLIENT_SIDE,
    SERVER_SIDE,
    AddressFacts,
    address_facts,
    remedy_for,
)
from mailtls.models import (
    Confidence,
    FindingCode,
    ProductGuess,
    Remedy,
    TlsVersion,
    VersionSupport,
)

F = FindingCode
KNOWLEDGE = load_mail_servers()
PRODUCTS = [server.id for server in KNOWLEDGE.servers]
CERT_CODES = [code for code in FindingCode if code.name.startswith("CERT_")]
MAIN_CODES = [
    F.TLS12_UNSUPPORTED, F.TLS10_ENABLED, F.TLS11_ENABLED, F.STARTTLS_MISSING,
    F.EXO_CIPHERS_UNSUPPORTED, *CERT_CODES,
]  # fmt: skip
NO_REMEDY = {
    F.TLS13_UNSUPPORTED, F.NULL_MX, F.NO_ADDRESS_IN_FAMILY, F.DANE_VALID, F.MTA_STS_ENFORCED,
}  # fmt: skip
FACTS = AddressFacts(mx_host="mx.example.com")
# The section each code's product advice comes from (None: the advice is the same for all).
SECTION_OF = {code: advice.section for code, advice in KNOWLEDGE.advice.items()}


def guess(product: str | None, confidence: Confidence = Confidence.HIGH) -> ProductGuess:
    server = KNOWLEDGE.server(product)
    name = server.name if server is not None else "unknown"
    return ProductGuess(product, name, None, confidence, ("test",))


def text(remedy: Remedy) -> str:
    return "\n".join((remedy.summary, *remedy.steps))


def remedy(code: FindingCode, product: str | None, facts: AddressFacts = FACTS) -> Remedy:
    found = remedy_for(code, guess(product) if product else None, facts)
    assert found is not None
    return found


@pytest.mark.parametrize("code", MAIN_CODES)
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_product_gets_sourced_advice_for_the_main_codes(
    product: str, code: FindingCode
) -> None:
    found = remedy(code, product)
    assert found.steps
    assert found.sources
    assert all(url.startswith("https://") for url in found.sources)
    server = KNOWLEDGE.server(product)
    assert server is not None
    section = SECTION_OF[code]
    specific = section is not None and (server.hosted or server.settings(section) is not None)
    # Product-specific advice says so; otherwise it is the generic advice, and says why.
    assert found.product == (product if specific else None)
    if section is not None and not specific:
        assert f"recognised {server.name}" in text(found)
    if server.hosted and section is not None:
        assert "run by its provider" in found.summary


# (product, code) -> what the advice must contain: the concrete settings, not just words.
SPECIFIC = [
    ("postfix", F.TLS12_UNSUPPORTED, ["smtpd_tls_protocols", "smtp_tls_protocols", "postconf mail_version"]),
    ("postfix", F.TLS10_ENABLED, ["smtpd_tls_protocols = >=TLSv1.2", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", "smtpd_tls_loglevel = 1"]),
    ("postfix", F.STARTTLS_MISSING, ["smtpd_tls_security_level = may", "smtpd_tls_chain_files"]),
    ("postfix", F.EXO_CIPHERS_UNSUPPORTED, ["ECDHE-RSA-AES256-GCM-SHA384", "RSA key", "smtpd_tls_ciphers = medium"]),
    ("postfix", F.CERT_EXPIRED, ["mx.example.com", "smtpd_tls_chain_files"]),
    ("zimbra", F.TLS11_ENABLED, ["zimbraMtaSmtpdTlsProtocols", "zimbraMtaSmtpTlsProtocols", "!TLSv1.1"]),
    ("exim", F.TLS10_ENABLED, ["openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1", "-VERS-TLS1.0:-VERS-TLS1.1", "exim -bV"]),
    ("exim", F.STARTTLS_MISSING, ["tls_certificate", "tls_privatekey"]),
    ("sendmail", F.TLS11_ENABLED, ["confSERVER_SSL_OPTIONS", "confCLIENT_SSL_OPTIONS", "+SSL_OP_NO_TLSv1_1"]),
    ("sendmail", F.TLS12_UNSUPPORTED, ["sendmail -d0.1", "OpenSSL 1.0.1"]),
    ("opensmtpd", F.TLS10_ENABLED, ['protocols "tlsv1.2,tlsv1.3"', "smtpd -h"]),
    ("exchange", F.TLS12_UNSUPPORTED, ["2010 SP3 RU19", "2013 CU19", "2016 CU8", "Get-ExchangeServer", "ExSetup"]),
    ("exchange-2013-or-later", F.TLS12_UNSUPPORTED, ["15.0.1365.1", "KB3161949", "TLS 1.2\\Server]", "TLS 1.2\\Client]", "SystemDefaultTlsVersions"]),
    ("exchange-2013-or-later", F.TLS10_ENABLED, ["CU20", "TLS 1.0\\Server]", "TLS 1.1\\Client]", "ProtocolLoggingLevel Verbose"]),
    ("exchange-2013-or-later", F.CERT_SELF_SIGNED, ["Enable-ExchangeCertificate", "-Services SMTP"]),
    ("exchange-2010-or-older", F.TLS12_UNSUPPORTED, ["SP3 RU19", "14.3.382.0", "KB3154518", "v2.0.50727", "throttles"]),
    ("exchange-2010-or-older", F.TLS11_ENABLED, ["RU20", "TLS 1.1\\Server]"]),
    ("microsoft-smtp-service", F.TLS12_UNSUPPORTED, ["SCHANNEL\\Protocols\\TLS 1.2\\Server]", "2008 R2"]),
    ("hmailserver", F.TLS10_ENABLED, ["Settings > Advanced > SSL/TLS", "TLS v1.0"]),
    ("domino", F.TLS10_ENABLED, ["SSL_DISABLE_TLS_10=1"]),
    ("cisco-esa", F.TLS12_UNSUPPORTED, ["sslconfig", "INBOUND", "OUTBOUND"]),
    ("exchange-online", F.TLS12_UNSUPPORTED, ["Microsoft runs this server"]),
    ("google", F.STARTTLS_MISSING, ["Google runs this server"]),
]  # fmt: skip


@pytest.mark.parametrize(("product", "code", "needles"), SPECIFIC)
def test_product_advice_holds_the_concrete_settings(
    product: str, code: FindingCode, needles: list[str]
) -> None:
    found = remedy(code, product)
    assert found.product == product
    for needle in needles:
        assert needle in text(found), needle


def test_tls12_advice_names_the_server_and_the_client_side() -> None:
    steps = remedy(F.TLS12_UNSUPPORTED, "postfix").steps
    assert any(step.startswith(SERVER_SIDE) and "smtpd_tls_protocols" in step for step in steps)
    assert any(step.startswith(CLIENT_SIDE) and "smtp_tls_protocols" in step for step in steps)


def test_turning_legacy_off_starts_with_finding_who_still_uses_it() -> None:
    steps = remedy(F.TLS10_ENABLED, "postfix").steps
    first_change = next(index for index, step in enumerate(steps) if step.startswith(SERVER_SIDE))
    assert "mailtls logs --impact tls12" in steps[0]
    logging = next(index for index, step in enumerate(steps) if "smtpd_tls_loglevel" in step)
    assert logging < first_change


@pytest.mark.parametrize("code", [code for code in FindingCode if code not in NO_REMEDY])
def test_an_unknown_server_gets_generic_advice_for_every_code(code: FindingCode) -> None:
    found = remedy(code, None)
    assert found.product is None
    assert found.steps
    assert all(url.startswith("https://") for url in found.sources)
    assert "{" not in found.summary  # every placeholder was filled


@pytest.mark.parametrize("code", [F.TLS12_UNSUPPORTED, F.TLS10_ENABLED, F.STARTTLS_MISSING])
def test_generic_advice_says_how_to_find_out_the_product(code: FindingCode) -> None:
    found = text(remedy(code, None))
    for command in ("postconf mail_version", "exim -bV", "Get-ExchangeServer", "smtpd -h"):
        assert command in found, command
    assert "banner" in found


@pytest.mark.parametrize("code", sorted(NO_REMEDY))
def test_informational_findings_call_for_nothing(code: FindingCode) -> None:
    assert remedy_for(code, guess("postfix"), FACTS) is None
    assert remedy_for(code) is None


def test_a_low_confidence_guess_is_named_but_gets_the_generic_advice() -> None:
    found = remedy_for(F.TLS12_UNSUPPORTED, guess("postfix", Confidence.LOW), FACTS)
    assert found is not None
    assert found.product is None
    assert "mailtls guesses Postfix, with low confidence" in text(found)
    assert "smtpd_tls_mandatory_protocols" not in text(found)


def test_an_ec_certificate_adds_the_rsa_step_to_the_cipher_advice() -> None:
    with_ec = remedy(F.EXO_CIPHERS_UNSUPPORTED, "postfix", AddressFacts(certificate_key_type="EC"))
    with_rsa = remedy(
        F.EXO_CIPHERS_UNSUPPORTED, "postfix", AddressFacts(certificate_key_type="RSA")
    )
    assert "EC (ECDSA) key" in text(with_ec)
    assert "EC (ECDSA) key" not in text(with_rsa)


def test_a_tls13_only_server_is_told_to_widen_its_range() -> None:
    only13 = remedy(F.TLS12_UNSUPPORTED, "postfix", AddressFacts(tls13_only=True))
    legacy = remedy(F.TLS12_UNSUPPORTED, "postfix", AddressFacts(tls13_only=False))
    assert "Only TLS 1.3 is accepted" in text(only13)
    assert "Only TLS 1.3 is accepted" not in text(legacy)


def test_the_mx_host_is_filled_in_and_made_harmless() -> None:
    named = remedy(F.CERT_NAME_MISMATCH, None, AddressFacts(mx_host="mx1.example.net."))
    assert "subjectAltName lists mx1.example.net." in text(named)
    hostile = remedy(F.CERT_NAME_MISMATCH, None, AddressFacts(mx_host="mx\x1b[31m.example\n"))
    assert "\x1b" not in text(hostile)
    assert "mx?[31m.example?" in text(hostile)
    nameless = remedy(F.CERT_NAME_MISMATCH, None, AddressFacts())
    assert "names the MX host" in nameless.summary


def test_address_facts_come_from_the_probe_results() -> None:
    versions = {
        TlsVersion.TLS1_0: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_1: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_2: VersionSupport.UNSUPPORTED,
        TlsVersion.TLS1_3: VersionSupport.SUPPORTED,
    }
    facts = address_facts("mx.example.com", versions, None)
    assert facts == AddressFacts(mx_host="mx.example.com", tls13_only=True)
    versions[TlsVersion.TLS1_2] = VersionSupport.NOT_TESTED
    assert not address_facts(None, versions, None).tls13_only


_REG_LINE = re.compile(r'^(|\[HKEY_LOCAL_MACHINE\\[^\]]+\]|"[A-Za-z]+"=dword:[0-9a-f]{8})$')


def test_every_reg_snippet_is_what_regedit_imports() -> None:
    snippets = [
        step
        for server in KNOWLEDGE.servers
        for section in Section
        if (settings := server.settings(section)) is not None
        for step in (*settings.server, *settings.client)
        if "Windows Registry Editor Version 5.00" in step
    ]
    assert len(snippets) >= 10
    for snippet in snippets:
        body = snippet.split("Windows Registry Editor Version 5.00\n", 1)[1]
        assert body.startswith("\n[HKEY_LOCAL_MACHINE\\"), snippet
        for line in body.splitlines():
            assert _REG_LINE.match(line), line


# DNSSEC, DANE, MTA-STS and TLS-RPT: the advice names the record to publish or the command to run.
TRANSPORT_SECURITY = [
    (F.DANE_MISMATCH, ["openssl pkey -pubin -outform DER | openssl dgst -sha256", "_25._tcp.mx.example.com. IN TLSA 3 1 1", "beside the old one", "postfix tls output-server-tlsa", "4.7.323"]),
    (F.DANE_UNUSABLE_RECORDS, ["_25._tcp.mx.example.com. IN TLSA 3 1 1", "PKIX-EE (1)"]),
    (F.DANE_NOT_SECURE, ["delv _25._tcp.mx.example.com TLSA", "DS record"]),
    (F.DANE_MX_NOT_SECURE, ["delv DOMAIN MX", "Enable-DnssecForVerifiedDomain", "Enable-SmtpDaneInbound"]),
    (F.DNSSEC_BOGUS, ["delv NAME TYPE", "DS record", "4.7.324"]),
    (F.RESOLVER_NOT_VALIDATING, ["--nameserver", "unbound"]),
    (F.MTA_STS_MX_NOT_COVERED, ["mx:", "new `id`", "4.4.8"]),
    (F.MTA_STS_CERT_INVALID, ["mode: testing", "4.7.5"]),
    (F.MTA_STS_POLICY_UNREACHABLE, ["https://mta-sts.DOMAIN/.well-known/mta-sts.txt", "text/plain", "no redirects"]),
    (F.MTA_STS_POLICY_INVALID, ["version: STSv1", "max_age:", "*.mail.protection.outlook.com"]),
    (F.MTA_STS_RECORD_INVALID, ["v=STSv1; id="]),
    (F.MTA_STS_MAX_AGE_SMALL, ["max_age: 604800"]),
    (F.MTA_STS_TESTING, ["mode: enforce", "new `id`"]),
    (F.TLSRPT_MISSING, ["v=TLSRPTv1; rua=mailto:"]),
    (F.TLSRPT_INVALID, ["v=TLSRPTv1;", "percent-encoded"]),
    (F.DANE_PARTIAL, ["every MX host"]),
]  # fmt: skip


@pytest.mark.parametrize(("code", "needles"), TRANSPORT_SECURITY)
def test_transport_security_advice_is_concrete(code: FindingCode, needles: list[str]) -> None:
    found = text(remedy(code, None))
    for needle in needles:
        assert needle in found, needle
    assert all(url.startswith("https://") for url in remedy(code, None).sources)


def test_an_mta_sts_certificate_failure_gets_the_products_certificate_steps() -> None:
    found = remedy(F.MTA_STS_CERT_INVALID, "postfix")
    assert found.product == "postfix"
    assert "smtpd_tls_chain_files" in text(found)

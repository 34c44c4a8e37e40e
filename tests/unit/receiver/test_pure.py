"""The receiver's pure parts: verdicts, headers, sanitising, caps, acceptance, policy contexts."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls.knowledge.exchange_online import load_exchange_online_policy
from mailtls.models import Confidence, TlsVersion
from mailtls.receiver.contexts import server_context
from mailtls.receiver.headers import MAX_HEADER_BYTES, HeaderReader
from mailtls.receiver.limits import Admission, Caps, ConnectionLimiter
from mailtls.receiver.models import (
    HeaderSummary,
    ReceivePolicy,
    SenderVerdict,
    SessionEnd,
    TlsSeen,
)
from mailtls.receiver.sanitise import clean, clean_verb
from mailtls.receiver.senders import guess_sender
from mailtls.receiver.settings import Acceptance
from mailtls.receiver.tracker import SessionTracker
from mailtls.receiver.verdict import SERVER_SIDE, fix_for, judge
from mailtls.tls.issuing import issue


def tls(version: TlsVersion | None, cipher: str | None = None) -> TlsSeen:
    return TlsSeen(version, cipher, 128, None, None, "EHLO")


@pytest.mark.parametrize(
    ("seen", "mail", "expected"),
    [
        (tls(TlsVersion.TLS1_2, "ECDHE-RSA-AES256-GCM-SHA384"), True, SenderVerdict.ACCEPTED),
        (tls(TlsVersion.TLS1_2, "AES128-GCM-SHA256"), True, SenderVerdict.ACCEPTED),
        (tls(TlsVersion.TLS1_2, "ECDHE-ECDSA-AES256-GCM-SHA384"), True,
         SenderVerdict.TLS12_NO_EXO_SUITE),
        (tls(TlsVersion.TLS1_2, "ECDHE-RSA-CHACHA20-POLY1305"), True,
         SenderVerdict.TLS12_NO_EXO_SUITE),
        (tls(TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384"), True, SenderVerdict.ACCEPTED),
        (tls(TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA"), True, SenderVerdict.LEGACY_TLS),
        (tls(TlsVersion.TLS1_1, "ECDHE-RSA-AES256-SHA"), False, SenderVerdict.LEGACY_TLS),
        (tls(None), False, SenderVerdict.HANDSHAKE_FAILED),
        (None, True, SenderVerdict.PLAINTEXT),
        (None, False, SenderVerdict.NO_MAIL),
    ],
)  # fmt: skip
def test_verdict(seen: TlsSeen | None, mail: bool, expected: SenderVerdict) -> None:
    assert judge(seen, mail) is expected


def test_fix_is_for_the_sending_side_and_product_specific() -> None:
    postfix = guess_sender(
        None, None, HeaderSummary(first_received="from a by mx.example.net (Postfix) with ESMTP")
    )
    remedy = fix_for(SenderVerdict.LEGACY_TLS, postfix)
    assert remedy is not None
    assert remedy.product == "postfix"
    assert any("smtp_tls_protocols" in step for step in remedy.steps)
    assert not any(step.startswith(SERVER_SIDE) for step in remedy.steps)
    assert fix_for(SenderVerdict.ACCEPTED, postfix) is None
    assert fix_for(SenderVerdict.NO_MAIL, postfix) is None
    generic = fix_for(SenderVerdict.PLAINTEXT, guess_sender(None, None, None))
    assert generic is not None
    assert generic.product is None


def test_sender_guesses() -> None:
    exim = guess_sender(
        None,
        None,
        HeaderSummary(first_received="from x ([192.0.2.1]) by mx.example with esmtps (Exim 4.96)"),
    )
    assert (exim.product, exim.version, exim.confidence) == ("exim", "4.96", Confidence.HIGH)
    exchange = guess_sender(
        None,
        None,
        HeaderSummary(
            first_received="from EX1.corp.example (10.0.0.5) by EX2.corp.example (10.0.0.6) "
            "with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_"
            "SHA384) id 14.3.123.4; Tue, 29 Sep 2020 22:22:59 +0000"
        ),
    )
    assert exchange.product == "exchange-2010-or-older"
    assert exchange.version == "14.3.123.4"
    assert guess_sender("mx.example", None, HeaderSummary(x_mailer="swaks")).product is None


def test_headers_first_of_each_folded_and_encoded() -> None:
    reader = HeaderReader()
    for line in (
        b"Received: from a by b (Postfix) with ESMTP id 1\r\n",
        b"\tfor <x@y>; Tue, 1 Jan 2030 00:00:00 +0000\r\n",
        b"Received: from older hop\r\n",
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n",
        b"From: Someone <s@example.net>\r\n",
        b"Message-ID: <1@example.net>\r\n",
        b"X-Mailer: \x1b[31mevil\r\n",
        b"\r\n",
        b"Subject: not a header, the body\r\n",
    ):
        reader.feed(line)
    summary = reader.summary()
    assert summary.first_received == (
        "from a by b (Postfix) with ESMTP id 1 for <x@y>; Tue, 1 Jan 2030 00:00:00 +0000"
    )
    assert summary.subject == "Grüße"
    assert summary.from_ == "Someone <s@example.net>"
    assert summary.message_id == "<1@example.net>"
    assert summary.x_mailer == "[31mevil"


def test_headers_bounded() -> None:
    reader = HeaderReader()
    reader.feed(b"Subject: " + b"x" * 1000 + b"\r\n")
    for _ in range(MAX_HEADER_BYTES // 10):
        reader.feed(b"\tyyyyyyy\r\n")  # an endless folded header
    reader.feed(b"From: late@example.net\r\n")
    summary = reader.summary()
    assert summary.from_ is None
    assert summary.subject is not None
    assert len(summary.subject) <= 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mx.example.net", "mx.example.net"),
        ("a\r\nb\x00c\u202ed", "a b c d"),
        (b"\xff\xfe name", "\ufffd\ufffd name"),
        ("   ", None),
        (None, None),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_clean(text: str | bytes | None, expected: str | None) -> None:
    assert clean(text) == expected


def test_clean_verb() -> None:
    assert clean_verb("ehlo") == "EHLO"
    assert clean_verb("\x16\x03\x01") == "?"


def test_caps_per_address_rate_and_total() -> None:
    limiter = ConnectionLimiter(Caps(per_address=2, per_address_per_minute=3, total=4))
    assert limiter.admit("192.0.2.1", 0.0) is Admission.ADMITTED
    assert limiter.admit("192.0.2.1", 0.1) is Admission.ADMITTED
    assert limiter.admit("192.0.2.1", 0.2) is Admission.CONNECTION_CAP
    limiter.release("192.0.2.1", 1.0)
    assert limiter.admit("192.0.2.1", 1.1) is Admission.ADMITTED  # third in the minute
    limiter.release("192.0.2.1", 1.2)
    assert limiter.admit("192.0.2.1", 1.3) is Admission.RATE_CAP
    assert limiter.admit("192.0.2.1", 60.05) is Admission.ADMITTED  # the first one aged out
    assert limiter.admit("192.0.2.2", 61.0) is Admission.ADMITTED
    assert limiter.admit("192.0.2.3", 61.0) is Admission.ADMITTED
    assert limiter.open_connections == 4
    assert limiter.admit("192.0.2.4", 61.0) is Admission.SERVER_FULL
    for address in ("192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"):
        limiter.release(address, 200.0)
    assert limiter.open_connections == 0


def test_acceptance_never_relays() -> None:
    acceptance = Acceptance(frozenset({"test.example"}), frozenset({"one@other.example"}))
    assert acceptance.accepts("Someone@Test.Example")
    assert acceptance.accepts("one@other.example")
    for refused in (
        "two@other.example",
        "x@sub.test.example",
        "x@test.example.evil",
        "@test.example",
        "test.example",
        "x@test.example@evil.example",
    ):
        assert not acceptance.accepts(refused), refused


def test_tracker_records_bounded_and_judged() -> None:
    tracker = SessionTracker(
        started_at=datetime(2030, 1, 1, tzinfo=UTC),
        listener="127.0.0.1:25",
        client_ip="192.0.2.7",
        client_port=40000,
        policy=ReceivePolicy.OBSERVE,
    )
    tracker.command("EHLO")
    tracker.greeted("client\x1b]0;title\x07.example", extended=True)
    tracker.command("STARTTLS")
    tracker.tls_established(TlsVersion.TLS1_0, "ECDHE-RSA-AES256-SHA", 256, "mx.test", None)
    tracker.command("EHLO")
    for _ in range(500):
        tracker.command("NOOP")
    tracker.mail("a@example.net")
    for number in range(300):
        tracker.recipient(f"r{number}@test.example", accepted=number % 2 == 0)
    tracker.data_done(1234, HeaderSummary(subject="hi"), "250 ok")
    record = tracker.finish(datetime(2030, 1, 1, 0, 1, tzinfo=UTC), SessionEnd.CLIENT_CLOSED)
    assert record.helo == "client ]0;title .example"
    assert record.tls is not None
    assert record.tls.before_command == "EHLO"
    assert record.verdict is SenderVerdict.LEGACY_TLS
    assert record.remedy is not None
    assert len(record.commands) == 64
    assert len(record.messages[0].recipients) == 100
    assert record.messages[0].size == 1234
    assert record.end is SessionEnd.CLIENT_CLOSED


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return issue(("rx.test",)).write(tmp_path_factory.mktemp("cert"), "rx")


def test_observe_context_accepts_tls10(chain: tuple[Path, Path]) -> None:
    context = server_context(ReceivePolicy.OBSERVE, *chain)
    assert context.minimum_version is ssl.TLSVersion.TLSv1
    assert context.maximum_version is ssl.TLSVersion.TLSv1_3
    names = {cipher["name"] for cipher in context.get_ciphers()}
    assert "ECDHE-RSA-AES256-SHA" in names  # a TLS 1.0 suite


def test_exo_context_offers_only_exchange_online_suites(chain: tuple[Path, Path]) -> None:
    context = server_context(ReceivePolicy.EXO, *chain)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    tls12 = {cipher["name"] for cipher in context.get_ciphers() if cipher["protocol"] == "TLSv1.2"}
    exo = {suite.openssl for suite in load_exchange_online_policy().tls12_cipher_suites}
    assert tls12
    assert tls12 <= exo

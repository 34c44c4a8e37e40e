from __future__ import annotations

import pytest

from mailtls.errors import NotSmtpError, SmtpProtocolError
from mailtls.models import SmtpReply
from mailtls.smtp.replies import ReplyLimits, ReplyParser, ehlo_keywords


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (
            [b"220 mx.example.net ESMTP Postfix\r\n"],
            [SmtpReply(220, ("mx.example.net ESMTP Postfix",))],
        ),
        # bare LF and a bare code without text are still replies
        ([b"220 hi\n", b"250\r\n"], [SmtpReply(220, ("hi",)), SmtpReply(250, ("",))]),
        (
            [b"250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n"],
            [SmtpReply(250, ("mx.example.net", "PIPELINING", "STARTTLS"))],
        ),
        # split anywhere, even inside CRLF and inside the code
        (
            [b"25", b"0-a\r", b"\n25", b"0 b\r\n"],
            [SmtpReply(250, ("a", "b"))],
        ),
        # two replies in one read (a pipelining server)
        ([b"250 ok\r\n221 bye\r\n"], [SmtpReply(250, ("ok",)), SmtpReply(221, ("bye",))]),
        # 8-bit text is kept readable, not fatal
        ([b"220 caf\xc3\xa9 \xff\r\n"], [SmtpReply(220, ("café \ufffd",))]),
    ],
)
def test_frames_replies(chunks: list[bytes], expected: list[SmtpReply]) -> None:
    parser = ReplyParser()
    replies = []
    for chunk in chunks:
        replies.extend(parser.feed(chunk))
    assert replies == expected
    assert not parser.pending


def test_incomplete_reply_is_pending() -> None:
    parser = ReplyParser()
    assert parser.feed(b"250-first\r\n250-sec") == []
    assert parser.pending


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n", "not an SMTP reply"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "not an SMTP reply"),
        (b"2\r\n", "not an SMTP reply"),
        (b"250-a\r\n251 b\r\n", "changed"),
        (b"220_hello\r\n", "separator"),
        (b"999 nope\r\n", "out of range"),
        (b"120 wait\r\n", "out of range"),
    ],
)
def test_rejects_what_is_not_smtp(data: bytes, message: str) -> None:
    with pytest.raises(SmtpProtocolError, match=message):
        ReplyParser().feed(data)


def test_refuses_a_line_longer_than_the_limit_before_it_ends() -> None:
    parser = ReplyParser(ReplyLimits(max_line_length=100))
    assert parser.feed(b"220 " + b"x" * 90) == []  # not yet over the limit: keep waiting
    with pytest.raises(SmtpProtocolError, match="longer than 100"):
        parser.feed(b"x" * 20)


def test_refuses_an_endless_multiline_reply() -> None:
    parser = ReplyParser(ReplyLimits(max_reply_lines=10))
    with pytest.raises(SmtpProtocolError, match="10 lines"):
        parser.feed(b"220-still greeting\r\n" * 20)


def test_refuses_a_reply_over_the_byte_limit() -> None:
    parser = ReplyParser(ReplyLimits(max_reply_bytes=1000, max_reply_lines=10_000))
    with pytest.raises(SmtpProtocolError, match="1000 bytes"):
        parser.feed((b"250-" + b"y" * 50 + b"\r\n") * 100)


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1", b"SSH-2.0-", b"\x16\x03\x01\x02\x00", b"2x"])
def test_says_not_smtp_before_a_line_ends(data: bytes) -> None:
    with pytest.raises(NotSmtpError):
        ReplyParser().feed(data)


def test_a_huge_smtp_line_is_a_protocol_error_not_not_smtp() -> None:
    with pytest.raises(SmtpProtocolError, match="longer than") as caught:
        ReplyParser().feed(b"220 " + b"x" * 10_000)
    assert not isinstance(caught.value, NotSmtpError)


def test_take_unparsed_returns_bytes_after_the_last_reply() -> None:
    parser = ReplyParser()
    assert parser.feed(b"220 go ahead\r\n\x16\x03\x01") == [SmtpReply(220, ("go ahead",))]
    assert parser.take_unparsed() == b"\x16\x03\x01"
    assert not parser.pending


def test_ehlo_keywords_skip_the_greeting_line_and_upper_case() -> None:
    reply = SmtpReply(250, ("mx.example.net Hello", "pipelining", "SIZE 10240000", "StartTLS", ""))
    assert ehlo_keywords(reply) == ("PIPELINING", "SIZE", "STARTTLS")
